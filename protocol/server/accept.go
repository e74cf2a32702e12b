package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// GuardListener wraps ln so that running out of file descriptors does not
// end a server. fasthttp's Serve returns on any accept error but a
// timeout, dropping every live connection with it; behind GuardListener,
// Accept instead refuses the pending connection and tries again, and the
// connections already open are kept.
//
// To refuse rather than leave clients hanging in the backlog, it keeps
// one descriptor in reserve (/dev/null): on EMFILE or ENFILE it gives it
// up, accepts the pending connection, resets it (linger 0) and takes the
// reserve back. Without a reserve it waits (5 ms doubling to 1 s) before
// trying again. logf, if not nil, is told at most once a second that
// connections are being refused and once when they are accepted again.
func GuardListener(ln net.Listener, logf func(format string, args ...any)) net.Listener {
	g := &guardedListener{Listener: ln, logf: logf}
	g.spare, _ = os.Open(os.DevNull)
	return g
}

type guardedListener struct {
	net.Listener
	logf func(string, ...any)

	mu      sync.Mutex // Accept is called from one goroutine; Close may race it
	spare   *os.File
	refused int64 // since the last log line
	total   int64 // since the exhaustion began
	lastLog time.Time
	closed  bool
}

// fdExhausted reports whether err is the process (EMFILE) or the system
// (ENFILE) out of file descriptors.
func fdExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

func (g *guardedListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := g.Listener.Accept()
		if err == nil {
			g.recovered()
			return c, nil
		}
		if !fdExhausted(err) {
			return nil, err
		}
		c, refused := g.refuse(err)
		if c != nil {
			g.recovered()
			return c, nil
		}
		if refused {
			continue
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}

// refuse accepts the pending connection with the reserve descriptor. If
// a descriptor is free again by then (the reserve can be taken back), it
// returns the connection to be served; otherwise it resets it and
// reports that it refused one. Without a reserve it only counts and logs.
func (g *guardedListener) refuse(cause error) (served net.Conn, refused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.spare != nil && !g.closed {
		g.spare.Close()
		g.spare = nil
		c, err := g.Listener.Accept()
		g.spare, _ = os.Open(os.DevNull)
		if err == nil && g.spare != nil {
			return c, false // descriptors were freed meanwhile
		}
		if err == nil {
			if tc, isTCP := c.(*net.TCPConn); isTCP {
				_ = tc.SetLinger(0) // a reset: the client learns at once
			}
			c.Close()
			g.spare, _ = os.Open(os.DevNull)
			refused = true
		}
	}
	g.refused++
	g.total++
	if g.logf != nil && time.Since(g.lastLog) >= time.Second {
		g.logf("server: out of file descriptors (%v): refusing new connections, keeping the open ones (%d refused in the last second)", cause, g.refused)
		g.lastLog, g.refused = time.Now(), 0
	}
	return nil, refused
}

// recovered logs the end of an exhaustion.
func (g *guardedListener) recovered() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total == 0 {
		return
	}
	if g.logf != nil {
		g.logf("server: accepting connections again (%d refused while out of file descriptors)", g.total)
	}
	g.total, g.refused, g.lastLog = 0, 0, time.Time{}
}

// Close closes the listener first: that ends an Accept blocked in
// refuse, which holds mu.
func (g *guardedListener) Close() error {
	err := g.Listener.Close()
	g.mu.Lock()
	g.closed = true
	if g.spare != nil {
		g.spare.Close()
		g.spare = nil
	}
	g.mu.Unlock()
	return err
}
