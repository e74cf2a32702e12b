package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// Server is an Engine.IO v4 / Socket.IO v5 server. Create it with New,
// register namespaces and handlers with Of, then serve with Serve or mount
// Handler on a fasthttp server.
type Server struct {
	cfg      config
	sched    *scheduler
	upgrader websocket.FastHTTPUpgrader
	stats    counters

	mu       sync.RWMutex
	sessions map[string]*Session
	nsps     map[string]*Namespace
	http     HTTPServers

	// ErrorLog, when set, receives errors the HTTP layer cannot report to
	// the client (a failed WebSocket upgrade). Set it before serving.
	ErrorLog func(error)
}

// New returns a server configured by opts (nil for defaults). Unless it is
// engine-only, the main namespace "/" exists from the start.
func New(opts *Options) *Server {
	s := &Server{
		cfg:      newConfig(opts),
		sched:    newScheduler(),
		sessions: make(map[string]*Session),
		nsps:     make(map[string]*Namespace),
	}
	s.upgrader = websocket.FastHTTPUpgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		// Node's ws server checks no origin; browsers' CORS does not apply
		// to WebSocket, and load clients send any.
		CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
	}
	if s.cfg.Engine == nil {
		s.Of("/")
	}
	return s
}

// Options returns the options in effect, defaults applied.
func (s *Server) Options() Options { return s.cfg.Options }

// Of returns the namespace name ("/" when empty; a leading "/" is added),
// creating it. Clients can only join namespaces created this way; others get
// CONNECT_ERROR "Invalid namespace".
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.nsps[name]
	if ns == nil {
		ns = newNamespace(s, name)
		s.nsps[name] = ns
	}
	return ns
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	ns := s.nsps[name]
	s.mu.RUnlock()
	return ns
}

func (s *Server) addSession(sess *Session) {
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
}

func (s *Server) removeSession(sess *Session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
}

func (s *Server) session(id []byte) *Session {
	s.mu.RLock()
	sess := s.sessions[string(id)]
	s.mu.RUnlock()
	return sess
}

// NewHTTPServer returns a fasthttp server with the settings Serve uses for
// handler h. Request bodies are streamed (StreamRequestBody) and only their
// first byte is read before the handler runs (MaxRequestBodySize 1: what
// fasthttp reads ahead, not a limit, when streaming): a polling POST is then
// active while its body is still arriving, so that a second POST in that time
// can be refused as the protocol requires, and the handler itself applies
// MaxHTTPBufferSize (Node's 413). There are no timeouts that would cut
// long-polling GETs. A WebSocket's connection belongs to its session
// (KeepHijackedConns): otherwise closing it (an upgrade timeout, a ping
// timeout, invalid UTF-8) would be a no-op until the peer itself closed, and
// a peer that never does would hold it forever.
func NewHTTPServer(h fasthttp.RequestHandler) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       h,
		Name:                          "siokit",
		StreamRequestBody:             true,
		MaxRequestBodySize:            1,
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: false,
		ReadBufferSize:                8192,
		IdleTimeout:                   2 * time.Minute,
		CloseOnShutdown:               true,
		KeepHijackedConns:             true,
	}
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(ln, s.Handler())
}

// Close closes every session (WebSockets get a close frame, pending GETs the
// close packet), stops the servers started by Serve and the scheduler.
func (s *Server) Close() error {
	https, first := s.http.Close()
	if !first {
		return nil
	}
	s.mu.Lock()
	sessions := slices.Collect(maps.Values(s.sessions))
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.close(reasonServerClose)
	}
	// Pending GETs answer with the close packet before the servers stop.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, hs := range https {
		_ = hs.ShutdownWithContext(ctx)
	}
	for _, sess := range sessions {
		sess.finalize()
	}
	s.sched.close()
	return nil
}

func (s *Server) log(_ *fasthttp.RequestCtx, err error) {
	if s.ErrorLog != nil {
		s.ErrorLog(err)
	}
}

var idCounter atomic.Uint32

// newID returns a 20-character URL-safe id from 11 random bytes and a
// 4-byte counter, the shape of Node's base64id (not a promise: ids are
// opaque).
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:11])
	binary.BigEndian.PutUint32(b[11:], idCounter.Add(1))
	return base64.RawURLEncoding.EncodeToString(b[:])
}
