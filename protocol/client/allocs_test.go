//go:build !race

package client_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
)

// TestEchoAllocs holds the hot path of each transport to its budget: at
// most two allocations per emit-and-receive round trip after warm-up,
// counted across the whole process (reader or poll goroutine included).
func TestEchoAllocs(t *testing.T) {
	p := testpeer.Start(t, "node4")
	for _, tc := range []struct {
		name string
		mode client.Mode
	}{{"websocket", client.WebSocketOnly}, {"polling", client.PollingOnly}} {
		t.Run(tc.name, func(t *testing.T) {
			s, done := echoClient(t, p, tc.mode)
			out := client.Outgoing{Event: "echo", Args: echoArgs}
			allocs := testing.AllocsPerRun(2000, func() {
				if err := s.Send(out); err != nil {
					t.Fatal(err)
				}
				<-done
			})
			if allocs > 2 {
				t.Fatalf("%.1f allocations per %s round trip, budget 2", allocs, tc.name)
			}
			t.Logf("%.2f allocations per %s echo round trip", allocs, tc.name)
		})
	}
}

// TestIdleWebSocketFootprint holds what an idle WebSocket client costs:
// its reader goroutine's stack is shrunk to 4 KiB by the GC (the reader's
// frames under the blocked read must stay small enough for that: 8 KiB
// if they grow). Heap is only logged: at this scale it varies by 1 KiB
// from run to run (BenchmarkIdleClients measures it at 1,000 clients).
func TestIdleWebSocketFootprint(t *testing.T) {
	p := testpeer.Start(t, "node4")
	const n = 200
	var before, after runtime.MemStats
	gc := func(ms *runtime.MemStats) {
		for range 4 {
			runtime.GC()
		}
		runtime.ReadMemStats(ms)
	}
	gc(&before)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range n {
		c, err := client.Dial(ctx, p.URL, &client.Options{Mode: client.WebSocketOnly})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Socket("/").Connect(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // every reader is parked in its read
	gc(&after)
	stack := (int64(after.StackInuse) - int64(before.StackInuse)) / n
	heap := (int64(after.HeapInuse) - int64(before.HeapInuse)) / n
	t.Logf("per idle WebSocket client: %d B stack, %d B heap", stack, heap)
	if stack > 5<<10 {
		t.Errorf("%d B of goroutine stack per idle client, want about 4 KiB (the reader's idle stack no longer shrinks)", stack)
	}
}
