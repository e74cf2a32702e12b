package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is the whole outcome of one run (or of several, merged). It is
// what `--out FILE.json` holds.
type Result struct {
	Scenario  string    `json:"scenario"`
	Transport string    `json:"transport,omitempty"`
	Target    string    `json:"target,omitempty"`
	Start     time.Time `json:"start"`
	// Elapsed is the run's wall time, grace included.
	Elapsed Duration `json:"elapsed"`
	// Partial is set when the run was interrupted (Ctrl-C, target gone);
	// StopReason says why.
	Partial    bool   `json:"partial,omitempty"`
	StopReason string `json:"stop_reason,omitempty"`
	// Failed is set when the run failed (see Judge): no client ever
	// connected, the target became unreachable, or errors above the
	// scenario's max_error_rate. FailReason is one line saying why.
	Failed     bool   `json:"failed,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`
	// Runs is the number of runs merged into this result.
	Runs int `json:"runs"`
	// Segment is set on the result of one part of a run split in
	// segments (sioload run --segment I/N); merging all N parts gives the
	// whole run's result, without it.
	Segment *Segment `json:"segment,omitempty"`

	Latencies        map[string]*Histogram `json:"latencies"`
	Counters         map[string]int64      `json:"counters"`
	Errors           map[string]int64      `json:"errors"`
	Disconnects      map[string]int64      `json:"disconnects"`
	Events           map[string]int64      `json:"events_received"`
	ClientsConnected int64                 `json:"clients_connected"`
	PeakClients      int64                 `json:"peak_clients"`
	Thresholds       []Threshold           `json:"thresholds,omitempty"`
	Health           *Health               `json:"health,omitempty"`

	// Causes samples the error messages of each kind in Errors.
	Causes map[string]*Causes `json:"error_causes,omitempty"`
	// Timeline is the run per interval; TimelineError says why a merge
	// has none (an interval histogram that does not decode).
	Timeline      *Timeline `json:"timeline,omitempty"`
	TimelineError string    `json:"timeline_error,omitempty"`
	// Nodes counts sessions by the server node they landed on, for servers whose nodes name
	// themselves (an event "node" with the name, as the cluster peer sends); nil otherwise.
	Nodes map[string]int64 `json:"nodes,omitempty"`
}

func newResult() *Result {
	return &Result{
		Runs:        1,
		Latencies:   map[string]*Histogram{},
		Counters:    map[string]int64{},
		Errors:      map[string]int64{},
		Causes:      map[string]*Causes{},
		Disconnects: map[string]int64{},
		Events:      map[string]int64{},
	}
}

func (r *Result) hist(l Latency) *hdrhistogram.Histogram {
	h := r.Latencies[l.String()]
	if h == nil {
		h = &Histogram{newHist()}
		r.Latencies[l.String()] = h
	}
	return h.Histogram
}

// Latency returns the named histogram, or nil when it has no samples.
func (r *Result) Latency(name string) *hdrhistogram.Histogram {
	if h := r.Latencies[name]; h != nil && h.Histogram != nil {
		return h.Histogram
	}
	return nil
}

// TotalErrors sums the errors of every kind.
func (r *Result) TotalErrors() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Histogram wraps an hdrhistogram so that it marshals to JSON as a string:
// its V2 compressed encoding, which HdrHistogram defines as base64 text
// ("HISTFAAA..."), so any HdrHistogram tool decodes it.
type Histogram struct {
	*hdrhistogram.Histogram
}

// MarshalJSON encodes the histogram.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON decodes what MarshalJSON produced, and what versions
// before it wrote (the encoding base64-encoded once more).
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var b Blob
	if err := b.UnmarshalJSON(data); err != nil {
		return err
	}
	d, err := b.Histogram()
	if err != nil {
		return err
	}
	h.Histogram = d
	return nil
}

// Duration is a time.Duration that writes JSON as seconds (a number, as
// a CI script wants it) and reads seconds or, from files written before,
// a Go duration string ("1m2.5s").
type Duration time.Duration

// MarshalJSON writes d as seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

