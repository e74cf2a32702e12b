package metrics

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Timeline is a run's measurements per interval (docs/sioload.md §2): the
// answer to "when did p99 climb, how long did the storm last". Each
// interval holds exact interval histograms (the bucket-wise difference of
// two consecutive cumulative snapshots, which only grow), so percentiles
// per interval are exact and the intervals of several runs merge exactly;
// the intervals of a run sum to its totals.
type Timeline struct {
	// Interval is the nominal interval length in seconds.
	Interval  float64    `json:"interval"`
	Intervals []Interval `json:"intervals"`
	// Markers are the phase changes, faults and threshold breaches, in
	// time order.
	Markers []Marker `json:"markers,omitempty"`
}

// Interval is one closed interval of a timeline. Maps hold only non-zero
// deltas, so a quiet second costs little.
type Interval struct {
	// Start is the interval's wall-clock start; T the same in seconds
	// from the run's start; Seconds its length (the last one of a run is
	// usually shorter).
	Start   time.Time `json:"start"`
	T       float64   `json:"t"`
	Seconds float64   `json:"seconds"`
	// Phase is the run's phase at the interval's end (ramp, hold, load,
	// grace, closing).
	Phase string `json:"phase,omitempty"`
	// Latencies are the interval histograms, compressed as the result's
	// are (base64 of HdrHistogram's V2 compressed encoding).
	Latencies   map[string]Blob  `json:"latencies,omitempty"`
	Counters    map[string]int64 `json:"counters,omitempty"`
	Errors      map[string]int64 `json:"errors,omitempty"`
	Disconnects map[string]int64 `json:"disconnects,omitempty"`
	Events      map[string]int64 `json:"events_received,omitempty"`
	// ClientsConnected is the gauge at the interval's end.
	ClientsConnected int64           `json:"clients_connected"`
	Health           *IntervalHealth `json:"health,omitempty"`
}

// IntervalHealth is the generator's own state over one interval.
type IntervalHealth struct {
	// CPU is user+sys CPU per wall second over the interval (1 = a core).
	CPU        float64 `json:"cpu"`
	RSS        uint64  `json:"rss_bytes"`
	Heap       uint64  `json:"heap_bytes"`
	Goroutines int     `json:"goroutines"`
	// TimerLagP99 and TimerLagMax are how late the 100 ms probe ticker
	// fired during the interval, in milliseconds.
	TimerLagP99 float64 `json:"timer_lag_p99_ms"`
	TimerLagMax float64 `json:"timer_lag_max_ms"`
}

// Marker kinds.
const (
	MarkPhase     = "phase"
	MarkFault     = "fault"
	MarkThreshold = "threshold"
)

