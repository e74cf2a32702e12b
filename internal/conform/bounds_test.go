package conform

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/hostile"
)

// TestEndlessServerBounded runs the Engine.IO v4 handshake, polling and
// WebSocket cases against a server that answers the handshake and then
// sends a polling body or WebSocket message that never ends: the run
// ends, memory stays bounded, and the traces say where the tester cut.
func TestEndlessServerBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 MiB per cut body")
	}
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	sel := Select(cases, 4, []string{"eio4.handshake", "eio4.polling", "eio4.websocket"}, nil)
	if len(sel) < 10 {
		t.Fatalf("only %d cases selected", len(sel))
	}
	srv := hostile.Endless(t, hostile.Config{})
	mem := hostile.SampleMemory(10 * time.Millisecond)
	begin := time.Now()
	rep, err := Run(context.Background(), sel, Config{URL: srv.URL, EIO: 4})
	took := time.Since(begin)
	peakHeap, peakRSS := mem.Stop()
	if err != nil {
		t.Fatal(err)
	}
	cutBodies, cutMessages := 0, 0
	for _, res := range rep.Results {
		for _, e := range res.Trace {
			if strings.Contains(e.Summary, "[body cut at 2097152 bytes by the tester]") {
				cutBodies++
			}
			if strings.Contains(e.Summary, "close 1006 (message over 2097152 bytes: the tester cut the connection)") {
				cutMessages++
			}
		}
	}
	rep = nil // the report keeps shortened traces only
	after := hostile.HeapAfterGC()
	t.Logf("traces: %d cut bodies, %d cut messages", cutBodies, cutMessages)
	if cutBodies == 0 || cutMessages == 0 {
		t.Errorf("%d traced cut bodies and %d cut messages, want both noted", cutBodies, cutMessages)
	}
	if after > mem.BaseHeap+32*hostile.MiB {
		t.Errorf("heap in use after the run %.1f MiB, started at %.1f MiB: buffers kept", float64(after)/hostile.MiB, float64(mem.BaseHeap)/hostile.MiB)
	}
	t.Logf("%d cases in %v; server handshakes %d, endless %d; peak heap %.1f MiB, peak RSS %.1f MiB (base %.1f), heap after GC %.1f MiB",
		len(sel), took.Round(time.Millisecond), srv.Opened.Load(), srv.Endless.Load(),
		float64(peakHeap)/hostile.MiB, float64(peakRSS)/hostile.MiB, float64(mem.BaseRSS)/hostile.MiB, float64(after)/hostile.MiB)
	const ceiling = 200 * hostile.MiB
	if hostile.RaceEnabled {
		t.Log("race detector on: memory ceiling not asserted")
	} else if peakRSS > ceiling || peakHeap > ceiling {
		t.Errorf("peak RSS %.1f MiB, heap %.1f MiB: ceiling %d MiB", float64(peakRSS)/hostile.MiB, float64(peakHeap)/hostile.MiB, ceiling/hostile.MiB)
	}
	if srv.Endless.Load() == 0 {
		t.Fatal("no case reached the endless body")
	}
}