// UnmarshalJSON reads seconds or a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("metrics: a duration is seconds or a string like \"1.5s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// HistStats is a histogram's summary as the JSON carries it next to the
// histogram: numbers a script can read without decoding HdrHistogram.
// Values are milliseconds (Unit "ms"), or per mille for fanout_reach.
type HistStats struct {
	Unit  string  `json:"unit"`
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// StatsFor summarizes h (microseconds) in ms, or per mille when perMille.
func StatsFor(h *hdrhistogram.Histogram, perMille bool) HistStats {
	st := HistStats{Unit: "ms"}
	scale := 1e3
	if perMille {
		st.Unit, scale = "per_mille", 1
	}
	if h == nil || h.TotalCount() == 0 {
		return st
	}
	v := func(x float64) float64 { return math.Round(x/scale*1e3) / 1e3 }
	st.Count = h.TotalCount()
	st.Min, st.Mean, st.Max = v(float64(h.Min())), v(h.Mean()), v(float64(h.Max()))
	st.P50, st.P90 = v(float64(h.ValueAtQuantile(50))), v(float64(h.ValueAtQuantile(90)))
	st.P99, st.P999 = v(float64(h.ValueAtQuantile(99))), v(float64(h.ValueAtQuantile(99.9)))
	return st
}

// thresholdJSON is a threshold as written: with what was observed (in the
// threshold's unit; null without samples) and its verdict.
type thresholdJSON struct {
	Threshold
	Observed *float64 `json:"observed"`
	OK       bool     `json:"ok"`
	Note     string   `json:"note,omitempty"`
}

// MarshalJSON writes the result with, next to the fields, what a script
// needs without decoding anything: latency_stats (a summary of each
// histogram), each threshold's observed value and verdict, and the
// timer-lag summary. Reading ignores the derived fields.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		*plain
		LatencyStats map[string]HistStats `json:"latency_stats"`
		Thresholds   []thresholdJSON      `json:"thresholds,omitempty"`
	}{plain: (*plain)(r), LatencyStats: map[string]HistStats{}}
	for name, h := range r.Latencies {
		if h != nil && h.Histogram != nil {
			out.LatencyStats[name] = StatsFor(h.Histogram, name == FanoutReach.String())
		}
	}
	for _, t := range r.Thresholds {
		tr := t.Evaluate(r)
		tj := thresholdJSON{Threshold: t, OK: tr.Pass, Note: tr.Note}
		if tr.Note == "" {
			a := tr.Actual
			tj.Observed = &a
		}
		out.Thresholds = append(out.Thresholds, tj)
	}
	return json.Marshal(out)
}

// Health is the load generator's own state, sampled every second.
type Health struct {
	// CPU is the process's user+sys CPU per wall second (1 = one core),
	// peak over the run.
	CPU float64 `json:"cpu"`
	// Cores is how many cores the process could keep busy: its
	// GOMAXPROCS, which Go sets from the CPUs and the cgroup's CPU limit,
	// and which sioload run --workers sets to each worker's share. In a
	// merged result, the cores of all the machines the parts ran on.
	Cores int `json:"cores"`
	// Machine tells apart parts that shared cores from parts that did
	// not when results are merged: a hash of the kernel's boot id and the
	// process's cgroup, so processes on one machine and in one container
	// (workers, segments started side by side) have the same one, and
	// pods on other nodes, or in other containers with their own CPU
	// limits, differ. It names nothing: only equality is meaningful.
	Machine string `json:"machine,omitempty"`
	// MachineCPUs is the CPUs the machine let the process run on
	// (runtime.NumCPU): the most that parts on one machine can share.
	MachineCPUs int `json:"machine_cpus,omitempty"`
	// Machines is how many machines a merged result's parts ran on, and
	// BusiestShare the peak CPU of the busiest one as a fraction of its
	// cores: a saturated generator among idle ones is still a
	// bottleneck, though the merged peak over all the cores is not high.
	Machines     int     `json:"machines,omitempty"`
	BusiestShare float64 `json:"busiest_share,omitempty"`
	// RSS and Heap are peak bytes.
	RSS        uint64 `json:"rss_bytes"`
	Heap       uint64 `json:"heap_bytes"`
	Goroutines int    `json:"goroutines"`
	// TimerLag is the histogram of how late a 100 ms ticker fired (µs).
	TimerLag *Histogram `json:"timer_lag,omitempty"`
	// CPUSeconds is the process CPU time (user+sys) used during the run;
	// MeanCPU is CPUSeconds per wall second.
	CPUSeconds float64 `json:"cpu_seconds"`
	MeanCPU    float64 `json:"mean_cpu"`
	// BaseMem is heap+stack in use before the first client; PeakMem the
	// peak of heap+stack during the run. (PeakMem−BaseMem)/peak clients
	// is the memory cost of one client.
	BaseMem uint64 `json:"base_mem_bytes"`
	PeakMem uint64 `json:"peak_mem_bytes"`
	// Samples is the number of one-second samples taken.
	Samples int `json:"samples"`
}

// MarshalJSON adds timer_lag_stats, the timer lag's summary in ms.
func (h *Health) MarshalJSON() ([]byte, error) {
	type plain Health
	out := struct {
		*plain
		TimerLagStats *HistStats `json:"timer_lag_stats,omitempty"`
	}{plain: (*plain)(h)}
	if h.TimerLag != nil && h.TimerLag.Histogram != nil {
		st := StatsFor(h.TimerLag.Histogram, false)
		out.TimerLagStats = &st
	}
	return json.Marshal(out)
}

// MemPerClient is (PeakMem − BaseMem) / clients, or 0.
func (h *Health) MemPerClient(clients int64) float64 {
	if h == nil || clients <= 0 || h.PeakMem < h.BaseMem {
		return 0
	}
	return float64(h.PeakMem-h.BaseMem) / float64(clients)
}

