package load

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/internal/target"
)

// TestGeneratorBottleneckWarning saturates the generator's own process
// (4 spinning goroutines per core) during a light run: the summary must
// blame the generator (CPU above 80 % of the cores, or a 100 ms ticker
// late by more than 10 ms: with 4 runnable spinners per P and 10 ms
// preemption slices, the timer goroutine waits tens of ms). Either
// signal is accepted because the machine is shared: under other load the
// spinners get less CPU but the scheduler lag grows.
func TestGeneratorBottleneckWarning(t *testing.T) {
	b := startBuiltin(t, target.Options{})
	s := parseScenario(t, `name: busy
load: {clients: 2, ramp: 0s, hold: 2500ms, grace: 1s}
flow:
  - connect: {}
  - loop:
      rate: 10
      steps:
        - emit_ack: {event: echo-ack, args: [x]}
`)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			x := 0
			for !stop.Load() {
				x++
			}
			_ = x
		})
	}
	res, err := Run(context.Background(), s, Options{Target: b.URL})
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	h := res.Health
	if h == nil || h.Samples < 2 || h.Goroutines < 4*runtime.GOMAXPROCS(0) || h.Cores != runtime.GOMAXPROCS(0) || h.CPUSeconds <= 0 || h.PeakMem < h.BaseMem {
		t.Fatalf("health %+v", h)
	}
	if len(h.Machine) != 12 || h.Machine != machineID() || h.MachineCPUs != runtime.NumCPU() {
		t.Errorf("machine %q of %d CPUs: want a 12-digit hash, the same each time, and %d CPUs", h.Machine, h.MachineCPUs, runtime.NumCPU())
	}
	sum := res.Summarize()
	t.Logf("cpu peak %.2f of %d cores, timer lag p99 %v, warnings %q", h.CPU, h.Cores, time.Duration(h.TimerLag.ValueAtQuantile(99))*time.Microsecond, sum.Warnings)
	found := false
	for _, w := range sum.Warnings {
		found = found || strings.Contains(w, "the generator, not the target, may be the bottleneck")
	}
	if !found {
		t.Errorf("no bottleneck warning: %q", sum.Warnings)
	}
}

// TestSamplerSchedule: on a fake clock (testing/synctest) the sampler
// takes one sample per healthInterval plus the one at stop, and its
// timer-lag probe sees every lagTick tick exactly on time, so a lag it
// reports on a real machine is the scheduler's, not the probe's. The
// 3.5 s it covers take no wall time.
func TestSamplerSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSampler()
		time.Sleep(3*healthInterval + healthInterval/2)
		synctest.Wait()
		iv := s.interval(time.Now())
		s.stop()
		h := s.snapshot()
		if h.Samples != 4 {
			t.Errorf("samples %d, want 3 ticks and the one at stop", h.Samples)
		}
		want := int64((3*healthInterval + healthInterval/2) / lagTick)
		if h.TimerLag == nil || h.TimerLag.TotalCount() != want || h.TimerLag.Max() != 0 {
			t.Fatalf("timer lag %v, want %d ticks, none late", h.TimerLag, want)
		}
		if iv.TimerLagMax != 0 || iv.TimerLagP99 != 0 {
			t.Errorf("interval lag p99 %v max %v, want 0", iv.TimerLagP99, iv.TimerLagMax)
		}
	})
}

// TestMemInUseIsMemStats: the runtime/metrics the sampler reads are the
// MemStats fields it used to read. Memory moves between the reads, so
// MemStats' value must lie between the two bracketing reads, give or
// take a few spans.
func TestMemInUseIsMemStats(t *testing.T) {
	keep := make([][]byte, 0, 512)
	for i := range 512 {
		keep = append(keep, make([]byte, 1024+i*64)) // a heap of many span classes
	}
	const slack = 64 << 10
	for range 5 {
		h0, s0 := memInUse()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h1, s1 := memInUse()
		if ms.HeapInuse+slack < min(h0, h1) || ms.HeapInuse > max(h0, h1)+slack {
			t.Errorf("heap in use %d and %d, MemStats.HeapInuse %d", h0, h1, ms.HeapInuse)
		}
		if ms.StackInuse+slack < min(s0, s1) || ms.StackInuse > max(s0, s1)+slack || s0 == 0 {
			t.Errorf("stacks in use %d and %d, MemStats.StackInuse %d", s0, s1, ms.StackInuse)
		}
	}
	runtime.KeepAlive(keep)
}

// TestHealthAfterStartAt: the generator's health covers the run, not a
// --start-at wait before it: mean CPU is CPU seconds over the run's
// wall time (a worker's used to be over its life, the wait included).
func TestHealthAfterStartAt(t *testing.T) {
	t.Parallel()
	b := startBuiltin(t, target.Options{})
	s := parseScenario(t, `name: start-at
load: {clients: 2, ramp: 0s, hold: 1s, grace: 1s}
flow:
  - connect: {}
`)
	const wait = 2 * time.Second
	res, err := Run(context.Background(), s, Options{Target: b.URL, StartAt: time.Now().Add(wait)})
	if err != nil {
		t.Fatal(err)
	}
	h := res.Health
	wall := time.Duration(res.Elapsed)
	if h == nil || h.CPUSeconds <= 0 || h.Samples > int(wall/time.Second)+1 {
		t.Fatalf("health %+v over a run of %v: want samples of the run only", h, wall)
	}
	if want := h.CPUSeconds / wall.Seconds(); h.MeanCPU < 0.9*want {
		t.Errorf("mean cpu %.4f, want about %.4f (%.3f s over the run's %v, not over the wait of %v too)", h.MeanCPU, want, h.CPUSeconds, wall, wait)
	}
}
