package server

import (
	"errors"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/engineio"
)

// Session states.
const (
	stateOpen    uint8 = iota
	stateClosing       // polling only: closed by the server, its close packet waits for a GET
	stateClosed
)

// Close reasons, as Node's engine.io names them.
const (
	reasonTransportClose = "transport close"
	reasonTransportError = "transport error"
	reasonPingTimeout    = "ping timeout"
	reasonParseError     = "parse error"
	reasonForcedClose    = "forced close"
	reasonServerClose    = "server shutting down"
)

// errStop ends payload decoding after a packet that closed the session.
var errStop = errors.New("server: session closed")

// Session is one Engine.IO session, on polling or WebSocket. Its methods are
// safe for concurrent use.
type Session struct {
	srv *Server
	id  string

	mu         sync.Mutex
	cond       sync.Cond // on mu: signalled when a WebSocket flush ends
	state      uint8
	reason     string
	ws         *websocket.Conn // active WebSocket, nil while polling
	upgrading  *websocket.Conn // WebSocket probing for an upgrade
	queue      []item
	spare      []item
	flushing   bool // a goroutine owns writing the queue to ws
	wsClosed   bool
	getActive  bool
	postActive bool
	noop       bool   // the pending (or next) GET gets a noop: upgrade under way
	closeNoop  bool   // no GET was pending at close: prefix the close with a noop
	dropReply  []byte // a polling session dropped under a pending GET: its answer when nothing is queued
	wake       chan struct{}

	// Deadlines in scheduler time (ns), 0 when not armed; guarded by mu.
	pingAt, pongBy, connectBy, upgradeBy, dropBy, ackBy int64

	// Scheduler heap position, guarded by the scheduler's lock.
	hat  int64
	hidx int

	inMu     sync.Mutex // serializes inbound dispatch (last POST vs upgraded WebSocket)
	onPacket func(engineio.Packet) error
	sio      *sioConn
}

// ID returns the Engine.IO session id.
func (s *Session) ID() string { return s.id }

// Transport returns "websocket" once the session runs on a WebSocket,
// else "polling".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws != nil {
		return WebSocket
	}
	return Polling
}

// Send queues one Engine.IO message (engine-only servers use it to answer).
// data is copied.
func (s *Session) Send(data []byte, binary bool) error {
	f := getFrame()
	if !binary {
		f.b = append(f.b, engineio.Message.Digit())
	}
	f.b = append(f.b, data...)
	if !s.enqueue([]item{{f: f, data: f.b, binary: binary, msg: true}}, true) {
		return ErrClosed
	}
	return nil
}

// Close closes the session (reason "forced close").
func (s *Session) Close() { s.close(reasonForcedClose) }

func (srv *Server) newSession(ws *websocket.Conn) *Session {
	s := &Session{srv: srv, id: newID(), ws: ws, hidx: -1, wake: make(chan struct{}, 1)}
	s.cond.L = &s.mu
	s.onPacket = s.handlePacket
	if srv.cfg.Engine == nil {
		s.sio = newSIOConn(s)
	}
	now := srv.sched.now()
	s.pingAt = now + srv.cfg.pingInterval
	next := s.pingAt
	if s.sio != nil {
		s.connectBy = now + srv.cfg.connectTimeout
		next = min(next, s.connectBy)
	}
	srv.stats.sessions.Add(1)
	srv.stats.sessionsTotal.Add(1)
	srv.addSession(s)
	srv.sched.set(s, next)
	return s
}

// openPacket returns the open packet's text form for this session.
func (s *Session) openPacket(upgrades []string) []byte {
	h := engineio.Handshake{
		SID: s.id, Upgrades: upgrades,
		PingInterval: int(s.srv.cfg.PingInterval / time.Millisecond),
		PingTimeout:  int(s.srv.cfg.PingTimeout / time.Millisecond),
		MaxPayload:   s.srv.cfg.MaxHTTPBufferSize,
	}
	js, _ := h.MarshalJSON() // cannot fail: plain fields
	return append([]byte{'0'}, js...)
}

