package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
)

func TestProgressLinePhaseAndLastEvent(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	snap := &metrics.Result{Counters: map[string]int64{"reconnects": 40, "dropped": 40, "messages_sent": 10}, ClientsConnected: 80}
	p.update(load.Progress{Elapsed: 14 * time.Second, Phase: "hold", PhaseElapsed: 12 * time.Second, PhaseLength: 30 * time.Second, Multi: true,
		Last: metrics.Marker{T: 10, Kind: metrics.MarkFault, Text: "drop 20% (20 clients)"}, HasLast: true, Snapshot: snap})
	p.update(load.Progress{Elapsed: 3700 * time.Second, Phase: "closing", PhaseElapsed: 2 * time.Second, Multi: true, Snapshot: snap})
	p.update(load.Progress{Elapsed: 2 * time.Second, Phase: "hold", Snapshot: &metrics.Result{Counters: map[string]int64{}}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines %q", lines)
	}
	for i, want := range []string{"hold 00:12/00:30 · drop 20% (20 clients) at 00:10 · reconnects 40 · 14.0s clients 80", "closing 00:02 · reconnects 40 · 3700.0s", "  2.0s hold  clients 0"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d %q, want it to start with %q", i, lines[i], want)
		}
	}
	if got := clock(3725 * time.Second); got != "1:02:05" {
		t.Errorf("clock %s", got)
	}
}
