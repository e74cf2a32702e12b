package load

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/hostile"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/scenarios"
)

// TestSilentServerCountedAtHandshakeTimeout: against a server that
// accepts TCP and never answers, every client is counted as one
// handshake error when its handshake timeout expires, during the hold
// and not when the load phase ends, on both transports.
func TestSilentServerCountedAtHandshakeTimeout(t *testing.T) {
	srv := hostile.Silent(t)
	for _, tr := range []string{scenarios.TransportPolling, scenarios.TransportWebSocket} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			const clients = 10
			s := parseScenario(t, fmt.Sprintf(`name: silent
transport: %s
timeouts: {handshake: 500ms}
load: {clients: %d, ramp: 0s, hold: 10s, grace: 1s}
flow:
  - connect: {}
`, tr, clients))
			var mu sync.Mutex
			seen := map[string]int64{} // last handshake_error count seen per phase
			res, err := Run(context.Background(), s, Options{Target: srv.URL, ProgressInterval: 100 * time.Millisecond,
				Progress: func(p Progress) {
					mu.Lock()
					seen[p.Phase] = max(seen[p.Phase], p.Snapshot.Errors[metrics.ErrHandshake])
					mu.Unlock()
				}})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("errors %v; handshake errors seen by phase %v; server accepted %d", res.Errors, seen, srv.Accepted.Load())
			if got := res.Errors[metrics.ErrHandshake]; got != clients {
				t.Errorf("handshake errors %d, want %d (each stuck client exactly once)", got, clients)
			}
			if n := res.TotalErrors(); n != clients {
				t.Errorf("%d errors in all (%v), want %d", n, res.Errors, clients)
			}
			// The 500 ms timeout leaves 9.5 s of hold: all must be counted
			// while the hold still runs.
			if seen["hold"] != clients {
				t.Errorf("during the hold %d handshake errors were counted, want all %d", seen["hold"], clients)
			}
			if res.PeakClients != 0 {
				t.Errorf("peak connected clients %d, want 0", res.PeakClients)
			}
		})
	}
}

// TestEndlessBodyLoadBounded: 100 virtual clients against a server that
// sends a valid open packet and then a polling body or WebSocket message
// that never ends. Each session ends as a counted transport-error
// disconnect, the run ends on time, and memory stays bounded.
func TestEndlessBodyLoadBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100 clients reading 2 MB per session")
	}
	for _, tr := range []string{scenarios.TransportPolling, scenarios.TransportWebSocket} {
		t.Run(tr, func(t *testing.T) {
			srv := hostile.Endless(t, hostile.Config{})
			const clients = 100
			s := parseScenario(t, fmt.Sprintf(`name: endless
transport: %s
load: {clients: %d, ramp: 500ms, hold: 2s, grace: 1s}
flow:
  - connect: {}
`, tr, clients))
			mem := hostile.SampleMemory(10 * time.Millisecond)
			begin := time.Now()
			res, err := Run(context.Background(), s, Options{Target: srv.URL})
			took := time.Since(begin)
			peakHeap, peakRSS := mem.Stop()
			after := hostile.HeapAfterGC()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("run took %v; errors %v disconnects %v; server sessions %d endless %d; peak heap %.1f MiB, peak RSS %.1f MiB (base %.1f), heap after GC %.1f MiB",
				took.Round(time.Millisecond), res.Errors, res.Disconnects, srv.Opened.Load(), srv.Endless.Load(),
				float64(peakHeap)/hostile.MiB, float64(peakRSS)/hostile.MiB, float64(mem.BaseRSS)/hostile.MiB, float64(after)/hostile.MiB)
			// A session that reached the endless part ends as one counted
			// transport-error disconnect, or as our own close if the load
			// ended while it was reading (how many is up to the machine).
			ended := res.Disconnects["transport error"]
			if ended == 0 || ended > srv.Endless.Load() {
				t.Errorf("%d transport-error disconnects, want 1 to %d (the endless sessions)", ended, srv.Endless.Load())
			}
			// Each counted once as an error, unless the run was already
			// closing the client (then it is a disconnect, not an error).
			got := res.Errors[metrics.ErrDisconnect]
			if got == 0 || got > ended {
				t.Errorf("disconnect errors %d, want 1 to %d (one per transport-error disconnect)", got, ended)
			}
			if n := res.TotalErrors(); n != got {
				t.Errorf("errors %v, want only disconnects", res.Errors)
			}
			// Generous: 3.5 s of load and grace plus the 5 s close timeout.
			if took > 60*time.Second {
				t.Errorf("the run took %v", took)
			}
			const ceiling = 200 * hostile.MiB
			if hostile.RaceEnabled {
				t.Log("race detector on: memory ceiling not asserted")
			} else if peakRSS > ceiling || peakHeap > ceiling {
				t.Errorf("peak RSS %.1f MiB, heap %.1f MiB: ceiling %d MiB", float64(peakRSS)/hostile.MiB, float64(peakHeap)/hostile.MiB, ceiling/hostile.MiB)
			}
			if after > mem.BaseHeap+32*hostile.MiB {
				t.Errorf("heap in use after the run %.1f MiB, started at %.1f MiB: buffers kept", float64(after)/hostile.MiB, float64(mem.BaseHeap)/hostile.MiB)
			}
		})
	}
}
