package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// scriptServer is the server a client case plays (docs/conformance.md §6.7):
// a real HTTP listener on 127.0.0.1:0 that decides nothing on its own. Every
// handshake request, every packet the client POSTs or writes on its
// WebSocket, and every protocol slip the server can see (a second GET in
// flight) becomes one inbox item, read in order by the srv_* steps; GETs are
// held until a step sends something. So a case says, packet by packet, what
// the server does and what the client must do next.
type scriptServer struct {
	eio  int
	path string
	ln   net.Listener
	hs   *http.Server
	r    *runner

	inbox chan srvItem
	back  []srvItem // items a srv_expect with among set aside, read first

	mu       sync.Mutex
	sid      string            // the accepted session's id; "" before srv_accept
	closed   bool              // srv_close: the session is gone, requests get 400
	held     *heldGET          // the GET in flight, at most one
	queue    []engineio.Packet // packets for the next GET
	ws       *websocket.Conn   // the session's WebSocket, once opened
	wsMu     sync.Mutex        // serialises WebSocket writes
	upgraded bool              // packets go on the WebSocket (see onWS)
	upgrades []string          // what the accepted handshake offered
	posts    int               // POSTs being answered (srv_post_delay makes them last)
	postWait time.Duration     // how long a POST's answer waits (srv_post_delay)
	mark     time.Time         // the server's last close or refusal, for reconnection gaps
	wg       sync.WaitGroup
}

// srvItem is one thing the client did, in arrival order.
type srvItem struct {
	at    time.Time
	via   string          // "poll" or "ws"
	frame transport.Frame // a packet as a WebSocket frame would carry it
	hs    *handshakeReq   // a handshake request (no sid), waiting for srv_accept
	event string          // a protocol slip the server saw, e.g. a second GET in flight
	body  int             // a polled packet: the size in bytes of the POST body it came in
}

// describe is the item as messages show it.
func (it srvItem) describe() string {
	switch {
	case it.hs != nil:
		return "a new handshake request (" + requestLine(it.hs.req.Method, it.hs.req.URL.String()) + ")"
	case it.event != "":
		return it.event
	}
	return frameText(it.frame) + " (" + it.via + ")"
}

// handshakeReq is a request without sid, held until srv_accept answers it
// (or the case ends).
type handshakeReq struct {
	req    *http.Request
	answer chan func(http.ResponseWriter, *http.Request)
}

// heldGET is a long-polling GET the server has not answered yet.
type heldGET struct {
	answer chan []byte // the payload to answer with; closed = 400
}

// startScriptServer listens on 127.0.0.1:0 for one case.
func startScriptServer(r *runner) (*scriptServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("conform: client server: %w", err)
	}
	s := &scriptServer{eio: r.c.EIO, path: r.c.Path, ln: ln, r: r, inbox: make(chan srvItem, 1024)}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// URL is the origin the client program connects to.
func (s *scriptServer) URL() string { return "http://" + s.ln.Addr().String() }

// shutdown closes the listener and every connection, releasing held
// requests, and waits for the WebSocket reader.
func (s *scriptServer) shutdown() {
	if ws := s.release(); ws != nil {
		_ = ws.Close()
	}
	_ = s.hs.Close()
	s.wg.Wait()
}

// release ends the session for shutdown and srv_close alike: later
// requests are refused, a held GET is answered, and the WebSocket is
// detached and returned for the caller to close its own way.
func (s *scriptServer) release() *websocket.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.mark = true, time.Now()
	if s.held != nil {
		close(s.held.answer)
		s.held = nil
	}
	ws := s.ws
	s.ws = nil
	return ws
}

