package client

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

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
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
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
	name, end, escaped, ok := eventToken(p.Data)
	if !ok {
		return
	}
	var (
		h     Handler
		event string
	)
	handlers := *s.handlers.Load()
	if escaped {
		// Rare: resolve the name before splitEvent rewrites the buffer.
		event, _, _ = socketio.EventName(p.Data)
		if e, ok := handlers[event]; ok {
			h = e.h
		}
	} else if e, ok := handlers[string(name)]; ok {
		h, event = e.h, e.name
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
	*m = Message{Namespace: s.nsp, Event: event, Args: splitArgs(p.Data, end), Buffers: p.Buffers, ID: p.ID, sock: s}
	s.c.inHandler.Add(1)
	h(m)
	s.c.inHandler.Add(-1)
	*m = Message{}
}

// eventToken finds the event name token of an EVENT payload (validated
// by the decoder as a JSON array starting with a string or number): the
// raw name (without quotes, escapes not undone), the offset just past it,
// and whether it contains escapes.
func eventToken(data []byte) (name []byte, end int, escaped, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, 0, false, false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) {
		return nil, 0, false, false
	}
	if data[i] == '"' {
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' {
				escaped = true
				j++
			}
			j++
		}
		if j >= len(data) {
			return nil, 0, false, false
		}
		name, end = data[i+1:j], j+1
	} else {
		j := i
		for j < len(data) && data[j] != ',' && data[j] != ']' && data[j] > ' ' {
			j++
		}
		name, end = data[i:j], j
	}
	end = skipSpace(data, end)
	if end >= len(data) {
		return nil, 0, false, false
	}
	return name, end, escaped, true
}

// splitArgs returns the arguments after the event name (which ends at
// end) as a JSON array. To avoid copying, it turns the comma after the
// name into '[' in place: data must be owned by the caller and not be
// read as the original payload afterwards.
func splitArgs(data []byte, end int) []byte {
	if data[end] == ']' {
		return emptyArray
	}
	data[end] = '['
	return data[end:]
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// appendJSONString appends s as a JSON string. Event names are nearly
// always plain ASCII, which takes the fast path without escaping.
func appendJSONString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
