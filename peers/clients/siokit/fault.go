package main

// The fault-injecting client: with SIOKIT_FAULT set, this program is siokit's client with one
// protocol rule broken, so that the client suite can show it catches exactly that
// (internal/conform/client_fault_test.go). protocol/client knows nothing of it: no-backoff is an
// ordinary Options setting, and the wire faults are made by faultProxy, a proxy on 127.0.0.1
// between the client and sioconform's server that changes what the client sends.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/client"
)

// Faults: SIOKIT_FAULT values.
const (
	// faultNoPong drops every pong (a "3" packet) the client sends, on polling and WebSocket.
	faultNoPong = "no-pong"
	// faultTwoPolls sends a second, identical GET alongside every long poll of the session.
	faultTwoPolls = "two-polls"
	// faultOversizeBatch answers the client's POSTs at once and sends what they carried
	// upstream as one batch per batchWindow, however far past maxPayload that goes.
	faultOversizeBatch = "oversize-batch"
	// faultNoBackoff reconnects every noBackoffDelay: no growth, no jitter, no cap reached.
	faultNoBackoff = "no-backoff"
)

// faults lists the SIOKIT_FAULT values, for the refusal of an unknown one.
var faults = []string{faultNoPong, faultTwoPolls, faultOversizeBatch, faultNoBackoff}

const (
	// batchWindow is how long faultOversizeBatch gathers POST bodies: long enough for every
	// packet of a burst of emits, short against any case's timeout.
	batchWindow = 100 * time.Millisecond
	// pairLead is how long faultTwoPolls keeps a POST back after the last pair of GETs went out,
	// and postWaitMax how long at most (a client that is upgrading may not poll at all): the pair
	// reaches the server before the packets the client sends meanwhile, so the server has seen
	// the second GET before it sees what the client does next.
	pairLead    = 30 * time.Millisecond
	postWaitMax = 300 * time.Millisecond
	// noBackoffDelay is faultNoBackoff's delay between attempts: far below the reference
	// client's 1 s ± 50 %, yet not a busy loop.
	noBackoffDelay = 10 * time.Millisecond
)

// applyFault sets the program up for fault: it returns the URL the client must connect to (a
// proxy's, for the wire faults) after changing opts. An unknown fault exits 2.
func applyFault(fault, target string, opts *client.Options) string {
	switch fault {
	case faultNoBackoff:
		opts.Reconnect = client.Reconnect{Delay: noBackoffDelay, DelayMax: noBackoffDelay, Randomization: -1}
		return target
	case faultNoPong, faultTwoPolls, faultOversizeBatch:
		p, err := startFaultProxy(fault, target)
		if err != nil {
			fail("SIOKIT_FAULT=%s: %v", fault, err)
		}
		logf("SIOKIT_FAULT=%s: through %s", fault, p.URL())
		return p.URL()
	}
	fail("unknown SIOKIT_FAULT=%q (want one of %s)", fault, strings.Join(faults, ", "))
	return ""
}

// faultProxy forwards the client's requests to the server, changing them as its fault says.
// The server's answers come back unchanged.
type faultProxy struct {
	fault    string
	upstream *url.URL
	ln       net.Listener
	hc       *http.Client

	mu      sync.Mutex
	early   [][]byte   // two-polls: payloads the second GETs got, for the client's next GET
	pairAt  time.Time  // two-polls: when the last pair of GETs went out
	batch   [][]byte   // oversize-batch: bodies gathered for the next upstream POST
	batchTo string     // oversize-batch: the request URI they go to
	sending sync.Mutex // oversize-batch: one upstream POST at a time
}

// startFaultProxy listens on 127.0.0.1:0 in front of target.
func startFaultProxy(fault, target string) (*faultProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad SIOCONFORM_URL %q", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &faultProxy{fault: fault, upstream: u, ln: ln, hc: &http.Client{Transport: &http.Transport{
		// The client's own Accept-Encoding, if any, goes through as it is.
		DisableCompression: true, MaxIdleConnsPerHost: 8,
	}}}
	go func() { _ = http.Serve(ln, p) }()
	return p, nil
}

