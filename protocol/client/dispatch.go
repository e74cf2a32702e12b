package client

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/siokit/siokit/protocol/socketio"
)

// handleMessage feeds one Engine.IO message to the Socket.IO decoder and
// dispatches what completes. Decoding errors end the session, as they do
// on the reference client.
func (c *Conn) handleMessage(data []byte, binary bool) error {
	p, done, err := c.dec.Add(data, binary)
	if err != nil || !done {
		return err
	}
	s := c.root.Load()
	if p.Namespace != "/" || s == nil {
		c.mu.Lock()
		s = c.sockets[p.Namespace]
		c.mu.Unlock()
	}
	if s == nil {
		return nil
	}
	switch p.Type {
	case socketio.Connect:
		s.onConnect(&p)
	case socketio.ConnectError:
		s.onConnectError(&p)
	case socketio.Event, socketio.BinaryEvent:
		s.onEvent(&p)
	case socketio.Ack, socketio.BinaryAck:
		c.acks.deliver(c, s, &p)
	case socketio.Disconnect:
		s.onServerDisconnect()
	}
	return nil
}

func (s *Socket) onConnect(p *socketio.Packet) {
	var reply struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	if s.c.sio == socketio.V5 && len(p.Data) > 0 {
		_ = json.Unmarshal(p.Data, &reply)
	} else {
		reply.SID = s.c.Handshake().SID
		if s.nsp != "/" {
			reply.SID = s.nsp + "#" + reply.SID
		}
	}
	now := time.Now()
	s.mu.Lock()
	switch {
	case s.state == stateConnected:
		s.mu.Unlock()
		return // a reply to a CONNECT we already counted as answered
	case s.state != stateConnecting:
		// Disconnect was called while the CONNECT was outstanding: tell the
		// server, which now believes the namespace joined.
		s.mu.Unlock()
		s.c.sendSIO(&socketio.Packet{Type: socketio.Disconnect, Namespace: s.nsp, ID: socketio.NoID}, nil)
		return
	}
	recovered := s.pid != "" && reply.PID == s.pid && reply.SID == s.sid
	s.sid, s.pid = reply.SID, reply.PID
	if reply.PID == "" {
		s.offset = ""
	}
	s.state = stateConnected
	var d time.Duration
	if !s.started.IsZero() {
		d = now.Sub(s.started)
	}
	s.wakeLocked(nil)
	s.mu.Unlock()
	s.c.emit(Event{Kind: KindConnect, Time: now, Duration: d, Namespace: s.nsp, SID: reply.SID, Recovered: recovered})
}

func (s *Socket) onConnectError(p *socketio.Packet) {
	ce := &ConnectError{Namespace: s.nsp}
	if d := bytes.TrimSpace(p.Data); len(d) > 0 && d[0] == '"' {
		_ = json.Unmarshal(d, &ce.Message)
	} else {
		var body struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(d, &body)
		ce.Message, ce.Data = body.Message, body.Data
	}
	s.mu.Lock()
	s.state, s.want = stateIdle, false
	s.wakeLocked(ce)
	s.mu.Unlock()
	s.c.emit(Event{Kind: KindConnectError, Namespace: s.nsp, Err: ce})
}

func (s *Socket) onServerDisconnect() {
	s.mu.Lock()
	s.state, s.want, s.sid, s.pid, s.offset = stateIdle, false, "", "", ""
	s.wakeLocked(&DisconnectError{Reason: ReasonServerDisconnect})
	s.mu.Unlock()
	s.c.acks.failSocket(s, &DisconnectError{Reason: ReasonServerDisconnect})
	s.c.emit(Event{Kind: KindNamespaceDisconnect, Namespace: s.nsp, Reason: ReasonServerDisconnect})
}

func (s *Socket) onEvent(p *socketio.Packet) {
	s.mu.Lock()
	csr := s.pid != ""
	s.mu.Unlock()
	if csr && p.ID == socketio.NoID {
		// The server appends the offset to every recoverable event; the
		// next CONNECT sends the last one back.
		if off, ok := socketio.LastStringArg(p.Data); ok {
			s.mu.Lock()
			s.offset = off
			s.mu.Unlock()
		}
	}
	var (
		h     Handler
		event string
	)
	handlers := *s.handlers.Load()
	name, args, ok := socketio.SplitEvent(p.Data)
	if ok {
		if e, found := handlers[string(name)]; found {
			h, event = e.h, e.name
		}
	} else {
		// Rare: an escaped or numeric name, resolved as Node resolves it
		// (42[1.0] is event "1").
		ev, rest, err := socketio.EventName(p.Data)
		if err != nil {
			return
		}
		event, args = ev, rest
		if e, found := handlers[event]; found {
			h = e.h
		}
	}
	if h == nil {
		a := s.anyH.Load()
		if a == nil {
			return
		}
		h = *a
		if event == "" {
			event = string(name)
		}
	}
	m := &s.c.msg
	*m = Message{Namespace: s.nsp, Event: event, Args: args, Buffers: p.Buffers, ID: p.ID, sock: s}
	s.c.inHandler.Add(1)
	h(m)
	s.c.inHandler.Add(-1)
	*m = Message{}
}
