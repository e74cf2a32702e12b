package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

// ConnectError is the server's refusal of a namespace (CONNECT_ERROR).
type ConnectError struct {
	Namespace string
	Message   string
	Data      json.RawMessage // v5 "data" field, if any
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("client: namespace %s refused: %s", e.Namespace, e.Message)
}

// Message is an incoming event, or the answer to an ack. Handlers receive
// a *Message that aliases the connection's buffers and is valid only
// during the call; Clone it to keep it.
type Message struct {
	Namespace string
	// Event is the event name (empty for acks).
	Event string
	// Args is the JSON array of the arguments, after the event name.
	Args []byte
	// Buffers are the binary attachments, in placeholder order.
	Buffers [][]byte
	// ID is the ack id the server asked for, or -1.
	ID int64

	sock *Socket
}

// Decode unmarshals the arguments positionally into dst (fewer dst than
// arguments is fine). Binary placeholders become []byte.
func (m *Message) Decode(dst ...any) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(m.Args, &raw); err != nil {
		return fmt.Errorf("client: decoding args: %w", err)
	}
	for i, d := range dst {
		if i >= len(raw) {
			return fmt.Errorf("client: decoding args: want %d, have %d", len(dst), len(raw))
		}
		if err := socketio.Unmarshal(raw[i], m.Buffers, d); err != nil {
			return fmt.Errorf("client: decoding arg %d: %w", i, err)
		}
	}
	return nil
}

// Clone returns a copy that owns its memory.
func (m *Message) Clone() *Message {
	c := *m
	c.Args = bytes.Clone(m.Args)
	if m.Buffers != nil {
		c.Buffers = make([][]byte, len(m.Buffers))
		for i, b := range m.Buffers {
			c.Buffers[i] = bytes.Clone(b)
		}
	}
	return &c
}

// Ack answers a server-initiated ack with args (encoded like Emit's). It
// is an error to ack a message that asked for none.
func (m *Message) Ack(args ...any) error {
	if m.ID < 0 || m.sock == nil {
		return errors.New("client: message did not ask for an ack")
	}
	data, bufs, err := socketio.AppendArgs(nil, args)
	if err != nil {
		return err
	}
	return m.sock.ack(m.ID, data, bufs)
}

// AckRaw answers with an already encoded JSON array of arguments and its
// attachments.
func (m *Message) AckRaw(args []byte, buffers [][]byte) error {
	if m.ID < 0 || m.sock == nil {
		return errors.New("client: message did not ask for an ack")
	}
	return m.sock.ack(m.ID, args, buffers)
}

// Handler handles an incoming event on the reader goroutine.
type Handler func(m *Message)

// AckFunc receives the answer to an ack (m valid only during the call) or
// an error: ErrAckTimeout, or a *DisconnectError when the session ended
// first. It runs on the reader goroutine, or on a timer goroutine for
// timeouts.
type AckFunc func(m *Message, err error)

type sockState uint8

const (
	stateIdle sockState = iota
	stateConnecting
	stateConnected
)

type handlerEntry struct {
	name string
	h    Handler
}

// Socket is one namespace on a Conn. Create it with Conn.Socket, register
// handlers, then Connect.
type Socket struct {
	c   *Conn
	nsp string

	handlers atomic.Pointer[map[string]handlerEntry]
	anyH     atomic.Pointer[Handler]

	mu    sync.Mutex
	state sockState
	want  bool // should be connected (reconnect restores it)
	// nextID is with the lock and the state that every emit with an ack
	// reads: in the Socket's first cache line, as they are.
	nextID   int64
	auth     []byte // CONNECT payload (v5) or query (v4)
	sid, pid string
	offset   string // last CSR offset seen
	started  time.Time
	waiters  []chan error
}

// ErrRootRejoin is returned by Connect on "/" after Disconnect over
// Socket.IO v4: those servers join "/" once per session, by themselves.
// Close the Conn and dial again instead.
var ErrRootRejoin = errors.New(`client: Socket.IO v4 cannot rejoin "/" on the same session`)

