package load

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/siokit/siokit/internal/metrics"
)

// healthInterval is the sampling period of the generator's own state
// (docs/sioload.md §2); lagTick the period of the timer-lag probe.
const (
	healthInterval = time.Second
	lagTick        = 100 * time.Millisecond
)

// sampler watches the generator itself: CPU, memory, goroutines and how
// late a 100 ms ticker fires. A late ticker means the Go scheduler is
// starved, so the generator's own send times (and therefore its
// latencies) are late too: the target is not the bottleneck then.
type sampler struct {
	mu      sync.Mutex
	h       metrics.Health
	lag     *hdrhistogram.Histogram
	start   time.Time
	cpu0    time.Duration
	lastCPU time.Duration
	lastAt  time.Time
	// ivCPU and ivAt are the state at the last timeline interval; ivLag
	// holds the timer lag since then, reset at each interval (a copy and
	// a difference of the run's histogram, ~190 KB each, every second,
	// were most of the sampler's cost).
	ivCPU time.Duration
	ivAt  time.Time
	ivLag *hdrhistogram.Histogram

	quit chan struct{}
	wg   sync.WaitGroup
}

func newSampler() *sampler {
	s := &sampler{lag: newLagHist(), ivLag: newLagHist(), quit: make(chan struct{})}
	s.h.Cores = runtime.GOMAXPROCS(0)
	s.h.Machine, s.h.MachineCPUs = machineID(), runtime.NumCPU()
	s.start = time.Now()
	s.cpu0 = cpuTime()
	s.lastCPU, s.lastAt = s.cpu0, s.start
	s.ivCPU, s.ivAt = s.cpu0, s.start
	heap, stack := memInUse()
	s.h.BaseMem = heap + stack
	s.h.PeakMem = s.h.BaseMem
	s.wg.Go(s.sample)
	s.wg.Go(s.probe)
	return s
}

// machineID is Health.Machine: processes with the same kernel boot id and
// cgroup draw on the same cores. The hash keeps the cgroup path (which can
// name a pod or a user) out of reports; the hostname stands in where
// /proc has neither.
func machineID() string {
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	cg, _ := os.ReadFile("/proc/self/cgroup")
	if len(boot) == 0 {
		host, _ := os.Hostname()
		boot = []byte(host)
	}
	sum := sha256.Sum256(append(append(boot, 0), cg...))
	return hex.EncodeToString(sum[:6])
}

func (s *sampler) sample() {
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case now := <-t.C:
			s.take(now)
		}
	}
}

// take records one sample.
func (s *sampler) take(now time.Time) {
	cpu := cpuTime()
	heap, stack := memInUse()
	rss := metrics.ProcessRSS()
	g := runtime.NumGoroutine()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The last sample (at stop) may cover a few ms only: too short a
	// window turns one burst into a false peak, so it does not count.
	if wall := now.Sub(s.lastAt); wall >= healthInterval/2 {
		s.h.CPU = max(s.h.CPU, float64(cpu-s.lastCPU)/float64(wall))
		s.lastCPU, s.lastAt = cpu, now
	}
	s.h.PeakMem = max(s.h.PeakMem, heap+stack)
	s.h.Heap = max(s.h.Heap, heap)
	s.h.RSS = max(s.h.RSS, rss)
	s.h.Goroutines = max(s.h.Goroutines, g)
	s.h.Samples++
}

// probe measures timer lag: how much later than 100 ms after the previous
// tick each tick is observed.
func (s *sampler) probe() {
	t := time.NewTicker(lagTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			now := time.Now()
			lag := now.Sub(last) - lagTick
			last = now
			s.mu.Lock()
			_ = s.lag.RecordValue(max(lag.Microseconds(), 0))
			_ = s.ivLag.RecordValue(max(lag.Microseconds(), 0))
			s.mu.Unlock()
		}
	}
}

// snapshot returns the health so far.
func (s *sampler) snapshot() *metrics.Health {
	if s == nil {
		return nil
	}
	now := time.Now()
	cpu := cpuTime()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.h
	h.CPUSeconds = (cpu - s.cpu0).Seconds()
	if wall := now.Sub(s.start).Seconds(); wall > 0 {
		h.MeanCPU = h.CPUSeconds / wall
	}
	if s.lag.TotalCount() > 0 {
		h.TimerLag = &metrics.Histogram{Histogram: hdrhistogram.Import(s.lag.Export())}
	}
	return &h
}

// interval returns the generator's state over the timeline interval that
// ends at now (CPU and timer lag since the previous call).
func (s *sampler) interval(now time.Time) *metrics.IntervalHealth {
	if s == nil {
		return nil
	}
	cpu := cpuTime()
	heap, _ := memInUse()
	h := &metrics.IntervalHealth{RSS: metrics.ProcessRSS(), Heap: heap, Goroutines: runtime.NumGoroutine()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if wall := now.Sub(s.ivAt); wall > 0 {
		h.CPU = float64(cpu-s.ivCPU) / float64(wall)
	}
	s.ivCPU, s.ivAt = cpu, now
	if lag := s.ivLag; lag.TotalCount() > 0 {
		h.TimerLagP99 = float64(lag.ValueAtQuantile(99)) / 1e3
		h.TimerLagMax = float64(lag.Max()) / 1e3
		lag.Reset()
	}
	return h
}

// newLagHist makes a timer-lag histogram (µs, up to an hour).
func newLagHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
}

func (s *sampler) stop() {
	close(s.quit)
	s.wg.Wait()
	s.take(time.Now())
}

// cpuTime is the process's user+sys CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memNames are the runtime/metrics that add up to MemStats' HeapInuse
// (objects and unused: the runtime computes both from the same
// consistent heap stats) and StackInuse. runtime/metrics reads them
// without ReadMemStats's stop-the-world, which paused every client of a
// big run twice a second.
var memNames = [...]string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/heap/stacks:bytes"}

// memInUse returns the heap (MemStats.HeapInuse) and goroutine-stack
// (MemStats.StackInuse) memory in use.
func memInUse() (heap, stack uint64) {
	var s [len(memNames)]rtmetrics.Sample
	for i, n := range memNames {
		s[i].Name = n
	}
	rtmetrics.Read(s[:])
	val := func(i int) uint64 {
		if s[i].Value.Kind() != rtmetrics.KindUint64 {
			return 0 // not in this runtime: the health shows 0, not a panic
		}
		return s[i].Value.Uint64()
	}
	return val(0) + val(1), val(2)
}