// URL is the origin the client connects to instead of the server's.
func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// ServeHTTP forwards one request: a WebSocket as a byte stream, a poll as a request.
func (p *faultProxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		p.tunnel(w, req)
		return
	}
	q := req.URL.Query()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	session := q.Has("sid") && q.Get("transport") == "polling"
	v4 := q.Get("EIO") != "3"
	switch {
	case session && req.Method == http.MethodPost && p.fault == faultNoPong && v4:
		body = dropPongs(body)
		if len(body) == 0 {
			ok(w)
			return
		}
	case session && req.Method == http.MethodPost && p.fault == faultOversizeBatch && v4 &&
		req.Header.Get("Content-Type") != "application/octet-stream":
		p.gather(req.URL.RequestURI(), body)
		ok(w)
		return
	case session && req.Method == http.MethodGet && p.fault == faultTwoPolls:
		p.twoPolls(w, req)
		return
	case session && req.Method == http.MethodPost && p.fault == faultTwoPolls:
		p.afterPair()
	}
	p.forward(w, req, body)
}

// ok is the server's answer to a POST, given by the proxy for one it did not forward.
func ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte("ok"))
}

// roundTrip sends req's method, URI and headers with body to the server.
func (p *faultProxy) roundTrip(req *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(req.Context(), req.Method, p.upstream.Scheme+"://"+p.upstream.Host+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		out.Header[k] = vs
	}
	return p.hc.Do(out)
}

