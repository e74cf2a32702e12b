package server

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

// AckFunc receives a client's answer to a server emit (m valid only during
// the call) or an error: ErrAckTimeout, or ErrClosed when the socket left
// first. It runs on the connection's reader, or on its own goroutine for
// timeouts and disconnects.
type AckFunc func(m *Message, err error)

// Socket is one client connected to one namespace. Its methods are safe for
// concurrent use.
type Socket struct {
	id   string
	nsp  *Namespace
	conn *sioConn
	auth json.RawMessage
	done chan struct{}
	gone atomic.Bool

	rooms map[string]struct{} // guarded by nsp.mu

	ackMu sync.Mutex
	acks  map[int64]pendingAck

	// Data is free for the application (Node's socket.data); the server
	// never touches it. Synchronise access yourself.
	Data any
}

type pendingAck struct {
	fn AckFunc
	by int64 // scheduler deadline, 0 for none
}

func newSocket(ns *Namespace, c *sioConn, auth json.RawMessage) *Socket {
	return &Socket{id: newID(), nsp: ns, conn: c, auth: auth, done: make(chan struct{}), rooms: make(map[string]struct{})}
}

// ID returns the Socket.IO session id sent in the CONNECT reply.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Auth returns the CONNECT payload ({} when the client sent none).
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Session returns the Engine.IO session carrying the socket.
func (s *Socket) Session() *Session { return s.conn.sess }

// Done is closed when the socket has left (either side, or the session
// ended).
func (s *Socket) Done() <-chan struct{} { return s.done }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { return !s.gone.Load() }

// Emit sends an event. []byte values anywhere in args travel as binary
// attachments (socketio.AppendArgs); the slices are sent as they are, so
// do not modify them afterwards.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, nil, 0, args)
}

// EmitWithAck sends an event asking for an acknowledgement, delivered to fn;
// timeout > 0 bounds the wait (fn then gets ErrAckTimeout and a late answer
// is ignored, as in Node).
func (s *Socket) EmitWithAck(event string, fn AckFunc, timeout time.Duration, args ...any) error {
	return s.emit(event, fn, timeout, args)
}

func (s *Socket) emit(event string, fn AckFunc, timeout time.Duration, args []any) error {
	scratch := getFrame()
	defer scratch.release()
	data, buffers, err := scratch.appendArgs(args)
	if err != nil {
		return err
	}
	return s.EmitRawWithAck(event, data, buffers, fn, timeout)
}

// EmitRaw sends an event whose arguments are already a JSON array ("[]" or
// nil for none), with buffers as its attachments: the zero-allocation way
// to emit.
func (s *Socket) EmitRaw(event string, args []byte, buffers [][]byte) error {
	return s.EmitRawWithAck(event, args, buffers, nil, 0)
}

// EmitRawWithAck is EmitRaw asking for an acknowledgement when fn is set.
func (s *Socket) EmitRawWithAck(event string, args []byte, buffers [][]byte, fn AckFunc, timeout time.Duration) error {
	if s.gone.Load() {
		return ErrClosed
	}
	id := socketio.NoID
	if fn != nil {
		id = s.nsp.ackID.Add(1) - 1
	}
	f, err := encodeEvent(s.nsp.name, event, id, args, len(buffers))
	if err != nil {
		return err
	}
	if fn != nil {
		s.addAck(id, fn, timeout)
	}
	var arr [4]item
	if !s.conn.sess.enqueue(appendItems(arr[:0], f, buffers), true) {
		if fn != nil {
			s.takeAck(id)
		}
		return ErrClosed
	}
	return nil
}

// To starts a broadcast to rooms of the socket's namespace that leaves this
// socket out (Node's socket.to(room).emit).
func (s *Socket) To(rooms ...string) *Broadcast {
	return &Broadcast{ns: s.nsp, rooms: rooms, except: s}
}

// Join adds the socket to room.
func (s *Socket) Join(room string) {
	ns := s.nsp
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s.gone.Load() {
		return
	}
	s.rooms[room] = struct{}{}
	m := ns.rooms[room]
	if m == nil {
		m = make(map[*Socket]struct{})
		ns.rooms[room] = m
	}
	m[s] = struct{}{}
}

// Leave removes the socket from room.
func (s *Socket) Leave(room string) {
	s.nsp.mu.Lock()
	s.nsp.leaveLocked(s, room)
	s.nsp.mu.Unlock()
}

// Rooms returns the rooms the socket is in.
func (s *Socket) Rooms() []string {
	s.nsp.mu.RLock()
	defer s.nsp.mu.RUnlock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	return out
}

// Disconnect sends DISCONNECT to the client and ends the socket (reason
// "server namespace disconnect"). With close, every namespace of the
// connection is disconnected the same way and the Engine.IO session is
// closed after those packets are delivered.
func (s *Socket) Disconnect(close bool) {
	if !close {
		s.disconnect()
		return
	}
	c := s.conn
	c.mu.Lock()
	socks := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, o := range socks {
		o.disconnect()
	}
	c.sess.close(reasonForcedClose)
}

