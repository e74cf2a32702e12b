package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/scenarios"
)

// Segment is one of Count equal parts of a scenario (sioload run
// --segment Index/Count), Index from 0 like a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX. The parts interleave: part i runs the clients
// (closed model) or arrivals (open model) whose number n has
// n%Count == i, each at the very instant one process would start it, so
// the N schedules together are exactly the whole one and client numbers
// ({{.Client}}) stay globally unique. The zero value is the whole run.
type Segment struct {
	Index, Count int
}

// ParseSegment reads "I/N" (0 <= I < N).
func ParseSegment(s string) (Segment, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("%q is not I/N (part I of N, I from 0 to N-1: 0/3, 1/3, 2/3)", s)
	}
	g := Segment{Index: i, Count: n}
	return g, g.check()
}

func (g Segment) check() error {
	if g.Count < 1 || g.Index < 0 || g.Index >= g.Count {
		return fmt.Errorf("segment %d/%d: want 0 <= I < N (parts are numbered from 0, like JOB_COMPLETION_INDEX)", g.Index, g.Count)
	}
	return nil
}

// split reports whether the run is a part of several.
func (g Segment) split() bool { return g.Count > 1 }

// has reports whether client or arrival number n belongs to this part.
func (g Segment) has(n int) bool { return g.Count <= 1 || n%g.Count == g.Index }

// share is this part's share of n (a cap such as max_clients): n/Count,
// the remainder going to the first parts, so the shares sum to n.
func (g Segment) share(n int) int {
	if g.Count <= 1 {
		return n
	}
	s := n / g.Count
	if g.Index < n%g.Count {
		s++
	}
	return s
}

// CheckSegment refuses what a part cannot do on its own: faults that act
// on the target (each part would restart it or run the command once more)
// and more parts than clients (a part with nothing to run). Run checks it
// too; a command checks it first to say so before anything else.
func CheckSegment(s *scenarios.Scenario, g Segment) error {
	if g.Count == 0 {
		return nil
	}
	if err := g.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if !g.split() {
		return nil
	}
	for i, f := range s.Faults {
		if f.RestartTarget {
			return fmt.Errorf("%w: faults[%d]: restart_target cannot run in segments (each of the %d parts would restart the target); run it as one process (without --segment, --workers or --parallelism)", ErrUnsupported, i, g.Count)
		}
		if f.Exec != "" {
			return fmt.Errorf("%w: faults[%d]: exec cannot run in segments (each of the %d parts would run the command); run it as one process (without --segment, --workers or --parallelism)", ErrUnsupported, i, g.Count)
		}
	}
	n, what := s.Load.Clients, "load.clients"
	if s.Load.Model == scenarios.ModelOpen {
		n, what = s.Load.MaxClients, "load.max_clients"
	}
	if n < g.Count {
		return fmt.Errorf("%w: segment %d/%d: %s is %d, fewer than the %d parts", ErrUnsupported, g.Index, g.Count, what, n, g.Count)
	}
	return nil
}

// MaxStartWait bounds how far ahead Options.StartAt may be: a typo in
// the date must not leave a process waiting for days.
const MaxStartWait = 24 * time.Hour

// CheckStartAt refuses a start more than a second before now (the parts
// would not start together: a stale command line) or beyond MaxStartWait.
// Run checks it too; a command checks it first to name its flag.
func CheckStartAt(at, now time.Time) error {
	if at.IsZero() {
		return nil
	}
	if d := now.Sub(at); d > time.Second {
		return fmt.Errorf("start at %s is %s in the past", at.Format(time.RFC3339), d.Round(time.Second))
	}
	if d := at.Sub(now); d > MaxStartWait {
		return fmt.Errorf("start at %s is %s ahead, more than %s", at.Format(time.RFC3339), d.Round(time.Second), MaxStartWait)
	}
	return nil
}

// result is the segment as the result JSON records it (nil for the whole run).
func (g Segment) result() *metrics.Segment {
	if !g.split() {
		return nil
	}
	return &metrics.Segment{Index: g.Index, Count: g.Count}
}
