package metrics

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestV2EncoderIsHdrHistogram: the direct encoder writes what
// hdrhistogram-go writes for the same counts, as the timeline encoded them
// before (a difference imported into a Histogram, then Encode), and the
// result decodes to the same histogram. One encoder encodes every case in
// turn, so that its reused buffers and zlib writer are covered too.
func TestV2EncoderIsHdrHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := len(newHist().Export().Counts)
	logn := func(median float64) int64 { return min(int64(median*math.Exp(2*rng.NormFloat64())), highest) }
	cases := map[string]func(h *hdrhistogram.Histogram){
		"empty":      func(*hdrhistogram.Histogram) {},
		"zero":       func(h *hdrhistogram.Histogram) { _ = h.RecordValue(0) },
		"one":        func(h *hdrhistogram.Histogram) { _ = h.RecordValue(1) },
		"highest":    func(h *hdrhistogram.Histogram) { _ = h.RecordValue(highest) },
		"both ends":  func(h *hdrhistogram.Histogram) { _ = h.RecordValue(0); _ = h.RecordValue(highest) },
		"lone zeros": func(h *hdrhistogram.Histogram) { _ = h.RecordValue(5); _ = h.RecordValue(7); _ = h.RecordValue(9) },
		"big counts": func(h *hdrhistogram.Histogram) {
			_ = h.RecordValues(3000, math.MaxInt64/4)
			_ = h.RecordValues(3, 1<<40)
		},
		"lognormal":   func(h *hdrhistogram.Histogram) { recordN(h, 10_000, func() int64 { return logn(2000) }) },
		"uniform":     func(h *hdrhistogram.Histogram) { recordN(h, 50_000, func() int64 { return rng.Int64N(highest + 1) }) },
		"every count": func(h *hdrhistogram.Histogram) { recordN(h, 200_000, func() int64 { return rng.Int64N(1 << 14) }) },
	}
	var e v2Encoder
	for round := range 3 {
		for name, fill := range cases {
			h := newHist()
			fill(h)
			snap := h.Export()
			if len(snap.Counts) != n {
				t.Fatalf("%s: %d counts, want %d", name, len(snap.Counts), n)
			}
			want, err := hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: snap.LowestTrackableValue,
				HighestTrackableValue: snap.HighestTrackableValue, SignificantFigures: snap.SignificantFigures,
				Counts: snap.Counts}).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			got := e.encode(snap.Counts, snap.LowestTrackableValue, snap.HighestTrackableValue, int32(snap.SignificantFigures))
			if !bytes.Equal(got, want) {
				t.Errorf("round %d, %s: %d bytes %.40q..., hdrhistogram-go writes %d bytes %.40q...", round, name, len(got), got, len(want), want)
				continue
			}
			back, err := got.Histogram()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !back.Equals(h) {
				t.Errorf("%s: decoded %d samples (max %d), recorded %d (max %d)", name, back.TotalCount(), back.Max(), h.TotalCount(), h.Max())
			}
		}
	}
}

func recordN(h *hdrhistogram.Histogram, n int, v func() int64) {
	for range n {
		_ = h.RecordValue(v())
	}
}

// TestPutZigZag: the 9-byte variant at its boundaries, against the
// decoder hdrhistogram-go reads it with (a one-count payload at index 0
// decodes to that count).
func TestPutZigZag(t *testing.T) {
	var b [10]byte
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 20), 1<<55 - 1, 1 << 55, 1 << 62, math.MaxInt64, math.MinInt64} {
		n := putZigZag(b[:], v)
		// Decode by LEB128 with the 9th byte whole.
		var u uint64
		for i := 0; i < n; i++ {
			if i == 8 {
				u |= uint64(b[i]) << 56
				break
			}
			u |= uint64(b[i]&0x7f) << (7 * i)
		}
		if got := int64(u>>1) ^ -int64(u&1); got != v || n > 9 || (n < 9 && b[n-1]&0x80 != 0) {
			t.Errorf("%d: %d bytes % x decode to %d", v, n, b[:n], got)
		}
	}
}

// TestTimelineShrinkingSnapshot: a snapshot that lost samples an earlier
// one held breaks the builder's contract; the timeline says so instead of
// writing a negative count into an interval histogram.
func TestTimelineShrinkingSnapshot(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewTimelineBuilder(t0, time.Second)
	snap := newResult()
	for range 10 {
		_ = snap.hist(Ack).RecordValue(500)
	}
	b.Close(t0.Add(time.Second), snap, "hold", nil)
	if _, err := b.Timeline(); err != nil {
		t.Fatal(err)
	}
	less := newResult()
	_ = less.hist(Ack).RecordValue(500)
	_ = less.hist(Ack).RecordValue(900)
	b.Close(t0.Add(2*time.Second), less, "hold", nil)
	tl, err := b.Timeline()
	if err == nil || !strings.Contains(err.Error(), "ack") {
		t.Fatalf("a shrinking snapshot: error %v", err)
	}
	h, err := tl.Intervals[1].Latencies["ack"].Histogram()
	if err != nil || h.TotalCount() != 1 || h.Min() < 895 || h.Max() > 905 {
		t.Errorf("second interval: %v samples, err %v; want the one new sample", h, err)
	}
}
