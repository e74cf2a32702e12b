package server

import (
	"encoding/json"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

// Message is an incoming event, or a client's answer to an ack. Handlers get
// a *Message that aliases the connection's buffers and is valid only during
// the call; Clone it to keep it.
type Message struct {
	// Event is the event name (empty for acks).
	Event string
	// Args is the JSON array of the arguments after the event name.
	Args []byte
	// Buffers are the binary attachments, in placeholder order.
	Buffers [][]byte
	// ID is the ack id the client asked for, or -1.
	ID int64

	sock  *Socket
	acked bool
}

// Socket returns the socket the message arrived on.
func (m *Message) Socket() *Socket { return m.sock }

// WantsAck reports whether the client asked for an acknowledgement that has
// not been sent yet.
func (m *Message) WantsAck() bool { return m.ID >= 0 && !m.acked }

// Ack answers the client's ack with args, encoded as Socket.Emit encodes.
func (m *Message) Ack(args ...any) error {
	if !m.WantsAck() {
		return ErrNoAck
	}
	scratch := getFrame()
	defer scratch.release()
	data, buffers, err := scratch.appendArgs(args)
	if err != nil {
		return err
	}
	return m.AckRaw(data, buffers)
}

// AckRaw answers with an already encoded JSON array and its attachments.
// It may be called after the handler returned (on a Clone), but only once.
func (m *Message) AckRaw(args []byte, buffers [][]byte) error {
	if !m.WantsAck() {
		return ErrNoAck
	}
	if len(args) == 0 {
		args = emptyArray
	}
	if len(args) < 2 || args[0] != '[' || args[len(args)-1] != ']' {
		return ErrBadArgs
	}
	m.acked = true
	s := m.sock
	t := socketio.Ack
	if len(buffers) > 0 {
		t = socketio.BinaryAck
	}
	f := getFrame()
	f.b = append(f.b, engineio.Message.Digit())
	f.b = socketio.AppendHeader(f.b, t, len(buffers), s.nsp.name, m.ID)
	f.b = append(f.b, args...)
	var arr [4]item
	if !s.conn.sess.enqueue(appendItems(arr[:0], f, buffers), true) {
		return ErrClosed
	}
	return nil
}

// Decode unmarshals the arguments positionally into dst (fewer dst than
// arguments is fine); placeholders become their attachments ([]byte).
func (m *Message) Decode(dst ...any) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(m.Args, &raw); err != nil {
		return err
	}
	for i, d := range dst {
		if i >= len(raw) {
			break
		}
		if err := socketio.Unmarshal(raw[i], m.Buffers, d); err != nil {
			return err
		}
	}
	return nil
}

// Clone returns a copy that owns its memory and can still Ack.
func (m *Message) Clone() *Message {
	c := *m
	c.Args = append([]byte(nil), m.Args...)
	if m.Buffers != nil {
		c.Buffers = make([][]byte, len(m.Buffers))
		for i, b := range m.Buffers {
			c.Buffers[i] = append([]byte{}, b...)
		}
	}
	return &c
}
