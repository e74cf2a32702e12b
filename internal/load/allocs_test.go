//go:build !race

// The race detector allocates on its own (and drops pooled buffers):
// allocation counts mean something only without it.

package load

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/testpeer"
)

// TestHotPathAllocs holds the runner's allocations per paced emit_ack
// iteration (arguments rendered from templates, the ack awaited, the
// next iteration slept toward): two runs of the same length that differ
// only by 500 iterations per client, against a Node peer in its own
// process, so that the difference is the iterations' alone. The client
// library's share is 1 (TestEchoAllocs). It was 17.7 before the
// runner's per-emit channel, callback and timer and the arguments'
// encoding/json went; 2.3 after.
func TestHotPathAllocs(t *testing.T) {
	peer := testpeer.Start(t, "node4")
	const clients, extra = 2, 500
	run := func(count int) uint64 {
		s := parseScenario(t, strings.ReplaceAll(`name: allocs
transport: websocket
load: {clients: 2, ramp: 0s, hold: 3s, grace: 5s}
flow:
  - connect: {}
  - loop:
      count: COUNT
      rate: 500
      steps:
        - emit_ack: {event: echo-ack, args: ["{{.Payload 64}}", {seq: "{{.Seq}}"}], timeout: 10s}
`, "COUNT", itoa(count)))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := Run(context.Background(), s, Options{Target: peer.URL})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Counters["acks"]; got != int64(clients*count) || res.TotalErrors() != 0 {
			t.Fatalf("count %d: %d acks, errors %v; want %d acks and none", count, got, res.Errors, clients*count)
		}
		return after.Mallocs - before.Mallocs
	}
	run(20) // warm-up: pools, lazily made histograms
	small, large := run(20), run(20+extra)
	per := (float64(large) - float64(small)) / (clients * extra)
	t.Logf("%.2f allocations per paced emit_ack iteration (%d and %d in the runs)", per, small, large)
	if per > 3 {
		t.Errorf("%.2f allocations per paced emit_ack iteration, budget 3", per)
	}
}