// forward sends the request on and copies the answer back.
func (p *faultProxy) forward(w http.ResponseWriter, req *http.Request, body []byte) {
	resp, err := p.roundTrip(req, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// polled is what one upstream GET got.
type polled struct {
	status int
	header http.Header
	body   []byte
}

// twoPolls sends the client's long poll twice at once. The client gets the first answer that
// carries packets (or, if neither does, the last answer); a payload the other GET gets later
// waits for the client's next GET, answered at once. So packets keep the order in which the
// server answered, none is lost, and only the one-GET rule is broken.
func (p *faultProxy) twoPolls(w http.ResponseWriter, req *http.Request) {
	p.mu.Lock()
	if len(p.early) > 0 {
		body := p.early[0]
		p.early = p.early[1:]
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write(body)
		return
	}
	p.pairAt = time.Now()
	p.mu.Unlock()
	answers := make(chan polled, 2)
	for range 2 {
		// Not cancelled with the client's request: a payload must not be lost with it.
		get, err := http.NewRequestWithContext(context.WithoutCancel(req.Context()), http.MethodGet, req.URL.String(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		get.Header = req.Header.Clone()
		go func() {
			resp, err := p.roundTrip(get, nil)
			if err != nil {
				answers <- polled{status: http.StatusBadGateway, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				resp.StatusCode = http.StatusBadGateway
			}
			answers <- polled{resp.StatusCode, resp.Header, b}
		}()
	}
	keepLater := func(n int) {
		// The n answers still to come: those with packets are the client's next.
		go func() {
			for range n {
				if a := <-answers; a.status == http.StatusOK && len(a.body) > 0 {
					p.mu.Lock()
					p.early = append(p.early, a.body)
					p.mu.Unlock()
				}
			}
		}()
	}
	var last polled
	for i := range 2 {
		select {
		case last = <-answers:
		case <-req.Context().Done():
			keepLater(2 - i)
			return
		}
		if last.status == http.StatusOK && len(last.body) > 0 {
			keepLater(1 - i)
			break
		}
	}
	for k, vs := range last.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(last.status)
	_, _ = w.Write(last.body)
}

// afterPair waits until a pair of GETs went out pairLead ago, or postWaitMax has passed.
func (p *faultProxy) afterPair() {
	deadline := time.Now().Add(postWaitMax)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		at := p.pairAt
		p.mu.Unlock()
		if !at.IsZero() && time.Since(at) >= pairLead {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gather keeps a POST body for the next batch, starting the batch's timer if it is the first.
func (p *faultProxy) gather(uri string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch = append(p.batch, body)
	p.batchTo = uri
	if len(p.batch) == 1 {
		time.AfterFunc(batchWindow, p.sendBatch)
	}
}

// sendBatch POSTs every gathered body as one payload (packets joined by the record separator).
func (p *faultProxy) sendBatch() {
	p.sending.Lock()
	defer p.sending.Unlock()
	p.mu.Lock()
	bodies, uri := p.batch, p.batchTo
	p.batch = nil
	p.mu.Unlock()
	if len(bodies) == 0 {
		return
	}
	resp, err := p.hc.Post(p.upstream.Scheme+"://"+p.upstream.Host+uri, "text/plain;charset=UTF-8", bytes.NewReader(bytes.Join(bodies, []byte{0x1e})))
	if err != nil {
		logf("SIOKIT_FAULT=%s: batch POST: %v", p.fault, err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// dropPongs removes the pong packets ("3") from an Engine.IO v4 polling payload.
func dropPongs(body []byte) []byte {
	var keep [][]byte
	for _, pkt := range bytes.Split(body, []byte{0x1e}) {
		if string(pkt) != "3" {
			keep = append(keep, pkt)
		}
	}
	return bytes.Join(keep, []byte{0x1e})
}

// tunnel carries a WebSocket: the upgrade request goes to the server as it came, then bytes
// flow both ways, the client's through filterFrames under no-pong.
func (p *faultProxy) tunnel(w http.ResponseWriter, req *http.Request) {
	hj, can := w.(http.Hijacker)
	if !can {
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	up, err := net.Dial("tcp", p.upstream.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "GET %s HTTP/1.1\r\nHost: %s\r\n", req.URL.RequestURI(), p.upstream.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := up.Write(head.Bytes()); err != nil {
		up.Close()
		down.Close()
		return
	}
	go func() {
		_, _ = io.Copy(down, up)
		down.Close()
	}()
	// rw.Reader holds whatever the client sent past the request.
	if p.fault == faultNoPong && req.URL.Query().Get("EIO") != "3" {
		_ = filterFrames(up, rw.Reader)
	} else {
		_, _ = io.Copy(up, rw.Reader)
	}
	up.Close()
}

// filterFrames copies the client's WebSocket frames to dst, leaving out every unfragmented text
// frame whose payload is "3" (a pong). Client frames are masked (RFC 6455 §5.3).
func filterFrames(dst io.Writer, src *bufio.Reader) error {
	for {
		var hdr [14]byte
		if _, err := io.ReadFull(src, hdr[:2]); err != nil {
			return err
		}
		n := 2
		length := uint64(hdr[1] & 0x7f)
		switch length {
		case 126:
			if _, err := io.ReadFull(src, hdr[2:4]); err != nil {
				return err
			}
			length, n = uint64(binary.BigEndian.Uint16(hdr[2:4])), 4
		case 127:
			if _, err := io.ReadFull(src, hdr[2:10]); err != nil {
				return err
			}
			length, n = binary.BigEndian.Uint64(hdr[2:10]), 10
		}
		if hdr[1]&0x80 != 0 {
			if _, err := io.ReadFull(src, hdr[n:n+4]); err != nil {
				return err
			}
			n += 4
		}
		if length > 64<<20 {
			return fmt.Errorf("frame of %d bytes", length)
		}
		payload := make([]byte, length)
		if _, err := io.ReadFull(src, payload); err != nil {
			return err
		}
		if hdr[0] == 0x81 && length == 1 && hdr[1]&0x80 != 0 && payload[0]^hdr[n-4] == '3' {
			continue // a pong: dropped
		}
		if _, err := dst.Write(append(hdr[:n:n], payload...)); err != nil {
			return err
		}
	}
}
