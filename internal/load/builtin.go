package load

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/server"
)

// Builtin is the built-in target (internal/target) served in-process on
// 127.0.0.1, restartable on the same port for the restart_target fault.
// Its Stats add up every incarnation, so that a run's counters can be
// compared with the server's across a restart.
type Builtin struct {
	opts target.Options
	addr string
	// URL is "http://127.0.0.1:<port>".
	URL string

	mu     sync.Mutex
	cur    *target.Target
	prev   server.Stats // sum of the stopped incarnations
	closed bool
}

// StartBuiltin starts the built-in target with opts on a free port.
func StartBuiltin(opts target.Options) (*Builtin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("built-in target: %w", err)
	}
	b := &Builtin{opts: opts, addr: ln.Addr().String()}
	b.URL = "http://" + b.addr
	b.serve(ln)
	return b, nil
}

func (b *Builtin) serve(ln net.Listener) {
	t := target.New(b.opts)
	b.cur = t
	go t.Serve(ln)
}

// Target returns the current incarnation (for Stall and Delay tests).
func (b *Builtin) Target() *target.Target {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// Stats returns the server counters summed over every incarnation; the
// gauges (Sessions, Sockets) are the current incarnation's.
func (b *Builtin) Stats() server.Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return b.prev
	}
	c := b.cur.Stats()
	s := addStats(b.prev, c)
	s.Sessions, s.Sockets = c.Sessions, c.Sockets
	return s
}

// addStats adds c's counters (not its gauges) to s.
func addStats(s, c server.Stats) server.Stats {
	s.SessionsTotal += c.SessionsTotal
	s.SocketsTotal += c.SocketsTotal
	s.MessagesIn += c.MessagesIn
	s.MessagesOut += c.MessagesOut
	s.BytesIn += c.BytesIn
	s.BytesOut += c.BytesOut
	s.EventsIn += c.EventsIn
	s.AcksIn += c.AcksIn
	return s
}

// Restart closes the target (every client sees its session end), keeps
// the port closed for down, then serves a fresh target on the same port.
// It is the restart_target fault.
func (b *Builtin) Restart(down time.Duration) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	old := b.cur
	b.mu.Unlock()
	old.Close()
	b.mu.Lock()
	b.prev = addStats(b.prev, old.Stats())
	b.cur = nil
	b.mu.Unlock()
	time.Sleep(down)
	// The old listener is closed; TIME_WAIT sockets of accepted
	// connections do not block a listening socket on Linux (Go sets
	// SO_REUSEADDR), but retry briefly in case the close is still going.
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("built-in target restart: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		ln.Close()
		return nil
	}
	b.serve(ln)
	return nil
}

// Close stops the target for good.
func (b *Builtin) Close() error {
	b.mu.Lock()
	b.closed = true
	t := b.cur
	b.mu.Unlock()
	if t != nil {
		return t.Close()
	}
	return nil
}