// enqueue queues items as one contiguous run and starts writing them out.
// It takes over the frame references of items, releasing them if the session
// is closed. inline lets the caller write a WebSocket itself when no one else
// is; broadcasts pass false so that one slow member cannot hold up the rest.
func (s *Session) enqueue(items []item, inline bool) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		// Release our references without touching items: a broadcast
		// reuses the same slice for the next member.
		for _, it := range items {
			if it.f != nil {
				it.f.release()
			}
		}
		return false
	}
	s.queue = append(s.queue, items...)
	if s.ws == nil {
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return true
	}
	if s.flushing {
		s.mu.Unlock()
		return true
	}
	s.flushing = true
	s.mu.Unlock()
	if inline {
		s.flushWS()
	} else {
		go s.flushWS()
	}
	return true
}

// flushWS writes the queue to the WebSocket until it is empty, then, if the
// session is closed, ends the WebSocket. The caller has set flushing.
func (s *Session) flushWS() {
	wt := s.srv.cfg.WriteTimeout
	s.mu.Lock()
	for {
		ws := s.ws
		if len(s.queue) == 0 {
			if s.state == stateClosed && !s.wsClosed {
				s.wsClosed = true
				s.mu.Unlock()
				// An empty close frame: the client sees 1005, as from Node.
				_ = ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
				_ = ws.Close()
				s.mu.Lock()
			}
			s.flushing = false
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue, s.spare = s.spare[:0], nil
		s.mu.Unlock()
		_ = ws.SetWriteDeadline(time.Now().Add(wt))
		var err error
		var n, nb int64
		for i := range batch {
			it := &batch[i]
			if err == nil {
				mt := websocket.TextMessage
				if it.binary {
					mt = websocket.BinaryMessage
				}
				if err = ws.WriteMessage(mt, it.data); err == nil && it.msg {
					n++
					nb += int64(len(it.data)) + b2i(it.binary)
				}
			}
			it.release()
		}
		clear(batch)
		s.srv.stats.msgOut.Add(n)
		s.srv.stats.bytesOut.Add(nb)
		if err != nil {
			s.close(reasonTransportError)
		}
		s.mu.Lock()
		if s.spare == nil {
			s.spare = batch[:0]
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// close ends the session once, lingering (see end) only when the server
// itself decided to close it: a forced close (Socket.Disconnect(true), the
// connect timeout, Session.Close, a Socket.IO protocol violation) or the
// server shutting down. A close the client caused at the Engine.IO level
// (its close packet, a ping timeout, a transport error, an undecodable
// payload) drops a polling session at once, as Node does (engine.io lib/socket.ts).
func (s *Session) close(reason string) {
	s.end(reason, reason == reasonForcedClose || reason == reasonServerClose)
}

// end ends the session once. WebSocket sessions are gone at once (after
// their queue is flushed). A polling session that lingers waits for a GET to
// take the close packet ("1" to a GET pending now, "6\x1e1" to the next
// one), or for CloseTimeout, as Node's polling transport does when the
// server closes it. One that does not linger is forgotten at once: later
// requests get 400 "Session ID unknown"; a GET pending now gets what is
// queued, else a noop after the client's close packet (Node's
// Polling.onClose) or the close packet "1" otherwise (Node's doClose on a
// writable transport).
func (s *Session) end(reason string, linger bool) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.reason = reason
	up := s.upgrading
	s.upgrading = nil
	isWS := s.ws != nil
	drop := isWS
	var q []item
	switch {
	case isWS:
		s.state = stateClosed
		if !s.flushing {
			s.flushing = true
			go s.flushWS()
		}
	case linger:
		s.state = stateClosing
		s.closeNoop = !s.getActive
		s.dropBy = s.srv.sched.now() + s.srv.cfg.closeTimeout
		s.srv.sched.setEarlier(s, s.dropBy)
	default:
		drop = true
		s.state = stateClosed
		if s.getActive {
			// The pending GET takes the queue and answers.
			s.dropReply = pktClose
			if reason == reasonTransportClose {
				s.dropReply = pktNoop
			}
		} else {
			q, s.queue = s.queue, nil
		}
		s.srv.sched.set(s, 0)
	}
	s.mu.Unlock()
	for i := range q {
		q[i].release()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if up != nil {
		_ = up.Close()
	}
	s.srv.stats.sessions.Add(-1)
	if drop {
		s.srv.removeSession(s)
	}
	if s.sio != nil {
		s.sio.onClose(reason)
	}
}

// finalize forgets a closed polling session.
func (s *Session) finalize() {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for i := range q {
		q[i].release()
	}
	s.srv.sched.set(s, 0)
	s.srv.removeSession(s)
}

// fire runs the session's due deadlines and returns the next one (0: none).
// It is called by the scheduler goroutine only.
func (s *Session) fire(now int64) int64 {
	s.mu.Lock()
	switch s.state {
	case stateClosed:
		s.mu.Unlock()
		return 0
	case stateClosing:
		if now >= s.dropBy {
			s.mu.Unlock()
			s.finalize()
			return 0
		}
		s.mu.Unlock()
		return s.dropBy
	}
	var reason string
	switch {
	case s.pongBy > 0 && now >= s.pongBy:
		reason = reasonPingTimeout
	case s.connectBy > 0 && now >= s.connectBy:
		// Node's Client closes the connection itself: "forced close".
		reason = reasonForcedClose
	}
	if reason != "" {
		s.mu.Unlock()
		s.close(reason)
		return 0
	}
	var up *websocket.Conn
	if s.upgradeBy > 0 && now >= s.upgradeBy {
		up, s.upgrading, s.upgradeBy = s.upgrading, nil, 0
	}
	ping := s.pongBy == 0 && now >= s.pingAt
	if ping {
		s.pongBy = now + s.srv.cfg.pingTimeout
	}
	expire := s.ackBy > 0 && now >= s.ackBy
	s.mu.Unlock()
	if up != nil {
		_ = up.Close()
	}
	if ping {
		s.enqueue([]item{{data: pktPing}}, false)
	}
	if expire {
		next := s.sio.expireAcks(now)
		s.mu.Lock()
		s.ackBy = next
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return 0
	}
	next := s.pongBy
	if next == 0 {
		next = s.pingAt
	}
	for _, d := range [...]int64{s.connectBy, s.upgradeBy, s.ackBy} {
		if d > 0 && d < next {
			next = d
		}
	}
	return next
}

// armAck makes sure the scheduler visits the session by at.
func (s *Session) armAck(at int64) {
	s.mu.Lock()
	if s.ackBy == 0 || at < s.ackBy {
		s.ackBy = at
	}
	s.srv.sched.setEarlier(s, at)
	s.mu.Unlock()
}

// handlePacket handles one Engine.IO packet from the active transport.
func (s *Session) handlePacket(p engineio.Packet) error {
	switch p.Type {
	case engineio.Message:
		st := &s.srv.stats
		st.msgIn.Add(1)
		st.bytesIn.Add(int64(len(p.Data)) + 1)
		s.inMu.Lock()
		if s.sio != nil {
			s.sio.onMessage(p.Data, p.Binary)
		} else {
			s.srv.cfg.Engine(s, p.Data, p.Binary)
		}
		s.inMu.Unlock()
	case engineio.Pong:
		// Node restarts the ping interval from the pong, solicited or not.
		s.mu.Lock()
		s.pongBy = 0
		s.pingAt = s.srv.sched.now() + s.srv.cfg.pingInterval
		// The session was due at pongBy; with a ping timeout longer than
		// the interval that is after pingAt, and the next ping would come
		// a timeout, not an interval, after this pong.
		s.srv.sched.setEarlier(s, s.pingAt)
		s.mu.Unlock()
	case engineio.Ping:
		// v4 heartbeats go server→client; a client ping (or a 2probe on
		// the active transport) is an error (engine.io lib/socket.ts onPacket).
		s.close(reasonTransportError)
		return errStop
	case engineio.Close:
		s.close(reasonTransportClose)
		return errStop
	default:
		// open, upgrade, noop from a client: ignored, as Node does (§6.2 X-P07).
	}
	s.mu.Lock()
	open := s.state == stateOpen
	s.mu.Unlock()
	if !open {
		return errStop
	}
	return nil
}
