package reports

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/metrics"
)

// TestLoadSummaryCauses: the summary lists each kind's messages with
// their counts, the errors beyond the sample, the errors recorded
// without a cause, and the failure line.
func TestLoadSummaryCauses(t *testing.T) {
	rec := metrics.NewRecorder(1)
	sh := rec.Shard(0)
	sh.Add(metrics.Operations, 100)
	rec.Connected(1)
	sh.ErrorCause(metrics.ErrHandshake, errors.New("first and rare"))
	for i := range 40 {
		sh.ErrorCause(metrics.ErrHandshake, errors.New("dial tcp 127.0.0.1:9: connect: connection refused"))
		if i < 3*metrics.MaxCauses {
			sh.ErrorCause(metrics.ErrHandshake, fmt.Errorf("odd %d", i%(metrics.MaxCauses+2)))
		}
	}
	sh.Error(metrics.ErrAckTimeout)
	res := rec.Snapshot()
	res.Judge(0.1)
	var b strings.Builder
	if err := LoadSummary(&b, res.Summarize()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"error causes:\n  handshake_error x40: dial tcp 127.0.0.1:9: connect: connection refused\n",
		"  handshake_error x3: odd 0\n",
		"  handshake_error x", ": (other messages)\n",
		"  handshake_error x1: first and rare\n", // kept: the first message had a slot
		"  ack_timeout x1: (no message recorded)\n",
		"RUN FAILED: errors 66% of operations (66 of 100), above max_error_rate 10%: handshake_error x40: dial tcp 127.0.0.1:9: connect: connection refused\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestLoadSummaryFaults: the faults the timeline marked are listed once
// each (parts of a merged run mark the same one), phases are not.
func TestLoadSummaryFaults(t *testing.T) {
	rec := metrics.NewRecorder(1)
	rec.Shard(0).Add(metrics.Operations, 1)
	res := rec.Snapshot()
	res.Timeline = &metrics.Timeline{Markers: []metrics.Marker{
		{T: 0, Kind: metrics.MarkPhase, Text: "hold"},
		{T: 1.5, Kind: metrics.MarkFault, Text: "exec faults[0]"},
		{T: 1.5, Kind: metrics.MarkFault, Text: "exec faults[0]"},
		{T: 3, Kind: metrics.MarkFault, Text: "restart target, down 1s"},
	}}
	var b strings.Builder
	if err := LoadSummary(&b, res.Summarize()); err != nil {
		t.Fatal(err)
	}
	if want := "\nfaults: at 1.5s: exec faults[0]; at 3.0s: restart target, down 1s\n"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}
