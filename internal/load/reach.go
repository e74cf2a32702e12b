package load

import (
	"fmt"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/metrics"
)

// reach follows whether the target can still be reached, to tell a
// target that went away during the run (killed, network gone) from
// clients that merely had errors. Every successful handshake (first or
// reconnect) marks the target up; a session lost by surprise or a failed
// connection attempt after the last success marks it down since then.
// Handshakes are rare next to messages, so one mutex is no contention.
type reach struct {
	mu     sync.Mutex
	up     bool      // some handshake ever succeeded
	downAt time.Time // first failure after the last success; zero: none
	failed int       // failed connection attempts since downAt
	cause  string    // the first of those attempts' error message
}

// handshake records a successful handshake.
func (r *reach) handshake() {
	r.mu.Lock()
	r.up = true
	r.downAt, r.failed, r.cause = time.Time{}, 0, ""
	r.mu.Unlock()
}

// lost records a failure: a session lost by surprise (attempt false) or
// a failed handshake or reconnection attempt with its error.
func (r *reach) lost(attempt bool, err error) {
	now := time.Now()
	var msg string
	if attempt && err != nil {
		msg = metrics.CauseText(err.Error())
	}
	r.mu.Lock()
	if r.downAt.IsZero() {
		r.downAt = now
	}
	if attempt {
		r.failed++
		if r.cause == "" {
			r.cause = msg
		}
	}
	r.mu.Unlock()
}

// unreachable reports whether the target became unreachable during the
// run: it was up once, no client is connected now (the end of the load
// phase), and since some moment every connection attempt failed (at
// least one did) with none succeeding. The reason says since when
// (minutes:seconds from start) and the first failed attempt's error.
func (r *reach) unreachable(start time.Time, connectedNow int64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.up || r.downAt.IsZero() || r.failed == 0 || connectedNow > 0 {
		return "", false
	}
	since := max(r.downAt.Sub(start), 0).Truncate(time.Second)
	reason := fmt.Sprintf("target unreachable since %02d:%02d (%d connection attempts failed)", int(since/time.Minute), int(since%time.Minute/time.Second), r.failed)
	if r.cause != "" {
		reason += ": " + r.cause
	}
	return reason, true
}
