package load

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// TestManyClients holds 2,000 WebSocket and 500 polling clients at once
// against the in-process built-in target, each client doing exactly
// three acknowledged round trips and then staying connected. Nothing in
// it depends on the machine's speed: the load phase is long (4 min) and
// the test ends it as soon as every client has done its round trips and
// the server holds all 2,500 sessions, so a slow or busy machine takes
// longer, but gets the same counts. What is asserted is exact: every
// client connected, acks == clients*3, no error, the server's session
// and event counts equal sioload's. The scale figures (messages per
// second, CPU and memory per client) are bench/load.sh's.
// Over 127.0.0.1 the 2,500 sessions use ~3,000 sockets on each side:
// well within the 20,000 open-file limit and the ephemeral port range.
func TestManyClients(t *testing.T) {
	const ws, polling, trips = 2000, 500, 3
	b := startBuiltin(t, target.Options{})
	src := func(transport string, clients int) string {
		return `name: many-` + transport + `
transport: ` + transport + `
load: {clients: ` + itoa(clients) + `, ramp: 2s, hold: 4m, grace: 30s}
flow:
  - connect: {}
  - loop:
      count: ` + itoa(trips) + `
      rate: 1
      steps:
        - emit_ack: {event: echo-ack, args: [x], timeout: 60s}
`
	}
	// The latest progress snapshot of each run; the watcher below ends
	// both runs once every client has done its round trips (or at the
	// first error, so that a failure does not wait out the hold).
	var wsSnap, pollSnap atomic.Pointer[metrics.Result]
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	errDone := errors.New("test: every client did its round trips")
	errFailed := errors.New("test: a run counted an error")
	var atEnd atomic.Int64 // server sessions when the watcher ended the runs
	stop := make(chan struct{})
	var wg sync.WaitGroup
	begin := time.Now()
	ticks := 0
	wg.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			w, p := wsSnap.Load(), pollSnap.Load()
			if w == nil || p == nil {
				continue
			}
			// Shown on failure (or -v): how far the clients got, and when.
			if ticks++; ticks%50 == 0 {
				t.Logf("%v: ws connected %d started %d acks %d; polling connected %d started %d acks %d; server sessions %d", time.Since(begin).Round(time.Millisecond), w.ClientsConnected, w.Counters["clients_started"], w.Counters["acks"], p.ClientsConnected, p.Counters["clients_started"], p.Counters["acks"], b.Stats().Sessions)
			}
			if w.TotalErrors() > 0 || p.TotalErrors() > 0 {
				cancel(errFailed)
				return
			}
			if w.Counters["acks"] == ws*trips && p.Counters["acks"] == polling*trips &&
				w.ClientsConnected == ws && p.ClientsConnected == polling {
				if n := b.Stats().Sessions; n == ws+polling {
					atEnd.Store(n)
					cancel(errDone)
					return
				}
			}
		}
	})
	opts := func(snap *atomic.Pointer[metrics.Result]) Options {
		return Options{Target: b.URL, ProgressInterval: 200 * time.Millisecond,
			Progress: func(p Progress) { snap.Store(p.Snapshot) }}
	}
	var wsRes, pollRes *metrics.Result
	var runs sync.WaitGroup
	runs.Go(func() {
		wsRes, _ = Run(ctx, parseScenario(t, src("websocket", ws)), opts(&wsSnap))
	})
	runs.Go(func() {
		pollRes, _ = Run(ctx, parseScenario(t, src("polling", polling)), opts(&pollSnap))
	})
	runs.Wait()
	close(stop)
	wg.Wait()
	t.Logf("wall %v; server sessions when ended %d; stats %+v", time.Since(begin), atEnd.Load(), b.Stats())
	if wsRes == nil || pollRes == nil {
		t.Fatal("run failed")
	}
	if cause := context.Cause(ctx); cause != errDone {
		t.Errorf("runs ended by %v, want %q (server sessions %d, want %d)", cause, errDone, b.Stats().Sessions, ws+polling)
	}
	for _, c := range []struct {
		res     *metrics.Result
		clients int64
	}{{wsRes, ws}, {pollRes, polling}} {
		r := c.res
		t.Logf("%s: elapsed %v, peak %d, counters %v, errors %v, health %+v", r.Scenario, r.Elapsed, r.PeakClients, r.Counters, r.Errors, *r.Health)
		if r.PeakClients != c.clients {
			t.Errorf("%s: peak clients %d, want %d", r.Scenario, r.PeakClients, c.clients)
		}
		if r.TotalErrors() != 0 {
			t.Errorf("%s: errors %v", r.Scenario, r.Errors)
		}
		if acks, sent := r.Counters["acks"], r.Counters["messages_sent"]; acks != trips*c.clients || sent != trips*c.clients {
			t.Errorf("%s: %d acks, %d sent, want %d each (%d per client)", r.Scenario, acks, sent, trips*c.clients, trips)
		}
	}
	st := b.Stats()
	if sent := wsRes.Counters["messages_sent"] + pollRes.Counters["messages_sent"]; st.EventsIn != sent {
		t.Errorf("server events in %d, sioload sent %d", st.EventsIn, sent)
	}
	if st.SessionsTotal != ws+polling {
		t.Errorf("server opened %d sessions, want %d (one per client)", st.SessionsTotal, ws+polling)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
