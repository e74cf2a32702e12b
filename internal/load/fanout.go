package load

import (
	"slices"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/metrics"
)

// rooms tracks which clients joined which room (through a `join` emit),
// so that a broadcast knows its intended receivers at send time.
type rooms struct {
	mu sync.Mutex
	m  map[string]map[int]struct{}
}

func (r *rooms) join(room string, id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]map[int]struct{}{}
	}
	set := r.m[room]
	if set == nil {
		set = map[int]struct{}{}
		r.m[room] = set
	}
	set[id] = struct{}{}
}

func (r *rooms) leave(room string, id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m[room], id)
}

func (r *rooms) members(room string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m[room])
}

// fanout collects the deliveries of each broadcast (by id) and turns
// them into the fanout_* histograms once the broadcast is old enough
// that no more deliveries are expected, or at the end of the run.
type fanout struct {
	mu  sync.Mutex
	m   map[string]*bcast
	rec *metrics.Shard
}

type bcast struct {
	sent     time.Time
	intended int
	delays   []time.Duration
}

func newFanout(rec *metrics.Shard) *fanout {
	return &fanout{m: map[string]*bcast{}, rec: rec}
}

func (f *fanout) sent(bid string, at time.Time, intended int) {
	f.mu.Lock()
	f.m[bid] = &bcast{sent: at, intended: intended}
	f.mu.Unlock()
}

// received records one delivery; deliveries of unknown ids (another
// run's, or finalized already) are ignored.
func (f *fanout) received(bid string, d time.Duration) {
	f.mu.Lock()
	if b := f.m[bid]; b != nil {
		b.delays = append(b.delays, d)
	}
	f.mu.Unlock()
}

// flush finalizes broadcasts sent before cutoff (all with the zero time).
func (f *fanout) flush(cutoff time.Time) {
	f.mu.Lock()
	var done []*bcast
	for id, b := range f.m {
		if cutoff.IsZero() || b.sent.Before(cutoff) {
			done = append(done, b)
			delete(f.m, id)
		}
	}
	f.mu.Unlock()
	for _, b := range done {
		if n := len(b.delays); n > 0 {
			slices.Sort(b.delays)
			f.rec.Record(metrics.FanoutFirst, b.delays[0])
			f.rec.Record(metrics.FanoutMedian, b.delays[(n-1)/2])
			f.rec.Record(metrics.FanoutLast, b.delays[n-1])
		}
		if b.intended > 0 {
			// Per mille; above 1000 when clients joined after the send.
			f.rec.RecordValue(metrics.FanoutReach, int64(len(b.delays))*1000/int64(b.intended))
		}
	}
}
