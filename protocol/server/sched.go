package server

import (
	"container/heap"
	"sync"
	"time"
)

// scheduler drives every time-based rule of every session from one goroutine:
// a min-heap keyed by each session's next deadline, one entry per session.
// A session recomputes its deadlines when the entry fires (Session.fire), so
// events that only push deadlines later (a pong) cost no heap operation; only
// deadlines that may come earlier (ack timeouts, upgrades) call setEarlier.
//
// Lock order: Session.mu may be held while calling the scheduler; the
// scheduler never calls into a session while holding its own lock.
type scheduler struct {
	base  time.Time // monotonic origin of the int64 clock
	mu    sync.Mutex
	h     schedHeap
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	timer *time.Timer
}

func newScheduler() *scheduler {
	sc := &scheduler{base: time.Now(), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	sc.timer = time.NewTimer(time.Hour)
	go sc.run()
	return sc
}

// now is nanoseconds since base, from the monotonic clock.
func (sc *scheduler) now() int64 { return int64(time.Since(sc.base)) }

// set (re)schedules s at the absolute time at; at <= 0 removes it.
func (sc *scheduler) set(s *Session, at int64) {
	sc.mu.Lock()
	sc.setLocked(s, at)
	sc.mu.Unlock()
}

// setEarlier schedules s at at unless it is already due no later.
func (sc *scheduler) setEarlier(s *Session, at int64) {
	sc.mu.Lock()
	if s.hidx < 0 || at < s.hat {
		sc.setLocked(s, at)
	}
	sc.mu.Unlock()
}

func (sc *scheduler) setLocked(s *Session, at int64) {
	if at <= 0 {
		if s.hidx >= 0 {
			heap.Remove(&sc.h, s.hidx)
		}
		return
	}
	s.hat = at
	if s.hidx >= 0 {
		heap.Fix(&sc.h, s.hidx)
	} else {
		heap.Push(&sc.h, s)
	}
	if s.hidx == 0 {
		select {
		case sc.wake <- struct{}{}:
		default:
		}
	}
}

func (sc *scheduler) close() {
	close(sc.stop)
	<-sc.done
}

func (sc *scheduler) run() {
	defer close(sc.done)
	for {
		sc.mu.Lock()
		var wait time.Duration = time.Hour
		var due *Session
		now := sc.now()
		if len(sc.h) > 0 {
			if top := sc.h[0]; top.hat <= now {
				due = top
				heap.Pop(&sc.h)
			} else {
				wait = time.Duration(top.hat - now)
			}
		}
		sc.mu.Unlock()
		if due != nil {
			if next := due.fire(now); next > 0 {
				sc.set(due, next)
			}
			continue
		}
		sc.timer.Reset(wait)
		select {
		case <-sc.timer.C:
		case <-sc.wake:
			if !sc.timer.Stop() {
				select {
				case <-sc.timer.C:
				default:
				}
			}
		case <-sc.stop:
			return
		}
	}
}

// schedHeap implements heap.Interface over sessions, keeping each
// session's index so that it can be fixed or removed in O(log n).
type schedHeap []*Session

func (h schedHeap) Len() int           { return len(h) }
func (h schedHeap) Less(i, j int) bool { return h[i].hat < h[j].hat }
func (h schedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *schedHeap) Push(x any) {
	s := x.(*Session)
	s.hidx = len(*h)
	*h = append(*h, s)
}
func (h *schedHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.hidx = -1
	return s
}
