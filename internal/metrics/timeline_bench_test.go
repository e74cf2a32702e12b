package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// hourOfStorm feeds a TimelineBuilder an hour of one-second intervals
// shaped like a big reconnect-storm run: 1000 clients echoing 10 times a
// second (10 000 event samples a second, log-normally spread over three
// decades, so that each interval histogram has many distinct buckets),
// and every 60 s half of them dropped and reconnecting (500 handshake,
// connect and reconnect samples, errors and disconnects by kind). It
// returns the builder and the snapshot it last closed on.
func hourOfStorm(tb testing.TB, intervals int) (*TimelineBuilder, *Result) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	snap := newResult()
	snap.Thresholds = []Threshold{{Metric: "reconnect", Stat: "p99", Op: "<", Value: 10, Unit: "s", Source: "p99(reconnect) < 10s"}}
	b := NewTimelineBuilder(start, time.Second)
	logn := func(median float64) int64 { return int64(median * math.Exp(rng.NormFloat64())) }
	for i := range intervals {
		ev := snap.hist(Event)
		for range 10_000 {
			_ = ev.RecordValue(min(logn(2000), highest))
		}
		addCounts(snap.Counters, stormSecond)
		snap.Events["echo"] += 10_000
		if i%60 == 5 {
			for _, l := range []Latency{Handshake, Connect, Reconnect} {
				h := snap.hist(l)
				for range 500 {
					_ = h.RecordValue(min(logn(50_000), highest))
				}
			}
			addCounts(snap.Counters, stormDrop)
			snap.Errors[ErrWaitTimeout] += 7
			snap.Errors[ErrConnect] += 20
			snap.Disconnects["transport close"] += 500
			b.Mark(start.Add(time.Duration(i)*time.Second), MarkFault, "drop 50% (500 clients)")
		}
		snap.ClientsConnected = 1000
		b.Close(start.Add(time.Duration(i+1)*time.Second), snap, "hold",
			&IntervalHealth{CPU: 0.7, RSS: 300 << 20, Heap: 200 << 20, Goroutines: 3000, TimerLagP99: 0.4, TimerLagMax: 1.2})
	}
	return b, snap
}

// The counters of hourOfStorm: what every second adds (the echoes),
// and what a drop adds on top.
var (
	stormSecond = map[string]int64{"messages_sent": 10_000, "messages_received": 10_000, "packets_received": 10_050,
		"bytes_sent": 640_000, "bytes_received": 640_000, "operations": 10_000, "iterations": 10_000}
	stormDrop = map[string]int64{"dropped": 500, "reconnect_attempts": 520, "reconnects": 500, "lost": 3}
)

// addCounts adds every count of add to m.
func addCounts(m, add map[string]int64) {
	for k, v := range add {
		m[k] += v
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkTimelineHour measures the timeline budget (issue 8 item 1):
// an hour at 1 s intervals must hold under 50 MiB of memory and write
// under 20 MiB of JSON (indented, as `sioload run --out` writes it). Run
// it with -benchtime=1x; each iteration is a whole hour.
func BenchmarkTimelineHour(b *testing.B) {
	const hour = 3600
	for b.Loop() {
		before := heapInUse()
		tb, snap := hourOfStorm(b, hour)
		// The cumulative snapshot is the run's, not the timeline's:
		// subtract what it holds.
		snapBytes := uint64(0)
		for _, h := range snap.Latencies {
			snapBytes += uint64(h.ByteSize())
		}
		after := heapInUse()
		tl, err := tb.Timeline()
		if err != nil {
			b.Fatal(err)
		}
		js, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			b.Fatal(err)
		}
		mem := float64(after-before-min(snapBytes, after-before)) / (1 << 20)
		jsonMiB := float64(len(js)) / (1 << 20)
		b.ReportMetric(mem, "timeline-MiB")
		b.ReportMetric(jsonMiB, "json-MiB")
		b.ReportMetric(float64(len(tl.Intervals)), "intervals")
		if mem >= 50 || jsonMiB >= 20 {
			b.Fatalf("over budget: %.1f MiB held (limit 50), %.1f MiB of JSON (limit 20)", mem, jsonMiB)
		}
		runtime.KeepAlive(tb)
		runtime.KeepAlive(snap)
	}
}

// TestTimelineBudgetShape checks the benchmark's generator on a few
// minutes: its intervals sum to its totals, so the benchmark measures a
// real timeline.
func TestTimelineBudgetShape(t *testing.T) {
	tb, snap := hourOfStorm(t, 70)
	tl, err := tb.Timeline()
	if err != nil {
		t.Fatal(err)
	}
	snap.Timeline = tl
	if err := snap.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	if n := len(tl.Intervals[5].Latencies); n != 4 {
		t.Errorf("storm interval has %d histograms, want 4", n)
	}
	if n := len(tl.Markers); n != 3 {
		t.Errorf("%d markers, want hold and 2 drops", n)
	}
}

// BenchmarkTick is what the run's one-second loop costs now that it
// closes an interval every tick: a snapshot of 8 shards holding 4
// latency histograms each (a storm's), and the interval's difference
// and encoding.
func BenchmarkTick(b *testing.B) {
	rec := NewRecorder(8)
	rng := rand.New(rand.NewPCG(3, 4))
	for w := range 8 {
		sh := rec.Shard(w)
		for range 20_000 {
			for _, l := range []Latency{Handshake, Connect, Event, Reconnect} {
				sh.RecordValue(l, int64(2000*math.Exp(rng.NormFloat64())))
			}
		}
	}
	tb := NewTimelineBuilder(time.Now(), time.Second)
	at := time.Now()
	for b.Loop() {
		sh := rec.Shard(rng.IntN(8))
		for range 1000 {
			sh.RecordValue(Event, int64(2000*math.Exp(rng.NormFloat64())))
		}
		at = at.Add(time.Second)
		tb.Close(at, rec.Snapshot(), "hold", nil)
	}
}