// Socket returns the socket for namespace nsp ("/" when empty), creating
// it if needed. It does no I/O.
func (c *Conn) Socket(nsp string) *Socket {
	if nsp == "" {
		nsp = "/"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sockets[nsp]; s != nil {
		return s
	}
	s := &Socket{c: c, nsp: nsp}
	m := map[string]handlerEntry{}
	s.handlers.Store(&m)
	if nsp == "/" && c.sio == socketio.V4 {
		s.want = true
		s.state = stateConnecting
	}
	c.sockets[nsp] = s
	if nsp == "/" {
		c.root.Store(s)
	}
	return s
}

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// Conn returns the connection carrying the socket.
func (s *Socket) Conn() *Conn { return s.c }

// ID returns the Socket.IO session id of the current connection ("" when
// not connected). Over Socket.IO v4 it is the Engine.IO sid, prefixed by
// "<namespace>#" outside "/", as the server names it.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sid
}

// Connected reports whether the namespace is connected now.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// On registers h for event name, replacing any earlier handler. Safe at
// any time; registering before Connect guarantees nothing is missed.
func (s *Socket) On(name string, h Handler) {
	for {
		old := s.handlers.Load()
		m := make(map[string]handlerEntry, len(*old)+1)
		for k, v := range *old {
			m[k] = v
		}
		m[name] = handlerEntry{name: name, h: h}
		if s.handlers.CompareAndSwap(old, &m) {
			return
		}
	}
}

// OnAny registers h for events that have no handler of their own.
func (s *Socket) OnAny(h Handler) { s.anyH.Store(&h) }

// Connect joins the namespace and waits for the server's answer. auth is
// the CONNECT payload: a JSON object in Socket.IO v5; in v4 (no payload
// exists) a map's entries travel as the namespace query string, and the
// root namespace, which v4 servers join implicitly, takes none.
func (s *Socket) Connect(ctx context.Context, auth any) error {
	payload, err := s.encodeAuth(auth)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.state == stateConnected {
		s.mu.Unlock()
		return nil
	}
	s.want = true
	s.auth = payload
	w := make(chan error, 1)
	s.waiters = append(s.waiters, w)
	// A CONNECT already outstanding (or the implicit one Socket.IO v4
	// servers send for "/") is waited for, never sent twice: a second
	// CONNECT makes a second server socket, or closes the session.
	send := s.state == stateIdle
	s.mu.Unlock()
	if send && s.implicit() {
		// socket.io 2.x never answers a CONNECT to "/" (it believes its
		// implicit one covered it) and drops packets that reach the new
		// socket before it is set up, so there is no reliable way back.
		s.dropWaiter(w)
		return ErrRootRejoin
	}
	if send {
		if err := s.sendConnect(); err != nil {
			// Not sent: idle again, so that a reconnection sends it.
			s.mu.Lock()
			if s.state == stateConnecting {
				s.state = stateIdle
			}
			s.mu.Unlock()
			if errors.Is(err, ErrSendQueueFull) {
				s.dropWaiter(w)
				return err
			}
			// Otherwise the session is down or going down: its end
			// wakes the waiter with the cause, after telling the hook
			// (so the loss is counted once), or a reconnection sends
			// the CONNECT again. The timeout below bounds the wait.
		}
	}
	// The wait has its own timeout, whatever ctx allows; the CONNECT
	// stays outstanding, so an answer that comes later still connects.
	t := time.NewTimer(s.c.opts.ConnectTimeout)
	defer t.Stop()
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		s.dropWaiter(w)
		return ctx.Err()
	case <-t.C:
		s.dropWaiter(w)
		return &TimeoutError{Phase: "connect " + s.nsp, After: s.c.opts.ConnectTimeout}
	case <-s.c.done:
		s.dropWaiter(w)
		return s.c.Err()
	}
}

func (s *Socket) dropWaiter(w chan error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return
		}
	}
}

// wake delivers err to every Connect waiting; s.mu must be held.
func (s *Socket) wakeLocked(err error) {
	for _, w := range s.waiters {
		w <- err
	}
	s.waiters = nil
}

