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

// TestLoadCPUMachines: a merge over machines says so, and warns when the
// busiest one alone is saturated though the whole is not.
func TestLoadCPUMachines(t *testing.T) {
	part := func(machine string, cpu float64) *metrics.Result {
		return &metrics.Result{Scenario: "s", Runs: 1, Health: &metrics.Health{CPU: cpu, Cores: 2, Machine: machine, MachineCPUs: 2}}
	}
	var b bytes.Buffer
	if err := LoadSummary(&b, metrics.Merge(part("a", 1.9), part("b", 0.1)).Summarize()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "cpu peak 50% / mean 0% of 4 cores on 2 machines") || !strings.Contains(out, "peaked at 95% of its cores on the busiest of 2 machines") {
		t.Errorf("want the 4 cores of 2 machines and the busiest one's 95%%:\n%s", out)
	}
}

// TestLoadMemPerClientFloor: heap+stack per client shows only where the
// clients, not the run's fixed memory, make up the figure.
func TestLoadMemPerClientFloor(t *testing.T) {
	for _, c := range []struct {
		clients int64
		want    bool
	}{{10, false}, {499, false}, {500, true}, {5000, true}} {
		r := &metrics.Result{Scenario: "s", Runs: 1, PeakClients: c.clients,
			Health: &metrics.Health{Cores: 2, BaseMem: 10 << 20, PeakMem: 10<<20 + uint64(c.clients)*15<<10 + 20<<20}}
		var b bytes.Buffer
		if err := LoadSummary(&b, r.Summarize()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "per client"); got != c.want {
			t.Errorf("%d clients: per client shown %v, want %v:\n%s", c.clients, got, c.want, b.String())
		}
	}
}