// Marker is one event drawn on every time chart.
type Marker struct {
	At   time.Time `json:"at"`
	T    float64   `json:"t"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// Blob is a histogram kept encoded (HdrHistogram's V2 compressed
// encoding, base64 text "HISTFAAA...", written to JSON as that string):
// an interval histogram at this geometry is ~190 KB decoded but tens of
// bytes encoded, which is what keeps an hour of intervals small.
type Blob []byte

// MarshalJSON writes the encoding as a JSON string.
func (b Blob) MarshalJSON() ([]byte, error) { return json.Marshal(string(b)) }

// UnmarshalJSON reads a JSON string holding the encoding, or (as results
// written before this format were) its base64.
func (b *Blob) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("metrics: a histogram is a string: %w", err)
	}
	if !strings.HasPrefix(s, "HISTF") {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !strings.HasPrefix(string(raw), "HISTF") {
			return fmt.Errorf("metrics: a histogram is HdrHistogram's base64 V2 compressed encoding (\"HISTFAAA...\"), got %.20q", s)
		}
		s = string(raw)
	}
	*b = Blob(s)
	return nil
}

// Histogram decodes the blob.
func (b Blob) Histogram() (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("metrics: decoding interval histogram: %w", err)
	}
	return h, nil
}

func encode(h *hdrhistogram.Histogram) (Blob, error) {
	return h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
}

// TimelineBuilder closes intervals from consecutive cumulative snapshots.
// Its methods are safe for concurrent use.
type TimelineBuilder struct {
	mu    sync.Mutex
	start time.Time
	last  time.Time
	prev  map[string][]int64 // cumulative bucket counts per latency
	// prevTotal is the total count of each latency's prev.
	prevTotal map[string]int64
	prevRes   *Result
	tl        Timeline
	phase     string
	failing   map[string]bool
	encErr    error
	interval  time.Duration
	// diff and enc are Close's scratch: an interval histogram's counts,
	// and the encoder that keeps its buffers between intervals.
	diff []int64
	enc  v2Encoder
}

// NewTimelineBuilder starts a timeline at start with the given nominal
// interval.
func NewTimelineBuilder(start time.Time, interval time.Duration) *TimelineBuilder {
	return &TimelineBuilder{start: start, last: start, interval: interval, prev: map[string][]int64{}, prevTotal: map[string]int64{},
		prevRes: newResult(), failing: map[string]bool{}, tl: Timeline{Interval: interval.Seconds(), Intervals: []Interval{}}}
}

func (b *TimelineBuilder) since(at time.Time) float64 {
	return math.Round(at.Sub(b.start).Seconds()*1e6) / 1e6
}

// Mark adds a marker at time at.
func (b *TimelineBuilder) Mark(at time.Time, kind, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mark(at, kind, text)
}

func (b *TimelineBuilder) mark(at time.Time, kind, text string) {
	b.tl.Markers = append(b.tl.Markers, Marker{At: at, T: b.since(at), Kind: kind, Text: text})
}

// Close closes the interval ending at at: snap is the cumulative snapshot
// taken then (later snapshots must contain everything earlier ones did),
// phase the run's phase, health the generator's state (may be nil). A
// phase change and a threshold that starts failing become markers.
func (b *TimelineBuilder) Close(at time.Time, snap *Result, phase string, health *IntervalHealth) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if phase != b.phase {
		b.mark(at, MarkPhase, phase)
		b.phase = phase
	}
	iv := Interval{Start: b.last, T: b.since(b.last), Seconds: math.Round(at.Sub(b.last).Seconds()*1e6) / 1e6,
		Phase: phase, ClientsConnected: snap.ClientsConnected, Health: health}
	for name, h := range snap.Latencies {
		if h == nil || h.Histogram == nil {
			continue
		}
		// Counts only grow, bucket by bucket: an unchanged total is an
		// unchanged histogram, and an idle latency (handshakes after the
		// ramp) costs no copy of its ~190 KB of counts every interval.
		total := h.TotalCount()
		if total == b.prevTotal[name] {
			continue
		}
		b.prevTotal[name] = total
		cur := h.Export()
		prev := b.prev[name]
		// The difference is encoded straight from one reused array (see
		// v2Encoder): no Histogram is built for it.
		if cap(b.diff) < len(cur.Counts) {
			b.diff = make([]int64, len(cur.Counts))
		}
		diff := b.diff[:len(cur.Counts)]
		nonzero := false
		for i, c := range cur.Counts {
			if i < len(prev) {
				c -= prev[i]
			}
			if c < 0 {
				// A snapshot without what an earlier one held: the
				// bucket counts as empty (as a Histogram imports it)
				// and the intervals no longer sum to the totals.
				c = 0
				if b.encErr == nil {
					b.encErr = fmt.Errorf("metrics: latency %s: a snapshot holds fewer samples than the one before", name)
				}
			}
			diff[i] = c
			nonzero = nonzero || c != 0
		}
		b.prev[name] = cur.Counts
		if !nonzero {
			continue
		}
		blob := b.enc.encode(diff, cur.LowestTrackableValue, cur.HighestTrackableValue, int32(cur.SignificantFigures))
		if iv.Latencies == nil {
			iv.Latencies = map[string]Blob{}
		}
		iv.Latencies[name] = blob
	}
	iv.Counters = deltas(snap.Counters, b.prevRes.Counters)
	iv.Errors = deltas(snap.Errors, b.prevRes.Errors)
	iv.Disconnects = deltas(snap.Disconnects, b.prevRes.Disconnects)
	iv.Events = deltas(snap.Events, b.prevRes.Events)
	b.prevRes = &Result{Counters: clone(snap.Counters), Errors: clone(snap.Errors), Disconnects: clone(snap.Disconnects), Events: clone(snap.Events)}
	b.tl.Intervals = append(b.tl.Intervals, iv)
	b.last = at
	b.thresholds(at, snap)
}

// thresholds marks a threshold whose verdict turns to a failure. An
// upper bound (<, <=, ==, !=) that fails is a breach when first seen; a
// lower bound (count > 0) fails at the start of every run until enough
// has happened, so only a pass that turns into a failure is one.
func (b *TimelineBuilder) thresholds(at time.Time, snap *Result) {
	for _, t := range snap.Thresholds {
		tr := t.Evaluate(snap)
		if tr.Note != "" {
			continue
		}
		was, seen := b.failing[t.Source]
		fail := !tr.Pass
		b.failing[t.Source] = fail
		lower := t.Op == ">" || t.Op == ">="
		if fail && !was && (seen || !lower) {
			b.mark(at, MarkThreshold, "breach: "+tr.String())
		}
	}
}

// LastEvent returns the latest marker that is not a phase change (a
// fault, a threshold breach), and whether there is one.
func (b *TimelineBuilder) LastEvent() (Marker, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.tl.Markers) - 1; i >= 0; i-- {
		if m := b.tl.Markers[i]; m.Kind != MarkPhase {
			return m, true
		}
	}
	return Marker{}, false
}

// Timeline returns a copy of the timeline so far, and the first error
// (a snapshot that had lost samples), which makes the intervals not sum
// to the totals.
func (b *TimelineBuilder) Timeline() (*Timeline, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tl := b.tl
	tl.Intervals = append([]Interval(nil), b.tl.Intervals...)
	tl.Markers = append([]Marker(nil), b.tl.Markers...)
	return &tl, b.encErr
}

func deltas(cur, prev map[string]int64) map[string]int64 {
	var d map[string]int64
	for k, v := range cur {
		if n := v - prev[k]; n != 0 {
			if d == nil {
				d = map[string]int64{}
			}
			d[k] = n
		}
	}
	return d
}

func clone(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// MergeTimelines merges the timelines of several runs by wall time onto
// one axis starting at start: slots of the longest interval among them,
// each run's interval falling into the slot of its start. Histograms are
// merged and counts summed, so the merged intervals still sum to the
// merged totals. Gauges and health are summed (runs that overlap in time
// are several generators loading one target); the health's timer lag is
// the worst. It returns nil when no run has a timeline.
func MergeTimelines(start time.Time, tls ...*Timeline) (*Timeline, error) {
	width := 0.0
	for _, tl := range tls {
		if tl != nil {
			width = math.Max(width, tl.Interval)
		}
	}
	if width <= 0 {
		return nil, nil
	}
	type slot struct {
		iv    Interval
		hists map[string]*hdrhistogram.Histogram
	}
	slots := map[int64]*slot{}
	out := &Timeline{Interval: width, Intervals: []Interval{}}
	for _, tl := range tls {
		if tl == nil {
			continue
		}
		for _, iv := range tl.Intervals {
			k := int64(math.Floor(iv.Start.Sub(start).Seconds()/width + 1e-9))
			s := slots[k]
			if s == nil {
				at := start.Add(time.Duration(float64(k) * width * float64(time.Second)))
				s = &slot{iv: Interval{Start: at, T: float64(k) * width, Seconds: width, Phase: iv.Phase}, hists: map[string]*hdrhistogram.Histogram{}}
				slots[k] = s
			}
			for name, blob := range iv.Latencies {
				h, err := blob.Histogram()
				if err != nil {
					return nil, err
				}
				if s.hists[name] == nil {
					s.hists[name] = newHist()
				}
				s.hists[name].Merge(h)
			}
			s.iv.Counters = addInto(s.iv.Counters, iv.Counters)
			s.iv.Errors = addInto(s.iv.Errors, iv.Errors)
			s.iv.Disconnects = addInto(s.iv.Disconnects, iv.Disconnects)
			s.iv.Events = addInto(s.iv.Events, iv.Events)
			s.iv.ClientsConnected += iv.ClientsConnected
			if iv.Health != nil {
				if s.iv.Health == nil {
					s.iv.Health = &IntervalHealth{}
				}
				h := s.iv.Health
				h.CPU += iv.Health.CPU
				h.RSS += iv.Health.RSS
				h.Heap += iv.Health.Heap
				h.Goroutines += iv.Health.Goroutines
				h.TimerLagP99 = math.Max(h.TimerLagP99, iv.Health.TimerLagP99)
				h.TimerLagMax = math.Max(h.TimerLagMax, iv.Health.TimerLagMax)
			}
		}
		for _, m := range tl.Markers {
			m.T = math.Round(m.At.Sub(start).Seconds()*1e6) / 1e6
			out.Markers = append(out.Markers, m)
		}
	}
	keys := make([]int64, 0, len(slots))
	for k := range slots {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		s := slots[k]
		for _, name := range sortedKeys(s.hists) {
			blob, err := encode(s.hists[name])
			if err != nil {
				return nil, err
			}
			if s.iv.Latencies == nil {
				s.iv.Latencies = map[string]Blob{}
			}
			s.iv.Latencies[name] = blob
		}
		out.Intervals = append(out.Intervals, s.iv)
	}
	sort.SliceStable(out.Markers, func(i, j int) bool { return out.Markers[i].At.Before(out.Markers[j].At) })
	return out, nil
}

func addInto(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]int64{}
	}
	addMap(dst, src)
	return dst
}

// CheckTimeline reports whether r's timeline accounts for r exactly: the
// interval counts sum to the totals and the interval histograms merge
// into the whole histograms. It returns nil when they do (or when r has
// no timeline), else an error naming the first difference.
func (r *Result) CheckTimeline() error {
	tl := r.Timeline
	if tl == nil {
		return nil
	}
	sums := [4]map[string]int64{{}, {}, {}, {}}
	hists := map[string]*hdrhistogram.Histogram{}
	for i, iv := range tl.Intervals {
		for j, m := range []map[string]int64{iv.Counters, iv.Errors, iv.Disconnects, iv.Events} {
			addMap(sums[j], m)
		}
		for name, blob := range iv.Latencies {
			h, err := blob.Histogram()
			if err != nil {
				return fmt.Errorf("interval %d: %s: %w", i, name, err)
			}
			if hists[name] == nil {
				hists[name] = newHist()
			}
			hists[name].Merge(h)
		}
	}
	for j, total := range []map[string]int64{r.Counters, r.Errors, r.Disconnects, r.Events} {
		what := [4]string{"counter", "error", "disconnect", "event"}[j]
		for k, v := range total {
			if sums[j][k] != v {
				return fmt.Errorf("%s %s: intervals sum to %d, total %d", what, k, sums[j][k], v)
			}
		}
		for k, v := range sums[j] {
			if total[k] != v {
				return fmt.Errorf("%s %s: intervals sum to %d, total %d", what, k, v, total[k])
			}
		}
	}
	for name, h := range r.Latencies {
		if h == nil || h.Histogram == nil || h.TotalCount() == 0 {
			continue
		}
		got := hists[name]
		if got == nil {
			return fmt.Errorf("latency %s: no interval has samples, total %d", name, h.TotalCount())
		}
		if !got.Equals(h.Histogram) {
			return fmt.Errorf("latency %s: merged intervals (%d samples, max %d) differ from the whole histogram (%d samples, max %d)",
				name, got.TotalCount(), got.Max(), h.TotalCount(), h.Max())
		}
		delete(hists, name)
	}
	for name, h := range hists {
		if h.TotalCount() > 0 {
			return fmt.Errorf("latency %s: intervals hold %d samples, the result none", name, h.TotalCount())
		}
	}
	return nil
}
