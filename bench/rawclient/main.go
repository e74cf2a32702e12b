// Command rawclient is the cost floor bench/cost.sh measures sioload
// against: N Socket.IO v5 clients that frame every packet by hand on
// fasthttp/websocket (WebSocket) or a bare fasthttp.Client (long-polling),
// each emitting an event with an ack at a fixed rate, with none of the
// client library's bookkeeping (no hooks, no metrics, no reconnection).
// It does the same work per round trip that sioload's emit_ack step asks
// of the server: handshake, connect "/", then emit + ack, answering pings.
//
// It prints one line: "acks N timeouts N errors N connected N".
// CPU is measured from outside (bash's time), as for sioload.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

var (
	target    = flag.String("target", "http://127.0.0.1:3000", "server URL (host and port; path /socket.io/)")
	mode      = flag.String("transport", "websocket", "websocket or polling")
	clients   = flag.Int("clients", 100, "clients")
	rate      = flag.Float64("rate", 10, "emits per second per client")
	ramp      = flag.Duration("ramp", 5*time.Second, "time over which clients start")
	hold      = flag.Duration("hold", 20*time.Second, "time every client keeps emitting after the ramp")
	grace     = flag.Duration("grace", 5*time.Second, "wait for outstanding acks after the hold")
	event     = flag.String("event", "echo-ack", "event name")
	payload   = flag.Int("payload", 64, "bytes of the string argument")
	ackTimout = flag.Duration("timeout", 10*time.Second, "an ack later than this counts as a timeout")
)

var acks, timeouts, errs, connected atomic.Int64

