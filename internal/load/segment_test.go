package load

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/scenarios"
)

// TestSegmentPartition: the parts of every split take each client (or
// arrival) number exactly once, so {{.Client}} stays globally unique and
// the N schedules together are the whole one; shares of a cap sum to it.
func TestSegmentPartition(t *testing.T) {
	for count := 1; count <= 7; count++ {
		for _, n := range []int{count, 10, 101} {
			owners := make([]int, n)
			shares := 0
			for idx := range count {
				g := Segment{Index: idx, Count: count}
				mine := 0
				for i := range n {
					if g.has(i) {
						owners[i]++
						mine++
					}
				}
				if want := g.share(n); mine != want {
					t.Errorf("%d/%d of %d: %d clients, share says %d", idx, count, n, mine, want)
				}
				shares += g.share(n)
			}
			for i, o := range owners {
				if o != 1 {
					t.Fatalf("split in %d, client %d of %d is in %d parts", count, i, n, o)
				}
			}
			if shares != n {
				t.Errorf("split in %d: shares of %d sum to %d", count, n, shares)
			}
		}
	}
}

func TestParseSegment(t *testing.T) {
	if g, err := ParseSegment("2/3"); err != nil || g != (Segment{2, 3}) {
		t.Errorf("2/3: %+v %v", g, err)
	}
	for _, bad := range []string{"", "3", "3/3", "-1/3", "0/0", "a/b", "1/3/4"} {
		if _, err := ParseSegment(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	now := time.Now()
	for _, c := range []struct {
		at time.Time
		ok bool
	}{{now, true}, {now.Add(-500 * time.Millisecond), true}, {now.Add(-2 * time.Second), false}, {now.Add(time.Hour), true}, {now.Add(25 * time.Hour), false}} {
		if err := CheckStartAt(c.at, now); (err == nil) != c.ok {
			t.Errorf("start at now%+v: %v", c.at.Sub(now), err)
		}
	}
}

// TestSegmentsOpenModelAndDrops runs an open-model scenario and a closed
// one with a drop fault as parts in-process, against the built-in
// target: the parts' arrivals together are the whole schedule's, and each
// part drops its share of its own clients.
func TestSegmentsOpenModelAndDrops(t *testing.T) {
	t.Parallel()
	b := startBuiltin(t, target.Options{})
	// Arrivals at 0, 250 ms ... 1.25 s: 6, the last well before the end.
	open := parseScenario(t, `name: open
transport: websocket
load: {model: open, arrival_rate: 4, duration: 1500ms, max_clients: 10, grace: 10s}
flow:
  - connect: {}
  - emit_ack: {event: echo-ack, args: ["{{.Client}}"], timeout: 10s}
  - disconnect: {}
`)
	// 4 clients, half of them dropped at 2 s (all connected by then), in 2
	// parts: each drops 1 of its 2.
	drop := parseScenario(t, `name: drop
transport: websocket
load: {model: closed, clients: 4, hold: 4s, grace: 5s}
faults:
  - {at: 2s, drop: 0.5}
flow:
  - connect: {}
`)
	for _, c := range []struct {
		s     *scenarios.Scenario
		parts int
		check func(t *testing.T, part int, r *metrics.Result)
		whole func(t *testing.T, parts []*metrics.Result)
	}{
		{open, 3, func(t *testing.T, part int, r *metrics.Result) {
			if n := r.Counters["clients_started"]; n != 2 {
				t.Errorf("part %d/3: %d arrivals, want 2 of the 6", part, n)
			}
		}, func(t *testing.T, parts []*metrics.Result) {
			m := metrics.Merge(parts...)
			if m.Counters["clients_started"] != 6 || m.Counters["acks"] != 6 || m.TotalErrors() != 0 {
				t.Errorf("merged: %d arrivals, %d acks, errors %v; want 6, 6, none", m.Counters["clients_started"], m.Counters["acks"], m.Errors)
			}
		}},
		{drop, 2, func(t *testing.T, part int, r *metrics.Result) {
			var marks []string
			if r.Timeline != nil {
				for _, m := range r.Timeline.Markers {
					marks = append(marks, m.Text)
				}
			}
			if !slices.Contains(marks, "drop 50% (1 clients)") {
				t.Errorf("part %d/2: markers %q, want the drop of 1 of its 2 clients", part, marks)
			}
		}, nil},
	} {
		t.Run(c.s.Name, func(t *testing.T) {
			at := time.Now().Add(500 * time.Millisecond)
			parts := make([]*metrics.Result, c.parts)
			var wg sync.WaitGroup
			for i := range c.parts {
				wg.Go(func() {
					r, err := Run(context.Background(), c.s, Options{Target: b.URL, Segment: Segment{i, c.parts}, StartAt: at, Reconnect: fastReconnect})
					if err != nil {
						t.Error(err)
						return
					}
					parts[i] = r
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for i, r := range parts {
				if r.Segment == nil || r.Segment.Index != i || !r.Start.Equal(at) {
					t.Errorf("part %d: segment %+v start %v, want %d/%d at %v", i, r.Segment, r.Start, i, c.parts, at)
				}
				c.check(t, i, r)
			}
			if c.whole != nil {
				c.whole(t, parts)
			}
		})
	}
}
