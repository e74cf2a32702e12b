package load

import (
	"context"
	"testing"
	"time"
)

// lateCtx is a context past its deadline whose timer has not fired yet,
// as a busy machine leaves one for a moment.
type lateCtx struct{ context.Context }

func (lateCtx) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }
func (lateCtx) Err() error                  { return nil }

// TestEndedCountsADeadlineNotYetFired: a handshake that fails at the load
// phase's deadline is the load's end, not a handshake error, whether or
// not ctx's timer has run.
func TestEndedCountsADeadlineNotYetFired(t *testing.T) {
	live, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"live", live, false},
		{"no deadline", context.Background(), false},
		{"cancelled", done, true},
		{"deadline passed, timer not fired", lateCtx{context.Background()}, true},
	} {
		if got := ended(c.ctx); got != c.want {
			t.Errorf("%s: ended = %v, want %v", c.name, got, c.want)
		}
	}
}