func (s *Socket) encodeAuth(auth any) ([]byte, error) {
	if auth == nil {
		return nil, nil
	}
	if s.c.sio == socketio.V4 {
		q := url.Values{}
		switch a := auth.(type) {
		case map[string]string:
			for k, v := range a {
				q.Set(k, v)
			}
		case map[string]any:
			for k, v := range a {
				q.Set(k, fmt.Sprint(v))
			}
		case url.Values:
			q = a
		default:
			return nil, fmt.Errorf("client: Socket.IO v4 auth must be a map or url.Values, not %T", auth)
		}
		return []byte(q.Encode()), nil
	}
	b, err := json.Marshal(auth)
	if err != nil {
		return nil, fmt.Errorf("client: encoding auth: %w", err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("client: auth must encode to a JSON object, got %.50s", b)
	}
	return b, nil
}

// sendConnect sends CONNECT, with the recovery keys when the server gave
// us a pid (connection state recovery).
func (s *Socket) sendConnect() error {
	s.mu.Lock()
	s.state = stateConnecting
	s.started = time.Now()
	p := socketio.Packet{Type: socketio.Connect, Namespace: s.nsp, ID: socketio.NoID}
	if s.c.sio == socketio.V4 {
		p.Query = string(s.auth)
	} else {
		p.Data = s.auth
		if s.pid != "" {
			p.Data = withRecovery(s.auth, s.pid, s.offset)
		}
	}
	s.mu.Unlock()
	_, err := s.c.sendSIO(&p, nil)
	return err
}

// withRecovery merges pid and offset into the auth object, as the
// reference client does when it tries to recover a session.
func withRecovery(auth []byte, pid, offset string) []byte {
	keys, _ := json.Marshal(map[string]string{"pid": pid, "offset": offset})
	inner := bytes.TrimSpace(auth)
	if len(inner) < 2 || string(bytes.TrimSpace(inner[1:len(inner)-1])) == "" {
		return keys
	}
	out := append(keys[:len(keys)-1:len(keys)-1], ',')
	return append(out, inner[1:]...)
}

// Disconnect leaves the namespace (DISCONNECT) and stops it from being
// restored by reconnection. The Engine.IO session stays open.
func (s *Socket) Disconnect() error {
	s.mu.Lock()
	was := s.state
	s.state, s.want, s.sid = stateIdle, false, ""
	s.wakeLocked(ErrNotConnected)
	s.mu.Unlock()
	s.c.acks.failSocket(s, &DisconnectError{Reason: ReasonClientDisconnect})
	if was == stateIdle {
		return nil
	}
	s.c.emit(Event{Kind: KindNamespaceDisconnect, Namespace: s.nsp, Reason: ReasonClientDisconnect})
	_, err := s.c.sendSIO(&socketio.Packet{Type: socketio.Disconnect, Namespace: s.nsp, ID: socketio.NoID}, nil)
	return err
}

// closeFromConn is Disconnect during Conn.Close.
func (s *Socket) closeFromConn() {
	s.mu.Lock()
	connected := s.state == stateConnected
	s.mu.Unlock()
	if connected {
		s.Disconnect()
	}
}

func (s *Socket) wanted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.want
}

// transportDown marks the socket disconnected when the session ends.
// A wanted Socket.IO v4 root stays "connecting": the next session's
// server connects it without being asked, maybe inside the handshake.
func (s *Socket) transportDown(cause error) {
	s.mu.Lock()
	s.state = stateIdle
	if s.want && s.implicit() {
		s.state = stateConnecting
		s.started = time.Now()
	}
	s.wakeLocked(cause)
	s.mu.Unlock()
}

// implicit reports whether the server joins this namespace by itself.
func (s *Socket) implicit() bool { return s.nsp == "/" && s.c.sio == socketio.V4 }

// resume reconnects a wanted socket on a new session.
func (s *Socket) resume() {
	s.mu.Lock()
	send := s.want && !s.implicit() && s.state == stateIdle
	s.mu.Unlock()
	if send {
		s.sendConnect()
	}
}

// Outgoing is an event in its wire-ready form: the zero-allocation way
// to emit, for load generation.
type Outgoing struct {
	Event string
	// Args is a JSON array of the arguments after the event name; nil
	// means none.
	Args []byte
	// Buffers are binary attachments referenced by placeholders in Args.
	Buffers [][]byte
	// Ack, if set, asks for an acknowledgement and receives it.
	Ack AckFunc
	// Timeout bounds the wait for the ack; 0 means no limit.
	Timeout time.Duration
}

// Send emits o. With o.Ack set, the ack (or its timeout) is delivered to
// o.Ack.
func (s *Socket) Send(o Outgoing) error {
	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return ErrNotConnected
	}
	id := socketio.NoID
	if o.Ack != nil {
		id = s.nextID
		s.nextID++
	}
	s.mu.Unlock()
	buf := getBuf()
	data := socketio.AppendEvent((*buf)[:0], o.Event, o.Args)
	p := socketio.Packet{Type: socketio.Event, Namespace: s.nsp, ID: id, Data: data, Buffers: o.Buffers}
	if len(o.Buffers) > 0 {
		p.Type = socketio.BinaryEvent
	}
	var sent time.Time
	if o.Ack != nil {
		sent = time.Now()
		s.c.acks.add(s, id, sent, o.Timeout, o.Ack, nil)
	}
	ev := Event{Kind: KindEmit, Namespace: s.nsp, Name: o.Event, ID: id, Binary: len(o.Buffers) > 0, Time: sent}
	_, err := s.c.sendSIO(&p, &ev)
	putBuf(buf, data)
	if err != nil && o.Ack != nil {
		s.c.acks.remove(s, id)
	}
	return err
}

