// Package faultproxy is a misbehaving Socket.IO server for testing the
// tester: a proxy in front of a real server that breaks one protocol rule
// on purpose (drops pongs, never pings, corrupts ack ids, ...), so that
// sioconform's tests can check that exactly the matching cases fail.
// It speaks Engine.IO v4 and v3 over polling and WebSocket, on loopback
// only, and is used by tests alone.
package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/engineio"
)

// Fault names one way the proxy breaks the protocol.
type Fault string

// The faults the proxy can inject.
const (
	// DropPongs swallows the client's heartbeat answers (v4 "3"); the
	// server then closes sessions for missing pongs.
	DropPongs Fault = "drop-pongs"
	// NoPings hides the server's heartbeat from the client (v4 "2"): over
	// polling each ping becomes a noop, over WebSocket it is dropped.
	NoPings Fault = "no-pings"
	// CorruptAckIDs adds one to the id of every ACK the server sends.
	CorruptAckIDs Fault = "corrupt-ack-ids"
	// SIOSidIsEIOSid replaces the Socket.IO sid in CONNECT replies by the
	// Engine.IO sid (the spec wants them distinct).
	SIOSidIsEIOSid Fault = "sio-sid-is-eio-sid"
	// IgnorePayloadLimit answers over-size POSTs with "ok" instead of 413.
	IgnorePayloadLimit Fault = "ignore-payload-limit"
	// AcceptSecondPoll lets a second concurrent GET wait instead of
	// failing it and closing the session.
	AcceptSecondPoll Fault = "accept-second-poll"
	// ReorderEvents swaps two Socket.IO EVENTs the server sends on one
	// WebSocket within holdFor of each other (Socket.IO guarantees the
	// order of one connection's messages).
	ReorderEvents Fault = "reorder-events"
	// JoinFrames sends two Engine.IO message packets the server sends on
	// one WebSocket within holdFor of each other in one frame, joined with
	// the record separator as over polling (the v4 spec sends each packet
	// in its own frame). Only messages that are not Socket.IO packets
	// (their text does not start with a digit) are joined, so that the
	// fault shows in the Engine.IO cases that check the framing, not in
	// every Socket.IO case at its CONNECT reply.
	JoinFrames Fault = "join-frames"
)

// holdFor is how long ReorderEvents and JoinFrames hold a server frame
// for a second one to swap or join it with. The echo of back-to-back
// client frames comes well within it on loopback.
const holdFor = 50 * time.Millisecond

// Proxy is a running fault proxy.
type Proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:<port>.
	URL    string
	srv    *httptest.Server
	target string
	fault  Fault
	client *http.Client

	mu      sync.Mutex
	pending map[string]int // sid -> GETs in flight
	sids    map[string]bool
}

// MaxPayload is the POST size above which IgnorePayloadLimit answers "ok"
// itself (the contract servers' maxHttpBufferSize).
const MaxPayload = 1000000