// push adds an item to the inbox. Past 1024 unread items the rest are
// dropped rather than blocking the server: no case reads that far, and the
// step waiting meanwhile fails on what it got.
func (s *scriptServer) push(it srvItem) {
	if it.at.IsZero() {
		it.at = time.Now()
	}
	select {
	case s.inbox <- it:
	default:
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// ServeHTTP is the whole server: handshakes wait for srv_accept, POSTs are
// taken apart into packets and answered "ok", GETs are held, WebSocket
// upgrades of the session are accepted.
func (s *scriptServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	if req.URL.Path != s.path {
		s.r.addTrace(time.Now(), "recv", "http", "", requestLine(req.Method, req.URL.String())+" (wrong path)")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	sid := q.Get("sid")
	if !q.Has("sid") {
		s.r.addTrace(time.Now(), "recv", "http", "", requestLine(req.Method, req.URL.String()))
		hr := &handshakeReq{req: req, answer: make(chan func(http.ResponseWriter, *http.Request), 1)}
		s.push(srvItem{hs: hr})
		select {
		case fn := <-hr.answer:
			fn(w, req)
		case <-req.Context().Done():
		}
		return
	}
	s.mu.Lock()
	known := sid == s.sid && s.sid != "" && !s.closed
	s.mu.Unlock()
	if !known {
		s.r.addTrace(time.Now(), "recv", "http", "", requestLine(req.Method, req.URL.String())+" (unknown sid: 400)")
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			s.push(srvItem{via: "poll", event: "a request with an unknown sid (" + requestLine(req.Method, req.URL.String()) + ")"})
		}
		http.Error(w, `{"code":1,"message":"Session ID unknown"}`, http.StatusBadRequest)
		return
	}
	switch {
	case q.Get("transport") == "websocket":
		s.r.addTrace(time.Now(), "recv", "ws-open", "", requestLine(req.Method, req.URL.String()))
		s.serveWS(w, req)
	case req.Method == http.MethodPost:
		s.servePost(w, req)
	case req.Method == http.MethodGet:
		s.serveGet(w, req)
	default:
		http.Error(w, "bad method", http.StatusBadRequest)
	}
}

func (s *scriptServer) servePost(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 16<<20))
	at := time.Now()
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	binary := req.Header.Get("Content-Type") == "application/octet-stream"
	s.r.addTrace(at, "recv", "http", "poll", "POST "+shorten(string(body)))
	s.mu.Lock()
	upgraded := s.upgraded
	s.posts++
	overlap, wait := s.posts > 1, s.postWait
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posts--
		s.mu.Unlock()
	}()
	if overlap {
		// engine.io-protocol v4 allows one POST at a time per session,
		// as for GETs; the slip is the case's to judge.
		s.push(srvItem{at: at, via: "poll", event: "a second POST while another POST is in flight: " + quoteShort(string(body))})
	}
	if upgraded {
		s.push(srvItem{at: at, via: "poll", event: "a polling POST after the upgrade: " + quoteShort(string(body))})
		http.Error(w, "upgraded", http.StatusBadRequest)
		return
	}
	pkts, err := decodePayload(s.eio, body, binary)
	if err != nil {
		s.push(srvItem{at: at, via: "poll", event: fmt.Sprintf("an undecodable POST body %s: %v", quoteShort(string(body)), err)})
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	for _, pk := range pkts {
		data, bin := engineio.AppendFrame(nil, eioVersion(s.eio), pk)
		s.push(srvItem{at: at, via: "poll", frame: transport.Frame{Kind: frameKind(bin), Data: data, Time: at}, body: len(body)})
	}
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-req.Context().Done():
		}
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte("ok"))
}

