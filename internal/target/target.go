package target

import (
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/protocol/server"
	"github.com/valyala/fasthttp"
)

// DefaultEnginePath is where the Engine.IO echo server listens.
const DefaultEnginePath = "/engine.io/"

// Options configures a Target.
type Options struct {
	// Server configures the Socket.IO server (path, heartbeat, limits,
	// CORS); the Engine.IO echo server shares its settings except Path.
	Server server.Options
	// EnginePath is the echo server's path; DefaultEnginePath when empty.
	EnginePath string
	// NoEngine leaves the Engine.IO echo server out.
	NoEngine bool
	// Delay is added before every reply (acks, message-back, echo, …),
	// without blocking the connection: replies are scheduled, so pipelined
	// requests each wait Delay, not the sum.
	Delay time.Duration
	// DropRatio is the share (0..1) of incoming events dropped silently,
	// before any handler runs: no reply, no ack.
	DropRatio float64
	// Worker, when set, is sent as the WorkerHeader of every response
	// (the WebSocket upgrade's 101 included): which of the processes of
	// sioload serve --workers answered.
	Worker string
}

// WorkerHeader names the process that answered (Options.Worker).
const WorkerHeader = "Sioload-Worker"

// Target is the contract server. Create it with New; serve it with Serve
// or mount Handler.
type Target struct {
	opts  Options
	sio   *server.Server
	eio   *server.Server
	stall atomic.Int64 // unix ns until which replies are held
	drops atomic.Int64
	http  server.HTTPServers
}

// New builds the target's servers and registers the contract handlers.
func New(opts Options) *Target {
	t := &Target{opts: opts}
	t.sio = server.New(&opts.Server)
	if !opts.NoEngine {
		eo := opts.Server
		eo.Path = opts.EnginePath
		if eo.Path == "" {
			eo.Path = DefaultEnginePath
		}
		eo.Engine = t.engineEcho
		t.eio = server.New(&eo)
	}
	t.register()
	return t
}

// Server returns the Socket.IO server, to add namespaces or handlers.
func (t *Target) Server() *server.Server { return t.sio }

// Engine returns the Engine.IO echo server (nil with NoEngine).
func (t *Target) Engine() *server.Server { return t.eio }

// Stats returns the Socket.IO server's counters.
func (t *Target) Stats() server.Stats { return t.sio.Stats() }

// Dropped returns how many events DropRatio dropped.
func (t *Target) Dropped() int64 { return t.drops.Load() }

// Stall holds every reply for d from now (replies already due wait too);
// incoming packets are still read, so heartbeats go on. Stall(0) ends a
// stall early.
func (t *Target) Stall(d time.Duration) {
	t.stall.Store(time.Now().Add(d).UnixNano())
}

// Handler routes /engine.io/ to the echo server and the rest to the
// Socket.IO server.
func (t *Target) Handler() fasthttp.RequestHandler {
	sio := t.sio.Handler()
	h := sio
	if t.eio != nil {
		eio := t.eio.Handler()
		h = func(ctx *fasthttp.RequestCtx) {
			if t.eio.Handles(ctx) {
				eio(ctx)
				return
			}
			sio(ctx)
		}
	}
	if w := t.opts.Worker; w != "" {
		inner := h
		h = func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.Set(WorkerHeader, w)
			inner(ctx)
		}
	}
	return h
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (t *Target) Serve(ln net.Listener) error {
	return t.http.Serve(ln, t.Handler())
}

// Close closes both servers and every listener Serve was given.
func (t *Target) Close() error {
	https, first := t.http.Close()
	if !first {
		return nil
	}
	t.sio.Close()
	if t.eio != nil {
		t.eio.Close()
	}
	for _, hs := range https {
		_ = hs.Shutdown()
	}
	return nil
}

// wait is how long a reply due now must be held (Delay, Stall).
func (t *Target) wait() time.Duration {
	w := t.opts.Delay
	if until := t.stall.Load(); until != 0 {
		if d := time.Duration(until - time.Now().UnixNano()); d > w {
			w = d
		}
	}
	return w
}

// reply runs fn now, or later on a copy of m when a reply must wait.
func (t *Target) reply(s *server.Socket, m *server.Message, fn func(*server.Socket, *server.Message)) {
	w := t.wait()
	if w <= 0 {
		fn(s, m)
		return
	}
	c := m.Clone()
	time.AfterFunc(w, func() { fn(s, c) })
}

// drop applies DropRatio to one incoming event.
func (t *Target) drop() bool {
	if t.opts.DropRatio > 0 && rand.Float64() < t.opts.DropRatio {
		t.drops.Add(1)
		return true
	}
	return false
}

func (t *Target) engineEcho(s *server.Session, data []byte, binary bool) {
	if t.drop() {
		return
	}
	w := t.wait()
	if w <= 0 {
		_ = s.Send(data, binary)
		return
	}
	c := append([]byte(nil), data...)
	time.AfterFunc(w, func() { _ = s.Send(c, binary) })
}
