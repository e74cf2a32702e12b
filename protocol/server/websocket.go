package server

import (
	"io"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/valyala/fasthttp"
)

// serveWebSocketOnly upgrades a handshake request and runs a new
// WebSocket-only session on it: the open packet (no upgrades) is the first
// frame.
func (srv *Server) serveWebSocketOnly(ctx *fasthttp.RequestCtx) {
	err := srv.upgrader.Upgrade(ctx, func(c *websocket.Conn) {
		defer c.Close() // the connection is ours (KeepHijackedConns, NewHTTPServer)
		s := srv.newSession(c)
		open := s.openPacket(nil)
		s.enqueue([]item{{data: open}}, true)
		s.readLoop(c, false)
	})
	if err != nil {
		srv.log(ctx, err)
	}
}

// serveUpgrade upgrades a WebSocket carrying the sid of a polling session
// and runs the probe on it (engine.io-protocol v4, "Upgrade"). refuse is set when the
// session cannot be upgraded (already upgrading or upgraded): Node accepts
// the WebSocket and closes it at once, and so do we.
func (srv *Server) serveUpgrade(ctx *fasthttp.RequestCtx, s *Session) {
	err := srv.upgrader.Upgrade(ctx, func(c *websocket.Conn) {
		defer c.Close() // the connection is ours (KeepHijackedConns, NewHTTPServer)
		s.mu.Lock()
		ok := s.state == stateOpen && s.ws == nil && s.upgrading == nil
		if ok {
			s.upgrading = c
			s.upgradeBy = srv.sched.now() + srv.cfg.upgradeTimeout
			srv.sched.setEarlier(s, s.upgradeBy)
		}
		s.mu.Unlock()
		if !ok {
			_ = c.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
			return
		}
		s.readLoop(c, true)
	})
	if err != nil {
		srv.log(ctx, err)
	}
}

// readLoop is the one goroutine of a WebSocket: it reads frames and
// dispatches them until the connection or the session ends. upgrading is
// true while the WebSocket is probing for an upgrade of a polling session.
func (s *Session) readLoop(c *websocket.Conn, upgrading bool) {
	c.SetReadLimit(int64(s.srv.cfg.MaxHTTPBufferSize)) // larger: close 1009, as ws does
	bp := readBufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	reason := reasonTransportClose
	for {
		mt, r, err := c.NextReader()
		if err != nil {
			if _, ok := err.(*websocket.CloseError); !ok {
				reason = reasonTransportError
			}
			break
		}
		if buf, err = readAll(buf[:0], r); err != nil {
			reason = reasonTransportError
			break
		}
		if mt == websocket.TextMessage && !utf8.Valid(buf) {
			// RFC 6455 §8.1: invalid UTF-8 in a text frame fails the
			// connection, with 1007 (§7.4.1), as Node's ws does.
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
			reason = reasonTransportError
			break
		}
		p, err := engineio.ParseFrame(engineio.V4, buf, mt == websocket.BinaryMessage)
		if upgrading {
			if err != nil || !s.probeStep(c, p) {
				break
			}
			s.mu.Lock()
			upgrading = s.upgrading == c
			s.mu.Unlock()
			continue
		}
		if err != nil {
			reason = reasonParseError
			break
		}
		if s.handlePacket(p) != nil {
			break
		}
	}
	if cap(buf) <= maxPooledFrame {
		*bp = buf[:0]
		readBufPool.Put(bp)
	}
	if upgrading {
		// A failed probe ends only this WebSocket; polling goes on (§1.7).
		s.mu.Lock()
		if s.upgrading == c {
			s.upgrading, s.upgradeBy = nil, 0
		}
		s.mu.Unlock()
		_ = c.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
		return
	}
	s.mu.Lock()
	active := s.ws == c
	s.mu.Unlock()
	if !active {
		return
	}
	s.close(reason)
	// The connection and its write buffer die when this goroutine
	// returns, so wait for the last flush (and close frame) to finish.
	s.mu.Lock()
	for s.flushing {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// probeStep handles one packet on an upgrading WebSocket and reports whether
// the WebSocket may go on: 2probe is answered 3probe (and the pending GET
// released with a noop), 5 completes the upgrade, anything else fails it.
func (s *Session) probeStep(c *websocket.Conn, p engineio.Packet) bool {
	switch {
	case p.Type == engineio.Ping && string(p.Data) == "probe":
		_ = c.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
		if c.WriteMessage(websocket.TextMessage, pktProbe) != nil {
			return false
		}
		s.mu.Lock()
		s.noop = true
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return true
	case p.Type == engineio.Upgrade:
		// Node accepts 5 even without a probe (§6.5 X-U03).
		s.mu.Lock()
		if s.state != stateOpen || s.upgrading != c {
			s.mu.Unlock()
			return false
		}
		s.upgrading, s.upgradeBy = nil, 0
		s.ws = c
		start := len(s.queue) > 0 && !s.flushing
		if start {
			s.flushing = true
		}
		s.mu.Unlock()
		// A GET still pending sees ws set and returns with a noop.
		select {
		case s.wake <- struct{}{}:
		default:
		}
		if start {
			s.flushWS()
		}
		return true
	}
	return false
}

// readAll reads r to the end into buf, growing it as needed.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
