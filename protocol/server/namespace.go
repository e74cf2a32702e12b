package server

import (
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Handler handles an event; m is valid only during the call (Clone to keep
// it). It runs on the connection's reader: blocking stalls that connection.
type Handler func(s *Socket, m *Message)

// Middleware runs when a client joins a namespace, before the CONNECT reply;
// auth is the CONNECT payload ({} when none). A non-nil error refuses the
// client with CONNECT_ERROR (use *ConnectError to attach data).
type Middleware func(s *Socket, auth json.RawMessage) error

// Namespace is one Socket.IO namespace: its middleware, handlers, sockets
// and rooms. Register handlers before clients connect; registering later is
// safe but races with events in flight.
type Namespace struct {
	srv   *Server
	name  string
	ackID atomic.Int64 // server ack ids are per namespace, as in Node

	mu           sync.RWMutex
	middlewares  []Middleware
	onConnect    []func(*Socket)
	onDisconnect []func(*Socket, string)
	anyHandler   Handler
	sockets      map[*Socket]struct{}
	rooms        map[string]map[*Socket]struct{}

	handlers atomic.Pointer[map[string]*handlerEntry] // copy on write: lock-free lookups
}

type handlerEntry struct {
	name string
	fn   Handler
}

func newNamespace(srv *Server, name string) *Namespace {
	ns := &Namespace{srv: srv, name: name, sockets: make(map[*Socket]struct{}), rooms: make(map[string]map[*Socket]struct{})}
	m := map[string]*handlerEntry{}
	ns.handlers.Store(&m)
	return ns
}

// Name returns the namespace name, e.g. "/" or "/admin".
func (ns *Namespace) Name() string { return ns.name }

// Use adds a middleware; middlewares run in the order added.
func (ns *Namespace) Use(mw Middleware) {
	ns.mu.Lock()
	ns.middlewares = append(ns.middlewares, mw)
	ns.mu.Unlock()
}

// OnConnect adds a function run for every socket that joins, after the
// CONNECT reply was queued (so its emits follow the reply).
func (ns *Namespace) OnConnect(fn func(*Socket)) {
	ns.mu.Lock()
	ns.onConnect = append(ns.onConnect, fn)
	ns.mu.Unlock()
}

// OnDisconnect adds a function run once when a socket leaves, with Node's
// reason ("client namespace disconnect", "server namespace disconnect",
// "transport close", "ping timeout", …).
func (ns *Namespace) OnDisconnect(fn func(*Socket, string)) {
	ns.mu.Lock()
	ns.onDisconnect = append(ns.onDisconnect, fn)
	ns.mu.Unlock()
}

// On registers h for event name on every socket of the namespace,
// replacing an earlier one.
func (ns *Namespace) On(name string, h Handler) {
	ns.mu.Lock()
	old := *ns.handlers.Load()
	m := make(map[string]*handlerEntry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[name] = &handlerEntry{name: name, fn: h}
	ns.handlers.Store(&m)
	ns.mu.Unlock()
}

// OnAny registers h for events without a handler of their own.
func (ns *Namespace) OnAny(h Handler) {
	ns.mu.Lock()
	ns.anyHandler = h
	ns.mu.Unlock()
}

func (ns *Namespace) middlewareList() []Middleware {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.middlewares
}

func (ns *Namespace) add(s *Socket) {
	ns.mu.Lock()
	ns.sockets[s] = struct{}{}
	ns.mu.Unlock()
}

func (ns *Namespace) connected(s *Socket) {
	ns.mu.RLock()
	fns := ns.onConnect
	ns.mu.RUnlock()
	for _, fn := range fns {
		fn(s)
	}
}

// remove forgets s and its rooms, then runs the disconnect handlers.
func (ns *Namespace) remove(s *Socket, reason string) {
	ns.mu.Lock()
	delete(ns.sockets, s)
	for room := range s.rooms {
		ns.leaveLocked(s, room)
	}
	fns := ns.onDisconnect
	ns.mu.Unlock()
	for _, fn := range fns {
		fn(s, reason)
	}
}

func (ns *Namespace) leaveLocked(s *Socket, room string) {
	delete(s.rooms, room)
	if m := ns.rooms[room]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(ns.rooms, room)
		}
	}
}

// Sockets returns the number of sockets connected to the namespace.
func (ns *Namespace) Sockets() int {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return len(ns.sockets)
}

// To starts a broadcast to the members of rooms (every socket of the
// namespace when none are given).
func (ns *Namespace) To(rooms ...string) *Broadcast {
	return &Broadcast{ns: ns, rooms: rooms}
}

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return ns.To().Emit(event, args...)
}
