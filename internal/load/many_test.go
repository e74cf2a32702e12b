package load

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// TestManyClients holds 2,000 WebSocket and 500 polling clients at once
// against the in-process built-in target, for 3 s, each client doing one
// acknowledged round trip a second. It is part of the default run and of
// the -race run: ~5.5 s of wall time on 2 cores either way (ramp 2 s,
// hold 3 s).
// Over 127.0.0.1 the 2,500 sessions use ~3,000 sockets on each side:
// well within the 20,000 open-file limit and the ephemeral port range.
func TestManyClients(t *testing.T) {
	const ws, polling = 2000, 500
	b, err := StartBuiltin(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	src := func(transport string, clients int) string {
		return `name: many-` + transport + `
transport: ` + transport + `
load: {clients: ` + itoa(clients) + `, ramp: 2s, hold: 3s, grace: 3s}
flow:
  - connect: {}
  - loop:
      rate: 1
      steps:
        - emit_ack: {event: echo-ack, args: [x], timeout: 4s}
`
	}
	// Sample the server's session count while both runs hold.
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if n := b.Stats().Sessions; n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	})
	begin := time.Now()
	var wsRes, pollRes *metrics.Result
	var runs sync.WaitGroup
	runs.Go(func() {
		wsRes, _ = Run(context.Background(), parseScenario(t, src("websocket", ws)), Options{Target: b.URL})
	})
	runs.Go(func() {
		pollRes, _ = Run(context.Background(), parseScenario(t, src("polling", polling)), Options{Target: b.URL})
	})
	runs.Wait()
	close(stop)
	wg.Wait()
	t.Logf("wall %v; server peak sessions %d", time.Since(begin), peak.Load())
	for _, c := range []struct {
		res     *metrics.Result
		clients int64
	}{{wsRes, ws}, {pollRes, polling}} {
		r := c.res
		if r == nil {
			t.Fatal("run failed")
		}
		t.Logf("%s: peak %d, counters %v, errors %v, health %+v", r.Scenario, r.PeakClients, r.Counters, r.Errors, *r.Health)
		if r.PeakClients != c.clients {
			t.Errorf("%s: peak clients %d, want %d", r.Scenario, r.PeakClients, c.clients)
		}
		if r.TotalErrors() != 0 {
			t.Errorf("%s: errors %v", r.Scenario, r.Errors)
		}
		if acks := r.Counters["acks"]; acks < 3*c.clients {
			t.Errorf("%s: %d acks, want >= %d (one a second per client while holding)", r.Scenario, acks, 3*c.clients)
		}
	}
	if peak.Load() != ws+polling {
		t.Errorf("server peak sessions %d, want %d at once", peak.Load(), ws+polling)
	}
	if st := b.Stats(); st.EventsIn != wsRes.Counters["messages_sent"]+pollRes.Counters["messages_sent"] {
		t.Errorf("server events in %d, sioload sent %d", st.EventsIn, wsRes.Counters["messages_sent"]+pollRes.Counters["messages_sent"])
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
