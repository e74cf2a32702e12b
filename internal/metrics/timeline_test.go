package metrics

import (
	"encoding/json"
	"github.com/HdrHistogram/hdrhistogram-go"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordRun records into a recorder from 4 goroutines while the timeline
// closes an interval every few ms, as a run's progress loop does, and
// returns the result with its timeline (last interval closed on the
// result's own snapshot).
func recordRun(t *testing.T, start time.Time, seed uint64) *Result {
	t.Helper()
	rec := NewRecorder(4)
	tb := NewTimelineBuilder(start, time.Second)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			sh := rec.Shard(w)
			for i := 0; i < 3000; i++ {
				sh.Record(Ack, time.Duration(rng.IntN(200_000))*time.Microsecond)
				if i%7 == 0 {
					sh.Record(Reconnect, time.Duration(rng.IntN(5000))*time.Millisecond)
					sh.Error(ErrAckTimeout)
					sh.Disconnect("transport close")
				}
				sh.Add(MessagesSent, 1)
				sh.Received("echo")
			}
		})
	}
	// Every snapshot carries the scenario's thresholds, the last one
	// (the result) too, as the run's snapshot does: the progress loop's
	// snapshots may all come before the first sample (one core, workers
	// scheduled only once the loop sleeps), and then only the last
	// interval can judge the breach.
	thresholds := []Threshold{{Metric: "ack", Stat: "p99", Op: "<", Value: 1, Unit: "ms", Source: "p99(ack) < 1ms"}}
	at := start
	done := make(chan struct{})
	go func() { wg.Wait(); stop.Store(true); close(done) }()
	for !stop.Load() {
		at = at.Add(time.Second)
		snap := rec.Snapshot()
		snap.Thresholds = thresholds
		tb.Close(at, snap, "hold", nil)
		time.Sleep(time.Millisecond)
	}
	<-done
	res := rec.Snapshot()
	res.Start = start
	res.Thresholds = thresholds
	at = at.Add(300 * time.Millisecond)
	tb.Close(at, res, "grace", nil)
	tl, err := tb.Timeline()
	if err != nil {
		t.Fatal(err)
	}
	res.Timeline = tl
	return res
}

func TestTimelineSumsToTotals(t *testing.T) {
	res := recordRun(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1)
	if n := len(res.Timeline.Intervals); n < 2 {
		t.Fatalf("%d intervals: the test needs several", n)
	}
	if err := res.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	// After a JSON round trip too.
	back, _ := jsonRoundTrip(t, res)
	if err := back.CheckTimeline(); err != nil {
		t.Fatal("after JSON:", err)
	}
	// The check can fail: one count off is caught.
	last := &back.Timeline.Intervals[len(back.Timeline.Intervals)-1]
	if last.Counters == nil {
		last.Counters = map[string]int64{}
	}
	last.Counters["messages_sent"]++
	if err := back.CheckTimeline(); err == nil || !strings.Contains(err.Error(), "messages_sent") {
		t.Errorf("a wrong interval count passed the check: %v", err)
	}
	var kinds []string
	for _, m := range res.Timeline.Markers {
		kinds = append(kinds, m.Kind+":"+m.Text)
	}
	got := strings.Join(kinds, "|")
	if !strings.Contains(got, "phase:hold") || !strings.Contains(got, "phase:grace") || !strings.Contains(got, "threshold:breach: p99(ack) < 1ms") {
		t.Errorf("markers %s", got)
	}
}

func TestTimelineMergeOfThree(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rs []*Result
	for i := range 3 {
		// Runs started at different times, not on interval boundaries.
		rs = append(rs, recordRun(t, t0.Add(time.Duration(i)*1300*time.Millisecond), uint64(i+10)))
	}
	m := Merge(rs...)
	if m.Timeline == nil || m.TimelineError != "" {
		t.Fatalf("no merged timeline: %q", m.TimelineError)
	}
	if err := m.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(m.Timeline.Intervals); i++ {
		if a, b := m.Timeline.Intervals[i-1].T, m.Timeline.Intervals[i].T; a >= b {
			t.Fatalf("intervals out of order: t %v then %v", a, b)
		}
	}
	// Wall-time alignment: the second run's first interval (started
	// 1.3 s after the first) falls into slot 1.
	if m.Timeline.Intervals[1].T != 1 {
		t.Errorf("slot 1 at t=%v", m.Timeline.Intervals[1].T)
	}
	if got, want := len(m.Timeline.Markers), len(rs[0].Timeline.Markers)+len(rs[1].Timeline.Markers)+len(rs[2].Timeline.Markers); got != want {
		t.Errorf("%d markers, want %d", got, want)
	}
}

// TestReadsOlderResults: files written before durations were seconds and
// histograms single-base64 still read.
func TestReadsOlderResults(t *testing.T) {
	h := newHist()
	for i := int64(1); i <= 100; i++ {
		_ = h.RecordValue(i * 1000)
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(map[string]any{"scenario": "x", "elapsed": "1m2.5s", "runs": 1, "latencies": map[string][]byte{"ack": enc}})
	var r Result
	if err := json.Unmarshal(old, &r); err != nil {
		t.Fatal(err)
	}
	if time.Duration(r.Elapsed) != 62500*time.Millisecond || r.Latency("ack") == nil || !r.Latency("ack").Equals(h) {
		t.Fatalf("old file read as elapsed %v, ack %v", time.Duration(r.Elapsed), r.Latency("ack"))
	}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	if doc["elapsed"] != 62.5 || !strings.HasPrefix(doc["latencies"].(map[string]any)["ack"].(string), "HISTF") {
		t.Errorf("written as elapsed %v, ack %.10v", doc["elapsed"], doc["latencies"].(map[string]any)["ack"])
	}
	st := doc["latency_stats"].(map[string]any)["ack"].(map[string]any)
	if st["count"] != 100.0 || st["min"] != 1.0 || st["unit"] != "ms" || st["max"].(float64) < 99.9 || st["max"].(float64) > 100.1 {
		t.Errorf("ack stats %v", st)
	}
	var bad Result
	if err := json.Unmarshal([]byte(`{"latencies": {"ack": "bm90IGEgaGlzdG9ncmFt"}}`), &bad); err == nil || !strings.Contains(err.Error(), "HISTF") {
		t.Errorf("a bad histogram: %v", err)
	}
}
