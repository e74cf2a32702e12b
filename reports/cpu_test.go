package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/metrics"
)

// TestLoadCPUOneUnit: the health line and the CPU warning give the same
// percentage, of all cores (it used to print 360 % beside a 180 % warning).
func TestLoadCPUOneUnit(t *testing.T) {
	r := &metrics.Result{Scenario: "s", Runs: 1, Health: &metrics.Health{CPU: 1.8, MeanCPU: 1.0, Cores: 2}}
	var b bytes.Buffer
	if err := LoadSummary(&b, r.Summarize()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "generator: cpu peak 90% / mean 50% of 2 cores") || !strings.Contains(out, "CPU peaked at 90% of 2 cores") {
		t.Errorf("the two CPU figures differ or are not of all cores:\n%s", out)
	}
}
