//go:build !race

package client_test

import (
	"testing"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
)

// TestEchoAllocs holds the WebSocket hot path to its budget: at most two
// allocations per emit-and-receive round trip after warm-up, counted
// across the whole process (reader goroutine included).
func TestEchoAllocs(t *testing.T) {
	p := testpeer.Start(t, "node4")
	s, done := echoClient(t, p, client.WebSocketOnly)
	out := client.Outgoing{Event: "echo", Args: echoArgs}
	allocs := testing.AllocsPerRun(2000, func() {
		if err := s.Send(out); err != nil {
			t.Fatal(err)
		}
		<-done
	})
	if allocs > 2 {
		t.Fatalf("%.1f allocations per round trip, budget 2", allocs)
	}
	t.Logf("%.2f allocations per WebSocket echo round trip", allocs)
}