// Merge combines results of several runs: histograms merged, counters
// and maps summed, the elapsed time is the longest, the start the
// earliest. Thresholds are taken from the first result that has any.
func Merge(rs ...*Result) *Result {
	out := newResult()
	out.Runs = 0
	var names []string
	for _, r := range rs {
		if r == nil {
			continue
		}
		out.Runs += max(r.Runs, 1)
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+r.Scenario+",") {
			names = append(names, r.Scenario)
		}
		if out.Start.IsZero() || (!r.Start.IsZero() && r.Start.Before(out.Start)) {
			out.Start = r.Start
		}
		out.Elapsed = max(out.Elapsed, r.Elapsed)
		out.Partial = out.Partial || r.Partial
		if r.StopReason != "" && out.StopReason == "" {
			out.StopReason = r.StopReason
		}
		out.Failed = out.Failed || r.Failed
		if r.FailReason != "" && out.FailReason == "" {
			out.FailReason = r.FailReason
		}
		for k, h := range r.Latencies {
			if h == nil || h.Histogram == nil {
				continue
			}
			if out.Latencies[k] == nil {
				out.Latencies[k] = &Histogram{newHist()}
			}
			out.Latencies[k].Merge(h.Histogram)
		}
		addMap(out.Counters, r.Counters)
		out.addTallies(r.Errors, r.Causes, r.Disconnects, r.Events, r.Nodes)
		out.ClientsConnected += r.ClientsConnected
		out.PeakClients += r.PeakClients
		if out.Thresholds == nil {
			out.Thresholds = r.Thresholds
		}
		if r.Transport != "" && out.Transport != r.Transport {
			if out.Transport == "" {
				out.Transport = r.Transport
			} else {
				out.Transport = "mixed"
			}
		}
		if out.Target == "" {
			out.Target = r.Target
		}
		if r.Health != nil {
			if out.Health == nil {
				out.Health = &Health{}
			}
			mergeHealth(out.Health, r.Health)
		}
	}
	if out.Health != nil {
		mergeCores(out.Health, rs)
	}
	out.Scenario = strings.Join(names, "+")
	mergeSegments(out, rs)
	var tls []*Timeline
	for _, r := range rs {
		if r != nil && r.Timeline != nil {
			tls = append(tls, r.Timeline)
		}
	}
	if len(tls) > 0 {
		tl, err := MergeTimelines(out.Start, tls...)
		if err != nil {
			out.TimelineError = err.Error()
		}
		out.Timeline = tl
	}
	return out
}

// mergeHealth adds the health of one part to the others'. The parts are
// processes that ran side by side (segments, workers), so what they used
// adds up, as in the merged timeline: with the peaks and bases of memory
// summed, MemPerClient over the summed clients is what one client cost,
// where the largest peak less the smallest base over every part's
// clients was about 1/N of it. (Summed peaks bound the simultaneous peak
// from above; parts of one run peak together.) Cores is mergeCores'.
func mergeHealth(dst, src *Health) {
	dst.CPU += src.CPU
	dst.RSS += src.RSS
	dst.Heap += src.Heap
	dst.Goroutines += src.Goroutines
	dst.CPUSeconds += src.CPUSeconds
	dst.MeanCPU += src.MeanCPU
	dst.PeakMem += src.PeakMem
	dst.BaseMem += src.BaseMem
	dst.Samples += src.Samples
	if src.TimerLag != nil && src.TimerLag.Histogram != nil {
		if dst.TimerLag == nil {
			dst.TimerLag = &Histogram{newHist()}
		}
		dst.TimerLag.Merge(src.TimerLag.Histogram)
	}
}

// mergeCores sets h's core and machine fields from the parts of a merge. Parts on one machine add their cores (workers split them), up
// to the machine's CPUs (segments started side by side each count them
// all); machines add up. Parts that name no machine (results written
// before Machine was) count as one machine of their largest Cores, as
// merges did then.
func mergeCores(h *Health, rs []*Result) {
	type share struct {
		cores, cpus, largest int
		cpu                  float64
	}
	machines := map[string]*share{}
	var order []string
	for _, r := range rs {
		if r == nil || r.Health == nil {
			continue
		}
		p := r.Health
		m := machines[p.Machine]
		if m == nil {
			m = &share{}
			machines[p.Machine] = m
			order = append(order, p.Machine)
		}
		m.cores += p.Cores
		m.cpus = max(m.cpus, p.MachineCPUs)
		m.largest = max(m.largest, p.Cores)
		m.cpu += p.CPU
	}
	h.Cores, h.MachineCPUs, h.Machine, h.Machines, h.BusiestShare = 0, 0, "", 0, 0
	for _, id := range order {
		m := machines[id]
		cores := m.cores
		switch {
		case id == "" && m.cpus == 0:
			cores = m.largest
		case m.cpus > 0:
			cores = min(m.cores, m.cpus)
		}
		h.Cores += cores
		h.MachineCPUs += m.cpus
		if cores > 0 {
			h.BusiestShare = max(h.BusiestShare, m.cpu/float64(cores))
		}
	}
	if len(order) == 1 {
		h.Machine, h.BusiestShare = order[0], 0
	} else {
		h.Machines = len(order)
	}
}
