package metrics

import (
	"fmt"
	"time"
)

// Stats are the summary statistics of one latency histogram. Durations
// are at microsecond resolution.
type Stats struct {
	Name  string        `json:"name"`
	Count int64         `json:"count"`
	Min   time.Duration `json:"min"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	P999  time.Duration `json:"p99_9"`
	Max   time.Duration `json:"max"`
	Mean  time.Duration `json:"mean"`
}

// NamedCount is one counter of a summary.
type NamedCount struct {
	Name  string
	Count int64
	// Rate is Count per second of the run.
	Rate float64
}

// Summary is a Result digested for display.
type Summary struct {
	Result *Result
	// Latency lists the histograms that have samples, in metric order
	// (fanout_reach excluded: it is a ratio, see Reach).
	Latency []Stats
	// Reach is the fan-out reach histogram's statistics in per mille.
	Reach *Stats
	// Counters lists every counter, in metric order.
	Counters []NamedCount
	// Errors, Disconnects and Events are sorted by name.
	Errors, Disconnects, Events []NamedCount
	// Nodes is sessions per server node, sorted by node name (empty when nodes do not say).
	Nodes []NamedCount
	// ErrorRate is errors / operations (0..1).
	ErrorRate  float64
	Thresholds []ThresholdResult
	// Passed is false when any threshold failed.
	Passed bool
	// Warnings are remarks such as "the generator may be the bottleneck".
	Warnings []string
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// StatsOf summarizes the named histogram; Count is 0 when it is empty.
func (r *Result) StatsOf(name string) Stats {
	h := r.Latency(name)
	if h == nil || h.TotalCount() == 0 {
		return Stats{Name: name}
	}
	return Stats{
		Name: name, Count: h.TotalCount(),
		Min: us(h.Min()), P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)),
		P99: us(h.ValueAtQuantile(99)), P999: us(h.ValueAtQuantile(99.9)), Max: us(h.Max()),
		Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
	}
}

// Summarize digests r and evaluates its thresholds.
func (r *Result) Summarize() *Summary {
	s := &Summary{Result: r, Passed: true}
	secs := time.Duration(r.Elapsed).Seconds()
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	for i := Latency(0); i < numLatency; i++ {
		st := r.StatsOf(i.String())
		if st.Count == 0 {
			continue
		}
		if i == FanoutReach {
			s.Reach = &st
			continue
		}
		s.Latency = append(s.Latency, st)
	}
	for _, name := range counterNames {
		s.Counters = append(s.Counters, NamedCount{Name: name, Count: r.Counters[name], Rate: rate(r.Counters[name])})
	}
	for _, m := range []struct {
		src map[string]int64
		dst *[]NamedCount
	}{{r.Errors, &s.Errors}, {r.Disconnects, &s.Disconnects}, {r.Events, &s.Events}, {r.Nodes, &s.Nodes}} {
		for _, k := range sortedKeys(m.src) {
			*m.dst = append(*m.dst, NamedCount{Name: k, Count: m.src[k], Rate: rate(m.src[k])})
		}
	}
	if ops := r.Counters[Operations.String()]; ops > 0 {
		s.ErrorRate = float64(r.TotalErrors()) / float64(ops)
	} else if r.TotalErrors() > 0 {
		s.ErrorRate = 1
	}
	for _, t := range r.Thresholds {
		tr := t.Evaluate(r)
		s.Thresholds = append(s.Thresholds, tr)
		if !tr.Pass {
			s.Passed = false
		}
	}
	if r.Partial {
		s.Warnings = append(s.Warnings, fmt.Sprintf("partial results: the run was stopped early or lost its target (%s)", r.StopReason))
	}
	if h := r.Health; h != nil {
		s.Warnings = append(s.Warnings, h.warnings()...)
	}
	return s
}

// Bottleneck limits (docs/sioload.md §2).
const (
	cpuLimit      = 0.8
	timerLagLimit = 10 * time.Millisecond
)

func (h *Health) warnings() []string {
	var w []string
	if h.Cores > 0 && h.CPU > cpuLimit*float64(h.Cores) {
		w = append(w, fmt.Sprintf("generator CPU peaked at %.0f%% of %d cores: the generator, not the target, may be the bottleneck", 100*h.CPU/float64(h.Cores), h.Cores))
	} else if h.BusiestShare > cpuLimit {
		w = append(w, fmt.Sprintf("generator CPU peaked at %.0f%% of its cores on the busiest of %d machines: the generator, not the target, may be the bottleneck", 100*h.BusiestShare, h.Machines))
	}
	if h.TimerLag != nil && h.TimerLag.Histogram != nil && h.TimerLag.TotalCount() > 0 {
		if p99 := us(h.TimerLag.ValueAtQuantile(99)); p99 > timerLagLimit {
			w = append(w, fmt.Sprintf("generator timer lag p99 is %s: the generator, not the target, may be the bottleneck", p99))
		}
	}
	return w
}
