package load

import (
	"testing"
	"time"
)

// TestIntervalTimerLag: each timeline interval reports the timer lag of
// that interval alone, and the run's histogram keeps all of it.
func TestIntervalTimerLag(t *testing.T) {
	s := &sampler{lag: newLagHist(), ivLag: newLagHist(), start: time.Now(), ivAt: time.Now()}
	record := func(us ...int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, v := range us {
			_ = s.lag.RecordValue(v)
			_ = s.ivLag.RecordValue(v)
		}
	}
	record(1000, 2000, 50_000)
	h := s.interval(time.Now())
	if h.TimerLagMax < 49.9 || h.TimerLagMax > 50.1 || h.TimerLagP99 < 49.9 {
		t.Errorf("first interval: p99 %v ms, max %v ms; want 50 ms", h.TimerLagP99, h.TimerLagMax)
	}
	record(3000)
	if h := s.interval(time.Now()); h.TimerLagMax < 2.99 || h.TimerLagMax > 3.01 {
		t.Errorf("second interval: max %v ms, want 3 ms (its own lag, not the first interval's 50 ms)", h.TimerLagMax)
	}
	if h := s.interval(time.Now()); h.TimerLagMax != 0 || h.TimerLagP99 != 0 {
		t.Errorf("an interval without samples: p99 %v, max %v; want 0", h.TimerLagP99, h.TimerLagMax)
	}
	if n := s.lag.TotalCount(); n != 4 {
		t.Errorf("the run's histogram holds %d samples, want 4", n)
	}
}