func (s *scriptServer) serveGet(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	if s.upgraded {
		// engine.io-protocol v4, "Upgrade": once the client has sent the
		// upgrade packet, polling is over for the session.
		s.mu.Unlock()
		s.r.addTrace(time.Now(), "recv", "http", "poll", "GET after the upgrade: 400")
		s.push(srvItem{via: "poll", event: "a polling GET after the upgrade"})
		http.Error(w, "upgraded", http.StatusBadRequest)
		return
	}
	if s.held != nil {
		// engine.io-protocol v4 §Transports/HTTP long-polling: the server
		// should close the session when a second GET arrives while one is
		// pending. The slip is the case's to judge, so it goes in the inbox.
		s.mu.Unlock()
		s.r.addTrace(time.Now(), "recv", "http", "poll", "GET (a second GET while one is held: 400)")
		s.push(srvItem{via: "poll", event: "a second GET while another GET is in flight"})
		http.Error(w, "overlap", http.StatusBadRequest)
		return
	}
	h := &heldGET{answer: make(chan []byte, 1)}
	s.held = h
	s.flushLocked()
	s.mu.Unlock()
	s.r.addTrace(time.Now(), "recv", "http", "poll", "GET (held)")
	select {
	case body, ok := <-h.answer:
		if !ok {
			http.Error(w, "session closed", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write(body)
	case <-req.Context().Done():
		s.mu.Lock()
		if s.held == h {
			s.held = nil
		}
		s.mu.Unlock()
	}
}

// flushLocked answers the held GET with the queued packets, if both exist.
func (s *scriptServer) flushLocked() {
	if s.held == nil || len(s.queue) == 0 {
		return
	}
	body := engineio.AppendPayload(nil, eioVersion(s.eio), s.queue)
	s.queue = nil
	s.held.answer <- body
	s.held = nil
}

// sendPoll queues packets for the GET in flight (or the next one).
func (s *scriptServer) sendPoll(pkts []engineio.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sid == "" || s.closed {
		return &brokenCase{"srv_send over polling before srv_accept or after srv_close"}
	}
	s.queue = append(s.queue, pkts...)
	s.flushLocked()
	return nil
}

// sendWS writes one frame on the session's WebSocket.
func (s *scriptServer) sendWS(kind transport.FrameKind, data []byte) error {
	s.mu.Lock()
	ws := s.ws
	s.mu.Unlock()
	if ws == nil {
		return mis("an open WebSocket", "none", "cannot send over WebSocket: the client has opened none")
	}
	op := websocket.TextMessage
	if kind == transport.BinaryFrame {
		op = websocket.BinaryMessage
	}
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(op, data); err != nil {
		s.r.addTrace(time.Now(), "send", "error", "ws", "write failed: "+err.Error())
	}
	return nil
}

// serveWS upgrades a request of the session and reads its frames into the
// inbox until it closes (a close becomes a close frame item).
func (s *scriptServer) serveWS(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	busy, offered := s.ws != nil, contains(s.upgrades, "websocket")
	s.mu.Unlock()
	if !offered {
		s.push(srvItem{via: "ws", event: "a WebSocket upgrade request, though the handshake offered no websocket upgrade"})
		http.Error(w, "upgrade not offered", http.StatusBadRequest)
		return
	}
	if busy {
		s.push(srvItem{via: "ws", event: "a second WebSocket for the session"})
		http.Error(w, "busy", http.StatusBadRequest)
		return
	}
	c, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		s.push(srvItem{via: "ws", event: "a failed WebSocket upgrade: " + err.Error()})
		return
	}
	s.adoptWS(c)
}

// adoptWS makes c the session's WebSocket and reads it in the background.
func (s *scriptServer) adoptWS(c *websocket.Conn) {
	c.SetReadLimit(16 << 20)
	s.mu.Lock()
	s.ws = c
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			op, data, err := c.ReadMessage()
			at := time.Now()
			if err != nil {
				f := transport.Frame{Kind: transport.CloseFrame, Code: 1006, Time: at}
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					f.Code = ce.Code
				}
				s.r.traceFrame("ws", f, "")
				s.push(srvItem{at: at, via: "ws", frame: f})
				s.mu.Lock()
				if s.ws == c {
					s.ws, s.upgraded = nil, false
				}
				s.mu.Unlock()
				return
			}
			kind := frameKind(op == websocket.BinaryMessage)
			f := transport.Frame{Kind: kind, Data: data, Time: at}
			if kind == transport.TextFrame && string(data) == "5" {
				s.mu.Lock()
				s.upgraded = true
				s.mu.Unlock()
			}
			s.r.traceFrame("ws", f, "")
			s.push(srvItem{at: at, via: "ws", frame: f})
		}
	}()
}

