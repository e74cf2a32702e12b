package server

import (
	"log"
	"net"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// HTTPServers is the Serve and Close bookkeeping of a server that may be
// given several listeners, Server's and internal/target's alike: one
// fasthttp server per listener, all handed back once by Close for the
// owner to stop in its own order. The zero value is ready to use.
type HTTPServers struct {
	mu     sync.Mutex
	list   []*fasthttp.Server
	closed atomic.Bool
}

// Serve serves h on ln (NewHTTPServer, behind GuardListener
// so that running out of file descriptors refuses new connections but
// keeps serving) until Close. It returns nil after Close and ErrClosed
// without serving when Close came first.
func (ss *HTTPServers) Serve(ln net.Listener, h fasthttp.RequestHandler) error {
	hs := NewHTTPServer(h)
	ss.mu.Lock()
	if ss.closed.Load() {
		ss.mu.Unlock()
		return ErrClosed
	}
	ss.list = append(ss.list, hs)
	ss.mu.Unlock()
	err := hs.Serve(GuardListener(ln, log.Printf))
	if ss.closed.Load() {
		return nil
	}
	return err
}

// Close marks ss closed and returns the servers Serve started, for the
// caller to shut down; first is false (and servers nil) when ss was
// already closed, so that a second Close of the owner does nothing.
func (ss *HTTPServers) Close() (servers []*fasthttp.Server, first bool) {
	if ss.closed.Swap(true) {
		return nil, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.list, true
}

// Closed reports whether Close has been called, for handlers that must
// refuse new work while the servers shut down.
func (ss *HTTPServers) Closed() bool { return ss.closed.Load() }