// Start proxies to target (host:port) injecting fault; Close stops it.
func Start(target string, fault Fault) *Proxy {
	p := &Proxy{target: target, fault: fault, pending: map[string]int{}, sids: map[string]bool{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p
}

// Close stops the proxy and drops every connection.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

func eioVersion(r *http.Request) engineio.Version {
	if r.URL.Query().Get("EIO") == "3" {
		return engineio.V3
	}
	return engineio.V4
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		p.serveWebSocket(w, r)
		return
	}
	v := eioVersion(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	sid := r.URL.Query().Get("sid")
	if r.Method == http.MethodPost && p.fault == IgnorePayloadLimit && len(body) > MaxPayload {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "ok")
		return
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/octet-stream" {
		body = p.mutatePayload(v, body, true, sid)
	}
	if r.Method == http.MethodGet && sid != "" && p.fault == AcceptSecondPoll {
		// Serialise GETs per session so the server never sees the overlap.
		p.waitTurn(sid)
		defer p.doneTurn(sid)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	binary := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/octet-stream")
	if resp.StatusCode == http.StatusOK && r.Method == http.MethodGet && !binary {
		rb = p.mutatePayload(v, rb, false, sid)
	}
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, val := range vs {
			w.Header().Add(k, val)
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(rb)
}

func (p *Proxy) waitTurn(sid string) {
	for {
		p.mu.Lock()
		if p.pending[sid] == 0 {
			p.pending[sid]++
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *Proxy) doneTurn(sid string) {
	p.mu.Lock()
	p.pending[sid]--
	p.mu.Unlock()
}

// mutatePayload rewrites a polling body; toServer tells the direction.
// Bodies that do not decode are passed through untouched: the server
// must see the client's malformed input as it was.
func (p *Proxy) mutatePayload(v engineio.Version, body []byte, toServer bool, sid string) []byte {
	pkts, err := engineio.DecodePayload(v, body, false)
	if err != nil || len(pkts) == 0 {
		return body
	}
	out := pkts[:0:0]
	changed := false
	for _, pk := range pkts {
		np, keep := p.mutate(pk, toServer, true, sid)
		if !keep || !bytes.Equal(np.Data, pk.Data) || np.Type != pk.Type {
			changed = true
		}
		if keep {
			out = append(out, np)
		}
	}
	if !changed {
		return body
	}
	if len(out) == 0 {
		out = append(out, engineio.Packet{Type: engineio.Noop})
	}
	return engineio.AppendPayload(nil, v, out)
}

var (
	sioSidRe = regexp.MustCompile(`"sid":"[^"]*"`)
	ackIDRe  = regexp.MustCompile(`^(?:3|6\d+-)((?:/[^,]*,)?)(\d+)`)
)

// mutate applies the fault to one packet; keep=false drops it.
func (p *Proxy) mutate(pk engineio.Packet, toServer, polling bool, sid string) (engineio.Packet, bool) {
	switch p.fault {
	case DropPongs:
		if toServer && pk.Type == engineio.Pong && string(pk.Data) != "probe" {
			return pk, false
		}
	case NoPings:
		if !toServer && pk.Type == engineio.Ping && string(pk.Data) != "probe" {
			if polling {
				return engineio.Packet{Type: engineio.Noop}, true
			}
			return pk, false
		}
	case CorruptAckIDs:
		if !toServer && pk.Type == engineio.Message && !pk.Binary {
			if m := ackIDRe.FindSubmatchIndex(pk.Data); m != nil {
				id, _ := strconv.Atoi(string(pk.Data[m[4]:m[5]]))
				d := append([]byte{}, pk.Data[:m[4]]...)
				d = strconv.AppendInt(d, int64(id+1), 10)
				pk.Data = append(d, pk.Data[m[5]:]...)
			}
		}
	case SIOSidIsEIOSid:
		if !toServer && pk.Type == engineio.Message && sid != "" && bytes.HasPrefix(pk.Data, []byte("0")) {
			pk.Data = sioSidRe.ReplaceAll(pk.Data, []byte(`"sid":"`+sid+`"`))
		}
	}
	return pk, true
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (p *Proxy) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	v := eioVersion(r)
	hdr := http.Header{}
	for _, k := range []string{"Cookie", "Origin", "Authorization"} {
		if val := r.Header.Get(k); val != "" {
			hdr.Set(k, val)
		}
	}
	up, resp, err := websocket.DefaultDialer.Dial("ws://"+p.target+r.URL.RequestURI(), hdr)
	if err != nil {
		// Mirror the server's refusal so the client sees what it would.
		status, body := http.StatusBadGateway, []byte(err.Error())
		if resp != nil {
			status = resp.StatusCode
			body, _ = io.ReadAll(resp.Body)
		}
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	down, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		up.Close()
		return
	}
	sid := r.URL.Query().Get("sid")
	var once sync.Once
	closeBoth := func(code int) {
		once.Do(func() {
			msg := websocket.FormatCloseMessage(code, "")
			if code == websocket.CloseNoStatusReceived || code == websocket.CloseAbnormalClosure {
				msg = []byte{}
			}
			down.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			up.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			down.Close()
			up.Close()
		})
	}
	// Each direction keeps its own copy of the sid: the server-to-client
	// one learns it from the open packet of a WebSocket-only session.
	pipe := func(from, to *websocket.Conn, toServer bool, sid string) {
		for {
			mt, data, err := from.ReadMessage()
			if err != nil {
				code := websocket.CloseAbnormalClosure
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					code = ce.Code
				}
				closeBoth(code)
				return
			}
			pk, perr := engineio.ParseFrame(v, data, mt == websocket.BinaryMessage)
			if perr == nil {
				if sid == "" && !toServer && pk.Type == engineio.Open {
					if hs, err := engineio.ParseHandshake(pk.Data); err == nil {
						sid = hs.SID
					}
				}
				np, keep := p.mutate(pk, toServer, false, sid)
				if !keep {
					continue
				}
				data, _ = engineio.AppendFrame(nil, v, np)
			}
			if err := to.WriteMessage(mt, data); err != nil {
				closeBoth(websocket.CloseAbnormalClosure)
				return
			}
		}
	}
	if p.fault == ReorderEvents || p.fault == JoinFrames {
		go p.pipeHeld(up, down, v, closeBoth)
	} else {
		go pipe(up, down, false, sid)
	}
	pipe(down, up, true, sid)
}

// wsFrame is one WebSocket message read by pipeHeld.
type wsFrame struct {
	mt   int
	data []byte
	err  error
}

// pipeHeld copies the server's frames to the client for ReorderEvents and
// JoinFrames: a frame the fault applies to is held up to holdFor; if a
// second such frame comes in that time, the two go out swapped (reorder)
// or as one frame (join); else the held one goes out as it was.
func (p *Proxy) pipeHeld(from, to *websocket.Conn, v engineio.Version, closeBoth func(int)) {
	frames := make(chan wsFrame)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			mt, data, err := from.ReadMessage()
			select {
			case frames <- wsFrame{mt, data, err}:
			case <-done: // the writer gave up; closeBoth ends the reads
				return
			}
			if err != nil {
				return
			}
		}
	}()
	applies := func(f wsFrame) bool {
		if f.mt != websocket.TextMessage {
			return false
		}
		pk, err := engineio.ParseFrame(v, f.data, false)
		if err != nil || pk.Type != engineio.Message || pk.Binary || len(pk.Data) == 0 {
			return false
		}
		if p.fault == ReorderEvents {
			return pk.Data[0] == '2' // a Socket.IO EVENT
		}
		return pk.Data[0] < '0' || pk.Data[0] > '9'
	}
	write := func(data []byte) bool {
		if err := to.WriteMessage(websocket.TextMessage, data); err != nil {
			closeBoth(websocket.CloseAbnormalClosure)
			return false
		}
		return true
	}
	var held []byte
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-timer.C:
			if held != nil && !write(held) {
				return
			}
			held = nil
		case f := <-frames:
			if f.err != nil {
				if held != nil {
					write(held)
				}
				code := websocket.CloseAbnormalClosure
				var ce *websocket.CloseError
				if errors.As(f.err, &ce) {
					code = ce.Code
				}
				closeBoth(code)
				return
			}
			switch {
			case held != nil && applies(f):
				timer.Stop()
				var ok bool
				if p.fault == ReorderEvents {
					ok = write(f.data) && write(held)
				} else {
					ok = write(append(append(held, 0x1e), f.data...))
				}
				if !ok {
					return
				}
				held = nil
			case applies(f):
				held = f.data
				timer.Reset(holdFor)
			default:
				if held != nil {
					timer.Stop()
					if !write(held) {
						return
					}
					held = nil
				}
				if err := to.WriteMessage(f.mt, f.data); err != nil {
					closeBoth(websocket.CloseAbnormalClosure)
					return
				}
			}
		}
	}
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.srv.Listener.Addr().(*net.TCPAddr).String() }
