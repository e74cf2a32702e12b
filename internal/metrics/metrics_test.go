package metrics

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func record(r *Recorder) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			sh := r.Shard(w)
			for i := 1; i <= 100; i++ {
				sh.Record(Ack, time.Duration(i)*time.Millisecond)
				sh.Add(MessagesSent, 1)
				sh.Add(Operations, 1)
				sh.Received("echo")
			}
			sh.Error(ErrAckTimeout)
			sh.Disconnect("transport close")
		})
	}
	wg.Wait()
}

func TestRecorderSnapshot(t *testing.T) {
	r := NewRecorder(4)
	record(r)
	r.Connected(3)
	r.Connected(-1)
	res := r.Snapshot()
	if res.Counters["messages_sent"] != 800 || res.Counters["messages_received"] != 800 || res.Events["echo"] != 800 {
		t.Errorf("counters %v events %v", res.Counters, res.Events)
	}
	if res.Errors[ErrAckTimeout] != 8 || res.Disconnects["transport close"] != 8 {
		t.Errorf("errors %v disconnects %v", res.Errors, res.Disconnects)
	}
	if res.ClientsConnected != 2 || res.PeakClients != 3 {
		t.Errorf("gauge %d peak %d", res.ClientsConnected, res.PeakClients)
	}
	st := res.StatsOf("ack")
	if st.Count != 800 || st.Min != time.Millisecond || st.Max < 99*time.Millisecond || st.Max > 101*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
	if p := st.P50; p < 49*time.Millisecond || p > 51*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
}

func TestJSONRoundTripAndMerge(t *testing.T) {
	r := NewRecorder(2)
	record(r)
	res := r.Snapshot()
	res.Scenario, res.Elapsed = "echo", Duration(2*time.Second)
	back, b := jsonRoundTrip(t, res)
	if back.Latency("ack").TotalCount() != 800 || back.Counters["messages_sent"] != 800 || time.Duration(back.Elapsed) != 2*time.Second {
		t.Fatalf("round trip lost data: %s", b)
	}
	m := Merge(res, back)
	if m.Latency("ack").TotalCount() != 1600 || m.Counters["messages_sent"] != 1600 || m.Runs != 2 || m.Scenario != "echo" {
		t.Errorf("merge: runs %d scenario %q count %d", m.Runs, m.Scenario, m.Latency("ack").TotalCount())
	}
}

func TestThresholds(t *testing.T) {
	r := NewRecorder(1)
	record(r)
	res := r.Snapshot()
	res.Elapsed = Duration(4 * time.Second)
	cases := []struct {
		th   Threshold
		pass bool
	}{
		{Threshold{Metric: "ack", Stat: "p99", Op: "<", Value: 150, Unit: "ms"}, true},
		{Threshold{Metric: "ack", Stat: "p99", Op: "<", Value: 50, Unit: "ms"}, false},
		{Threshold{Metric: "ack", Stat: "max", Op: "<", Value: 1, Unit: "s"}, true},
		{Threshold{Metric: "errors", Op: "<", Value: 1.5, Unit: "%"}, true}, // 8/800 = 1 %
		{Threshold{Metric: "errors", Op: "<", Value: 0.5, Unit: "%"}, false},
		{Threshold{Metric: "messages_sent", Stat: "rate", Op: ">=", Value: 200}, true}, // 800/4s
		{Threshold{Metric: "messages_sent", Stat: "rate", Op: ">", Value: 200}, false},
		{Threshold{Metric: "ack_timeouts", Op: "==", Value: 0}, true},                  // counter, not errors map
		{Threshold{Metric: "event", Stat: "p99", Op: "<", Value: 1, Unit: "s"}, false}, // no samples
	}
	for _, c := range cases {
		c.th.Source = c.th.Stat + "(" + c.th.Metric + ")"
		if got := c.th.Evaluate(res); got.Pass != c.pass {
			t.Errorf("%+v: got %v (%s)", c.th, got.Pass, got)
		}
	}
	res.Thresholds = []Threshold{cases[0].th, cases[1].th}
	if s := res.Summarize(); s.Passed || len(s.Thresholds) != 2 {
		t.Errorf("summary passed=%v", s.Passed)
	}
}

// jsonRoundTrip marshals res and unmarshals it into a new Result (the way a
// report file is written and read back), failing t on either error; it
// returns the copy and the JSON.
func jsonRoundTrip(t *testing.T, res *Result) (*Result, []byte) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return &back, b
}

