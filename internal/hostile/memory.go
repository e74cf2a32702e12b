package hostile

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/metrics"
)

// MiB is 1 << 20, for printing figures.
const MiB = 1 << 20

// Sampler records the peak heap in use and the peak resident set size of
// this process while a test runs.
type Sampler struct {
	// BaseHeap and BaseRSS are the figures when sampling started, after
	// the memory freed so far was returned to the system.
	BaseHeap, BaseRSS uint64

	mu       sync.Mutex
	peakHeap uint64
	peakRSS  uint64
	stop     chan struct{}
	done     chan struct{}
}

// SampleMemory starts sampling every interval.
func SampleMemory(every time.Duration) *Sampler {
	debug.FreeOSMemory()
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.BaseHeap, s.BaseRSS = heapInuse(), RSS()
	s.peakHeap, s.peakRSS = s.BaseHeap, s.BaseRSS
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *Sampler) sample() {
	h, r := heapInuse(), RSS()
	s.mu.Lock()
	s.peakHeap = max(s.peakHeap, h)
	s.peakRSS = max(s.peakRSS, r)
	s.mu.Unlock()
}

// Stop ends sampling and returns the peaks.
func (s *Sampler) Stop() (peakHeap, peakRSS uint64) {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakHeap, s.peakRSS
}

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// HeapAfterGC returns the heap in use after two collections, which also
// empty sync.Pools: what is still held then is really kept.
func HeapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	return heapInuse()
}

// RSS returns this process's resident set size (Linux; 0 elsewhere), as
// the generator's health measures it.
func RSS() uint64 { return metrics.ProcessRSS() }