func (s *Socket) disconnect() {
	if s.gone.Load() {
		return
	}
	f := getFrame()
	f.b = append(f.b, engineio.Message.Digit())
	f.b = socketio.AppendHeader(f.b, socketio.Disconnect, 0, s.nsp.name, socketio.NoID)
	s.conn.sess.enqueue([]item{{f: f, data: f.b, msg: true}}, true)
	s.cleanup("server namespace disconnect")
}

// cleanup ends the socket once: rooms, pending acks, handlers, counters.
func (s *Socket) cleanup(reason string) {
	if s.gone.Swap(true) {
		return
	}
	s.conn.remove(s)
	s.conn.sess.srv.stats.sockets.Add(-1)
	close(s.done)
	s.ackMu.Lock()
	acks := s.acks
	s.acks = nil
	s.ackMu.Unlock()
	if len(acks) > 0 {
		go func() {
			for _, a := range acks {
				a.fn(nil, ErrClosed)
			}
		}()
	}
	s.nsp.remove(s, reason)
}

func (s *Socket) addAck(id int64, fn AckFunc, timeout time.Duration) {
	var by int64
	if timeout > 0 {
		by = s.conn.sess.srv.sched.now() + int64(timeout)
	}
	s.ackMu.Lock()
	if s.acks == nil {
		s.acks = make(map[int64]pendingAck)
	}
	s.acks[id] = pendingAck{fn: fn, by: by}
	s.ackMu.Unlock()
	if by > 0 {
		s.conn.sess.armAck(by)
	}
}

func (s *Socket) takeAck(id int64) (AckFunc, bool) {
	s.ackMu.Lock()
	a, ok := s.acks[id]
	if ok {
		delete(s.acks, id)
	}
	s.ackMu.Unlock()
	return a.fn, ok
}

// resolveAck delivers a client's ACK; unknown or late ids are ignored.
func (s *Socket) resolveAck(id int64, data []byte, buffers [][]byte) {
	fn, ok := s.takeAck(id)
	if !ok {
		return
	}
	if data == nil {
		data = emptyArray
	}
	m := &s.conn.msg
	*m = Message{Args: data, Buffers: buffers, ID: socketio.NoID, sock: s}
	fn(m, nil)
}

func (s *Socket) expireAcks(now int64) int64 {
	var due []AckFunc
	var next int64
	s.ackMu.Lock()
	for id, a := range s.acks {
		switch {
		case a.by == 0:
		case a.by <= now:
			due = append(due, a.fn)
			delete(s.acks, id)
		case next == 0 || a.by < next:
			next = a.by
		}
	}
	s.ackMu.Unlock()
	if len(due) > 0 {
		go func() {
			for _, fn := range due {
				fn(nil, ErrAckTimeout)
			}
		}()
	}
	return next
}

// dispatch runs the handler of an EVENT packet.
func (s *Socket) dispatch(m *Message, p *socketio.Packet) {
	handlers := *s.nsp.handlers.Load()
	var h *handlerEntry
	var event string
	var args []byte
	if name, rest, ok := socketio.SplitEvent(p.Data); ok {
		h = handlers[string(name)]
		args = rest
		if h != nil {
			event = h.name
		} else {
			event = string(name)
		}
	} else {
		if p.Data == nil {
			return // "2" without payload: Node accepts and ignores it
		}
		name, rest, err := socketio.EventName(p.Data)
		if err != nil {
			s.conn.sess.end(reasonParseError, true) // as in sioConn.onMessage
			return
		}
		h, event, args = handlers[name], name, rest
	}
	fn := Handler(nil)
	if h != nil {
		fn = h.fn
	} else {
		s.nsp.mu.RLock()
		fn = s.nsp.anyHandler
		s.nsp.mu.RUnlock()
		if fn == nil {
			return
		}
	}
	*m = Message{Event: event, Args: args, Buffers: p.Buffers, ID: p.ID, sock: s}
	fn(s, m)
}

// encodeEvent encodes "4" + an EVENT (BINARY_EVENT when attachments > 0)
// packet with the given JSON array of arguments into a new frame.
func encodeEvent(nsp, event string, id int64, args []byte, attachments int) (*frame, error) {
	if reserved(event) {
		return nil, ErrReservedEvent
	}
	if len(args) == 0 {
		args = emptyArray
	}
	if len(args) < 2 || args[0] != '[' || args[len(args)-1] != ']' {
		return nil, ErrBadArgs
	}
	t := socketio.Event
	if attachments > 0 {
		t = socketio.BinaryEvent
	}
	f := getFrame()
	f.b = append(f.b, engineio.Message.Digit())
	f.b = socketio.AppendHeader(f.b, t, attachments, nsp, id)
	f.b = socketio.AppendEvent(f.b, event, args)
	return f, nil
}

// reserved reports the event names Node's parser refuses (socket.io-parser lib/index.ts).
func reserved(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}