// TestAckedIsRecordAndAdd: the one-lock methods of the hot path record
// exactly what the separate calls they replace did, clamping included.
func TestAckedIsRecordAndAdd(t *testing.T) {
	one, sep := NewRecorder(1), NewRecorder(1)
	for _, d := range []time.Duration{-time.Second, 0, 7 * time.Microsecond, 3 * time.Millisecond, 2 * time.Hour} {
		one.Shard(0).Acked(d)
		sep.Shard(0).Record(Ack, d)
		sep.Shard(0).Add(Acks, 1)
	}
	one.Shard(0).AddPair(MessagesSent, 1, BytesSent, 64)
	one.Shard(0).AddPair(BytesReceived, 70, PacketsReceived, 1)
	sep.Shard(0).Add(MessagesSent, 1)
	sep.Shard(0).Add(BytesSent, 64)
	sep.Shard(0).Add(BytesReceived, 70)
	sep.Shard(0).Add(PacketsReceived, 1)
	a, b := one.Snapshot(), sep.Snapshot()
	if !a.Latency("ack").Equals(b.Latency("ack")) || a.Latency("ack").TotalCount() != 5 {
		t.Errorf("ack histogram %d samples (max %d), want %d (max %d)", a.Latency("ack").TotalCount(), a.Latency("ack").Max(), b.Latency("ack").TotalCount(), b.Latency("ack").Max())
	}
	for _, c := range []Counter{Acks, MessagesSent, BytesSent, BytesReceived, PacketsReceived} {
		if a.Counters[c.String()] != b.Counters[c.String()] || a.Counters[c.String()] == 0 {
			t.Errorf("%s: %d, want %d", c, a.Counters[c.String()], b.Counters[c.String()])
		}
	}
}

// TestSnapshotMergesAsHistogramMerge: the snapshot's count-by-count sum of
// the shards is the histogram Histogram.Merge makes of them, and a
// latency no shard recorded stays absent.
func TestSnapshotMergesAsHistogramMerge(t *testing.T) {
	r := NewRecorder(3)
	want := newHist()
	for w := range 3 {
		for i := range 2000 {
			v := int64(i*(w+1)*37) % (highest + 1)
			r.Shard(w).RecordValue(Ack, v)
			_ = want.RecordValue(v)
		}
	}
	r.Shard(1).RecordValue(Connect, highest)
	res := r.Snapshot()
	if got := res.Latency("ack"); got == nil || !got.Equals(want) || got.TotalCount() != 6000 {
		t.Errorf("ack: %v, want %d samples (max %d)", got, want.TotalCount(), want.Max())
	}
	if got := res.Latency("connect"); got == nil || got.TotalCount() != 1 || got.Max() < highest {
		t.Errorf("connect: %v", got)
	}
	if _, ok := res.Latencies["upgrade"]; ok {
		t.Error("an unrecorded latency is in the snapshot")
	}
}

// TestCountsIndex: the shards index their counts as hdrhistogram-go does
// (a value recorded alone is found at the same index of its Export), at
// every value up to 2^13 (the first buckets), around every power of two
// up to highest and at random values.
func TestCountsIndex(t *testing.T) {
	var vs []int64
	for v := int64(0); v <= 1<<13; v++ {
		vs = append(vs, v)
	}
	for p := int64(1 << 13); p <= highest; p <<= 1 {
		vs = append(vs, p-1, p, p+1, p+p/3)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		vs = append(vs, rng.Int64N(highest+1), rng.Int64N(1<<20))
	}
	vs = append(vs, highest-1, highest)
	// 62 values at a time, the j-th recorded 2^j times: each count of
	// hdrhistogram-go's is then the set of the values it holds.
	h := newHist()
	mine := make([]int64, countsLen)
	for len(vs) > 0 {
		batch := vs[:min(62, len(vs))]
		vs = vs[len(batch):]
		h.Reset()
		clear(mine)
		for j, v := range batch {
			_ = h.RecordValues(v, 1<<j)
			i := countsIndex(v)
			if i < 0 || i >= countsLen {
				t.Fatalf("value %d: index %d outside %d counts", v, i, countsLen)
			}
			mine[i] += 1 << j
		}
		for i, c := range h.Export().Counts {
			if mine[i] != c {
				t.Fatalf("index %d holds values %b of %v, hdrhistogram-go's %b", i, mine[i], batch, c)
			}
		}
	}
}