// awaitFirst waits, up to d, until the client has done something (an
// inbox item, left there) or exited (done closed). It reports whether the
// client did something.
func (s *scriptServer) awaitFirst(ctx context.Context, d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case it := <-s.inbox:
		s.back = append(s.back, it)
		return true
	case <-done:
		// It may have done something just before it exited.
		select {
		case it := <-s.inbox:
			s.back = append(s.back, it)
			return true
		default:
			return false
		}
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// next returns the next inbox item, skipping packets whose text is listed.
func (s *scriptServer) next(ctx context.Context, skip []string) (srvItem, error) {
	for {
		if len(s.back) > 0 {
			it := s.back[0]
			s.back = s.back[1:]
			if it.hs == nil && it.event == "" && it.frame.Kind == transport.TextFrame && contains(skip, string(it.frame.Data)) {
				continue
			}
			return it, nil
		}
		select {
		case it := <-s.inbox:
			if it.hs == nil && it.event == "" && it.frame.Kind == transport.TextFrame && contains(skip, string(it.frame.Data)) {
				continue
			}
			return it, nil
		case <-ctx.Done():
			return srvItem{}, ctx.Err()
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// openPacket is the handshake answer srv_accept sends.
func (s *scriptServer) openPacket(h engineio.Handshake) engineio.Packet {
	data, _ := h.MarshalJSON()
	return engineio.Packet{Type: engineio.Open, Data: data}
}

// answerHandshake answers a held handshake request with the open packet,
// as a polling response or on a new WebSocket.
func (s *scriptServer) answerHandshake(hr *handshakeReq, h engineio.Handshake, ws bool) {
	open := s.openPacket(h)
	s.mu.Lock()
	s.sid, s.closed, s.queue, s.upgrades = h.SID, false, nil, h.Upgrades
	s.mu.Unlock()
	if !ws {
		body := engineio.AppendPayload(nil, eioVersion(s.eio), []engineio.Packet{open})
		hr.answer <- func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			_, _ = w.Write(body)
		}
		s.r.addTrace(time.Now(), "send", "http", "poll", "200 "+shorten(string(body)))
		return
	}
	done := make(chan struct{})
	hr.answer <- func(w http.ResponseWriter, req *http.Request) {
		defer close(done)
		c, err := upgrader.Upgrade(w, req, nil)
		if err != nil {
			s.push(srvItem{via: "ws", event: "a failed WebSocket upgrade: " + err.Error()})
			return
		}
		frame, _ := engineio.AppendFrame(nil, eioVersion(s.eio), open)
		_ = c.WriteMessage(websocket.TextMessage, frame)
		s.r.addTrace(time.Now(), "send", "text", "ws", "text "+shorten(string(frame)))
		s.mu.Lock()
		s.upgraded = true
		s.mu.Unlock()
		s.adoptWS(c)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// closeSession is srv_close: the WebSocket is closed, the held GET answered
// 400, and later requests of the session get 400.
func (s *scriptServer) closeSession() {
	if ws := s.release(); ws != nil {
		s.wsMu.Lock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
		s.wsMu.Unlock()
		_ = ws.Close()
	}
}

// awaitHeld waits up to within (or until ctx ends) for a GET in flight,
// looking every 10 ms, and reports whether one came. take, when not nil,
// gets that GET under the lock, so that it cannot end between being found
// and being answered.
func (s *scriptServer) awaitHeld(ctx context.Context, within time.Duration, take func(*heldGET)) bool {
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		if h := s.held; h != nil {
			if take != nil {
				take(h)
			}
			s.mu.Unlock()
			return true
		}
		s.mu.Unlock()
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queryOf is the query of a handshake request, for matchers.
func queryOf(req *http.Request) url.Values { return req.URL.Query() }

// badRequest refuses a handshake request the case did not accept.
func badRequest(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "refused by the case", http.StatusBadRequest)
}

// frameKind is the WebSocket frame kind of a binary or a text message.
func frameKind(bin bool) transport.FrameKind {
	if bin {
		return transport.BinaryFrame
	}
	return transport.TextFrame
}

// via is where a server-side step sends when it names no transport: on
// the WebSocket once the session is there (onWS), else polling.
func (s *scriptServer) via(want string) string {
	switch {
	case want != "":
		return want
	case s.onWS():
		return "ws"
	}
	return "poll"
}

// onWS reports whether the session's packets now travel on its WebSocket:
// it started there, or the client sent the upgrade packet on it.
func (s *scriptServer) onWS() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws != nil && s.upgraded
}
