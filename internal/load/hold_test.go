package load

import (
	"bytes"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// TestHeldClientsHaveNoFlowGoroutine: closed-model clients whose flow
// ended connected stay connected through the hold without a goroutine
// of the runner's (their connection's reader is all that waits), and
// are all closed and counted when the load ends.
func TestHeldClientsHaveNoFlowGoroutine(t *testing.T) {
	b, err := StartBuiltin(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const clients = 20
	s := parseScenario(t, `name: held
load: {clients: 20, ramp: 0s, hold: 1m, grace: 5s}
flow:
  - connect: {}
  - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
`)
	var flows atomic.Int64
	flows.Store(-1)
	res := runUntil(t, s, Options{Target: b.URL}, func(r *metrics.Result) bool {
		if r.ClientsConnected != clients || r.Counters["acks"] != clients || b.Stats().Sessions != clients {
			return false
		}
		// Every flow is over; give the last one a moment to return.
		time.Sleep(50 * time.Millisecond)
		flows.Store(int64(goroutinesIn("internal/load.(*vclient)")))
		return true
	})
	if n := flows.Load(); n != 0 {
		t.Errorf("%d goroutines in the runner's client code while %d clients were held, want 0", n, clients)
	}
	if res.PeakClients != clients || res.Counters["acks"] != clients || res.TotalErrors() != 0 {
		t.Errorf("peak %d, acks %d, errors %v; want %d, %d, none", res.PeakClients, res.Counters["acks"], res.Errors, clients, clients)
	}
	if res.ClientsConnected != 0 || res.Disconnects["io client disconnect"] != clients {
		t.Errorf("at the end %d connected, disconnects %v; want 0 and %d of ours", res.ClientsConnected, res.Disconnects, clients)
	}
}

// goroutinesIn counts the goroutines with a frame whose function name
// contains fn.
func goroutinesIn(fn string) int {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}