func main() {
	flag.Parse()
	host := *target
	for _, p := range []string{"http://", "ws://"} {
		host = trimPrefix(host, p)
	}
	if i := bytes.IndexByte([]byte(host), '/'); i >= 0 {
		host = host[:i]
	}
	pad := bytes.Repeat([]byte("x"), *payload)
	start := time.Now()
	stopAt := start.Add(*ramp + *hold)
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		at := start.Add(time.Duration(float64(*ramp) * float64(i) / float64(*clients)))
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if *mode == "polling" {
				err = runPolling(host, pad, stopAt)
			} else {
				err = runWebSocket(host, pad, stopAt)
			}
			if err != nil {
				errs.Add(1)
				fmt.Fprintln(os.Stderr, "rawclient:", err)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("acks %d timeouts %d errors %d connected %d\n", acks.Load(), timeouts.Load(), errs.Load(), connected.Load())
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// emitFrame appends the Engine.IO message `42<id>["event","xxx",{"seq":id}]`.
func emitFrame(dst []byte, id int, pad []byte) []byte {
	dst = append(dst, "42"...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, `["`...)
	dst = append(dst, *event...)
	dst = append(dst, `","`...)
	dst = append(dst, pad...)
	dst = append(dst, `",{"seq":`...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, "}]"...)
	return dst
}

// pending tracks the send time of each outstanding ack id of one client.
type pending struct {
	mu sync.Mutex
	m  map[int]time.Time
}

func (p *pending) add(id int) {
	p.mu.Lock()
	p.m[id] = time.Now()
	p.mu.Unlock()
}

// done records the ack of id (packet "43<id>[...]").
func (p *pending) done(pkt []byte) {
	if len(pkt) < 3 || pkt[0] != '4' || pkt[1] != '3' {
		return
	}
	j := 2
	for j < len(pkt) && pkt[j] >= '0' && pkt[j] <= '9' {
		j++
	}
	id, _ := strconv.Atoi(string(pkt[2:j]))
	p.mu.Lock()
	t, ok := p.m[id]
	delete(p.m, id)
	p.mu.Unlock()
	if !ok {
		return
	}
	if time.Since(t) > *ackTimout {
		timeouts.Add(1)
	} else {
		acks.Add(1)
	}
}

func (p *pending) left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

func runWebSocket(host string, pad []byte, stopAt time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d := websocket.Dialer{ReadBufferSize: 2048, WriteBufferSize: 2048}
	conn, _, err := d.DialContext(ctx, "ws://"+host+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, m, err := conn.ReadMessage(); err != nil || len(m) == 0 || m[0] != '0' {
		return fmt.Errorf("handshake: %q %v", m, err)
	}
	var wmu sync.Mutex
	write := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return conn.WriteMessage(websocket.TextMessage, b)
	}
	if err := write([]byte("40")); err != nil {
		return err
	}
	if _, m, err := conn.ReadMessage(); err != nil || !bytes.HasPrefix(m, []byte("40")) {
		return fmt.Errorf("connect: %q %v", m, err)
	}
	connected.Add(1)
	p := &pending{m: map[int]time.Time{}}
	readDone := make(chan error, 1)
	go func() {
		for {
			_, m, err := conn.ReadMessage()
			if err != nil {
				readDone <- err
				return
			}
			switch {
			case len(m) == 1 && m[0] == '2':
				write([]byte("3"))
			case len(m) > 1 && m[0] == '4':
				p.done(m)
			}
		}
	}()
	buf := make([]byte, 0, 256)
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	for id := 0; time.Now().Before(stopAt); id++ {
		buf = emitFrame(buf[:0], id, pad)
		p.add(id)
		if err := write(buf); err != nil {
			return err
		}
		select {
		case <-tick.C:
		case err := <-readDone:
			return err
		}
	}
	for end := time.Now().Add(*grace); p.left() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	timeouts.Add(int64(p.left()))
	return nil
}

// pollClient is one long-polling session: one GET loop, POSTs serialised.
var httpClient = &fasthttp.Client{MaxConnsPerHost: 1 << 20, MaxIdleConnDuration: 3 * time.Second}

func runPolling(host string, pad []byte, stopAt time.Time) error {
	base := "http://" + host + "/socket.io/?EIO=4&transport=polling"
	get := func(url string, dst []byte, deadline time.Time) ([]byte, error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		if err := httpClient.DoDeadline(req, resp, deadline); err != nil {
			return dst, err
		}
		if resp.StatusCode() != 200 {
			return dst, fmt.Errorf("GET %d %q", resp.StatusCode(), resp.Body())
		}
		return append(dst, resp.Body()...), nil
	}
	var pmu sync.Mutex
	post := func(url string, body []byte) error {
		pmu.Lock()
		defer pmu.Unlock()
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		req.Header.SetMethod("POST")
		req.Header.SetContentType("text/plain;charset=UTF-8")
		req.SetBodyRaw(body)
		if err := httpClient.DoDeadline(req, resp, time.Now().Add(50*time.Second)); err != nil {
			return err
		}
		if resp.StatusCode() != 200 {
			return fmt.Errorf("POST %d %q", resp.StatusCode(), resp.Body())
		}
		return nil
	}
	hs, err := get(base, nil, time.Now().Add(20*time.Second))
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	i := bytes.Index(hs, []byte(`"sid":"`))
	if len(hs) == 0 || hs[0] != '0' || i < 0 {
		return fmt.Errorf("handshake: %q", hs)
	}
	sid := hs[i+7:]
	sid = sid[:bytes.IndexByte(sid, '"')]
	url := base + "&sid=" + string(sid)
	if err := post(url, []byte("40")); err != nil {
		return err
	}
	p := &pending{m: map[int]time.Time{}}
	connectedCh := make(chan struct{})
	readDone := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		var body []byte
		once := false
		for {
			var err error
			body, err = get(url, body[:0], time.Now().Add(46*time.Second))
			if err != nil {
				readDone <- err
				return
			}
			for _, pkt := range bytes.Split(body, []byte{0x1e}) {
				switch {
				case len(pkt) == 1 && pkt[0] == '2':
					post(url, []byte("3"))
				case len(pkt) > 1 && pkt[0] == '4' && pkt[1] == '0' && !once:
					once = true
					close(connectedCh)
				case len(pkt) > 1 && pkt[0] == '4':
					p.done(pkt)
				case len(pkt) == 1 && pkt[0] == '1':
					readDone <- fmt.Errorf("server closed the session")
					return
				}
			}
			select {
			case <-stop:
				readDone <- nil
				return
			default:
			}
		}
	}()
	select {
	case <-connectedCh:
	case err := <-readDone:
		return fmt.Errorf("connect: %v", err)
	}
	connected.Add(1)
	buf := make([]byte, 0, 256)
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	for id := 0; time.Now().Before(stopAt); id++ {
		buf = emitFrame(buf[:0], id, pad)
		p.add(id)
		if err := post(url, buf); err != nil {
			return err
		}
		select {
		case <-tick.C:
		case err := <-readDone:
			return err
		}
	}
	for end := time.Now().Add(*grace); p.left() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	timeouts.Add(int64(p.left()))
	close(stop)
	post(url, []byte("1")) // close packet: ends the pending GET
	return nil
}