// Emit sends an event. []byte values anywhere in args travel as binary
// attachments; everything else is encoded with encoding/json.
func (s *Socket) Emit(event string, args ...any) error {
	data, bufs, err := socketio.AppendArgs(nil, args)
	if err != nil {
		return err
	}
	return s.Send(Outgoing{Event: event, Args: data, Buffers: bufs})
}

// EmitWithAck sends an event asking for an ack and waits for it until ctx
// ends (then the late ack is ignored). The returned message owns its
// memory.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Message, error) {
	data, bufs, err := socketio.AppendArgs(nil, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan ackResult, 1)
	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return nil, ErrNotConnected
	}
	id := s.nextID
	s.nextID++
	s.mu.Unlock()
	p := socketio.Packet{Type: socketio.Event, Namespace: s.nsp, ID: id, Data: socketio.AppendEvent(nil, event, data), Buffers: bufs}
	if len(bufs) > 0 {
		p.Type = socketio.BinaryEvent
	}
	sent := time.Now()
	s.c.acks.add(s, id, sent, 0, nil, ch)
	ev := Event{Kind: KindEmit, Namespace: s.nsp, Name: event, ID: id, Binary: len(bufs) > 0, Time: sent}
	if _, err := s.c.sendSIO(&p, &ev); err != nil {
		s.c.acks.remove(s, id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r.m, r.err
	case <-ctx.Done():
		s.c.acks.remove(s, id)
		return nil, ctx.Err()
	}
}

// ack sends an ACK for a server-initiated ack id.
func (s *Socket) ack(id int64, args []byte, bufs [][]byte) error {
	if len(args) == 0 {
		args = emptyArray
	}
	p := socketio.Packet{Type: socketio.Ack, Namespace: s.nsp, ID: id, Data: args, Buffers: bufs}
	if len(bufs) > 0 {
		p.Type = socketio.BinaryAck
	}
	_, err := s.c.sendSIO(&p, nil)
	if err == nil {
		s.c.emit(Event{Kind: KindAckSent, Namespace: s.nsp, ID: id})
	}
	return err
}

var emptyArray = []byte("[]")

// sendSIO encodes a Socket.IO packet and writes it with its attachments.
// It returns the size of the text part. ev, if not nil, is reported to the
// hook (with Bytes set) once the packet is encoded and before it is
// written, so observers see an emit before its ack can arrive.
func (c *Conn) sendSIO(p *socketio.Packet, ev *Event) (int, error) {
	c.mu.Lock()
	ws, q, open := c.ws, c.q, c.open
	c.mu.Unlock()
	if !open {
		return 0, ErrNotConnected
	}
	buf := getBuf()
	defer func() { putBuf(buf, *buf) }()
	b := append((*buf)[:0], '0'+byte(engineio.Message))
	b, err := socketio.AppendPacket(b, c.sio, p)
	*buf = b
	if err != nil {
		return 0, err
	}
	if ev != nil && c.hook != nil {
		ev.Bytes = len(b)
		c.emit(*ev)
	}
	if ws != nil {
		if len(p.Buffers) == 0 {
			return len(b), ws.WriteText(b)
		}
		bins := p.Buffers
		if c.eio == engineio.V3 {
			bins = make([][]byte, len(p.Buffers))
			for i, a := range p.Buffers {
				bins[i], _ = engineio.AppendFrame(nil, c.eio, engineio.Packet{Type: engineio.Message, Binary: true, Data: a})
			}
		}
		return len(b), ws.WriteMessages(b, bins)
	}
	pkts := make([]engineio.Packet, 0, 1+len(p.Buffers))
	pkts = append(pkts, engineio.Packet{Type: engineio.Message, Data: b[1:]})
	for _, a := range p.Buffers {
		pkts = append(pkts, engineio.Packet{Type: engineio.Message, Binary: true, Data: a})
	}
	if err := q.add(pkts...); err != nil {
		return 0, err
	}
	return len(b), q.flush(c.ctx)
}
