package load

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/target"
)

// TestTimelineRealRun runs the reconnect storm (a drop and a restart)
// against the built-in target with 250 ms intervals: the timeline must
// account for the totals exactly and carry the faults and phases.
func TestTimelineRealRun(t *testing.T) {
	t.Parallel()
	b := startBuiltin(t, target.Options{})
	s := variant(t, "reconnect-storm.yaml", 4, 2500*time.Millisecond,
		"at: 5s, drop: 0.5", "at: 1s, drop: 0.5", "at: 12s, restart_target: true, down: 1s", "at: 1500ms, restart_target: true, down: 300ms")
	s.Load.Ramp, s.Load.Grace = 500*time.Millisecond, time.Second
	res, err := Run(context.Background(), s, Options{Target: b.URL, Restart: b.Restart, Reconnect: fastReconnect, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tl := res.Timeline
	if tl == nil || res.TimelineError != "" {
		t.Fatalf("no timeline (%q)", res.TimelineError)
	}
	// 3 s of load plus closing: at least 8 intervals of 250 ms.
	if n := len(tl.Intervals); n < 8 || tl.Interval != 0.25 {
		t.Fatalf("%d intervals of %vs", n, tl.Interval)
	}
	if err := res.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, m := range tl.Markers {
		marks = append(marks, m.Kind+":"+m.Text)
	}
	got := strings.Join(marks, " | ")
	// How many clients the drop found connected depends on how fast
	// they connected on this machine: at least one of the four.
	if !regexp.MustCompile(`fault:drop 50% \([1-2] clients\)`).MatchString(got) {
		t.Errorf("no drop marker in %s", got)
	}
	for _, want := range []string{"phase:ramp", "phase:hold", "fault:restart target, down 300ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("marker %q missing from %s", want, got)
		}
	}
	var peak int64
	for _, iv := range tl.Intervals {
		peak = max(peak, iv.ClientsConnected)
		if iv.Health == nil || iv.Health.Goroutines == 0 || iv.Health.Heap == 0 {
			t.Fatalf("interval at %vs without generator health: %+v", iv.T, iv.Health)
		}
	}
	if peak < 1 || peak > 4 || peak > res.PeakClients {
		t.Errorf("peak connected clients over the intervals %d, want 1..4 and at most the run's peak %d", peak, res.PeakClients)
	}
}
