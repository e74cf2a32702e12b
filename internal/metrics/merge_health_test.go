package metrics

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestMergedMemoryPerClient: the merge of workers' results (processes
// side by side) reports what one client cost, not that divided by the
// number of workers: memory and CPU add up over the parts.
func TestMergedMemoryPerClient(t *testing.T) {
	const base, perClient, clients = 16 << 20, 20 << 10, 1000
	part := func() *Result {
		r := newResult()
		r.PeakClients = clients
		r.Health = &Health{Cores: 2, BaseMem: base, PeakMem: base + clients*perClient, RSS: 60 << 20, Heap: 40 << 20,
			Goroutines: 2 * clients, CPU: 0.5, MeanCPU: 0.4, CPUSeconds: 4}
		return r
	}
	one := part()
	if got := one.Health.MemPerClient(one.PeakClients); got != perClient {
		t.Fatalf("one part: %v B per client, want %d", got, perClient)
	}
	m := Merge(part(), part(), part())
	h := m.Health
	if m.PeakClients != 3*clients {
		t.Fatalf("merged peak clients %d, want %d", m.PeakClients, 3*clients)
	}
	if got := h.MemPerClient(m.PeakClients); math.Abs(got-perClient) > 1e-9 {
		t.Errorf("merged: %.1f B per client, want %d (each worker's)", got, perClient)
	}
	if h.RSS != 3*60<<20 || h.Heap != 3*40<<20 || h.Goroutines != 6*clients {
		t.Errorf("merged rss %d, heap %d, goroutines %d: want the sums of the parts'", h.RSS, h.Heap, h.Goroutines)
	}
	if math.Abs(h.CPU-1.5) > 1e-9 || math.Abs(h.MeanCPU-1.2) > 1e-9 || h.CPUSeconds != 12 || h.Cores != 2 {
		t.Errorf("merged cpu peak %v, mean %v, %v s, %d cores: want 1.5, 1.2, 12 s on the parts' 2 cores", h.CPU, h.MeanCPU, h.CPUSeconds, h.Cores)
	}
}

// TestMergedCores: the merged generator's cores are those of the machines
// its parts ran on, so that "cpu peak X% of N cores" and the bottleneck
// warning mean for a merge what they mean for one process.
func TestMergedCores(t *testing.T) {
	part := func(machine string, cores, cpus int, cpu float64) *Result {
		r := newResult()
		r.Health = &Health{Machine: machine, Cores: cores, MachineCPUs: cpus, CPU: cpu}
		return r
	}
	for _, c := range []struct {
		name  string
		parts []*Result
		cores int
		warn  bool
	}{
		{"workers split one machine", []*Result{part("a", 1, 2, 0.9), part("a", 1, 2, 0.9)}, 2, true},
		{"workers with a rounded-down share", []*Result{part("a", 1, 3, 0.5), part("a", 1, 3, 0.5)}, 2, false},
		{"segments side by side on one machine", []*Result{part("a", 2, 2, 0.5), part("a", 2, 2, 0.5), part("a", 2, 2, 0.5)}, 2, false},
		{"pods on two machines", []*Result{part("a", 2, 2, 1.7), part("b", 2, 2, 1.7)}, 4, true},
		{"pods on two machines, one idle", []*Result{part("a", 2, 2, 1.7), part("b", 2, 2, 0.1)}, 4, true},
		{"pods on two machines, neither busy", []*Result{part("a", 2, 2, 1.2), part("b", 2, 2, 0.1)}, 4, false},
		{"parts that name no machine", []*Result{part("", 2, 0, 0.5), part("", 2, 0, 0.5)}, 2, false},
	} {
		m := Merge(c.parts...)
		if m.Health.Cores != c.cores {
			t.Errorf("%s: %d cores, want %d", c.name, m.Health.Cores, c.cores)
		}
		warned := false
		for _, w := range m.Summarize().Warnings {
			warned = warned || strings.Contains(w, "generator CPU")
		}
		if warned != c.warn {
			t.Errorf("%s: cpu %.1f of %d cores: CPU warning %v, want %v", c.name, m.Health.CPU, m.Health.Cores, warned, c.warn)
		}
	}
}

// TestCheckSimultaneous: whole runs merge only when they ran at the same
// time over one transport; segments and overlays are not its concern.
func TestCheckSimultaneous(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	run := func(start time.Duration, elapsed time.Duration, transport string) *Result {
		r := newResult()
		r.Start, r.Elapsed, r.Transport = t0.Add(start), Duration(elapsed), transport
		return r
	}
	names := []string{"a.json", "b.json"}
	for _, c := range []struct {
		name string
		b    *Result
		want string
	}{
		{"side by side", run(time.Second, 9*time.Second, "websocket"), ""},
		{"one after another", run(11*time.Minute, 9*time.Second, "websocket"), "a.json ran 15:04:05–15:04:14 and b.json 15:15:05–15:15:14: runs one after another do not merge"},
		{"right after", run(9*time.Second, 9*time.Second, "websocket"), "runs one after another"},
		{"another transport", run(0, 9*time.Second, "polling"), "a.json ran over websocket but b.json over polling"},
	} {
		err := CheckSimultaneous([]*Result{run(0, 9*time.Second, "websocket"), c.b}, names)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	seg := func(i int, start time.Duration) *Result {
		r := run(start, time.Second, "websocket")
		r.Segment = &Segment{Index: i, Count: 2}
		return r
	}
	if err := CheckSimultaneous([]*Result{seg(0, 0), seg(1, time.Hour)}, names); err != nil {
		t.Errorf("segments: %v, want them left to CheckMerge", err)
	}
}
