package load

// tripWindow is how far back (in sequence numbers) a duplicate is still
// recognised. Older duplicates are not counted: remembering every
// message a client ever received would make a long run's memory grow
// without bound.
const tripWindow = 1024

// tripLog tracks the round-trip messages of one event name for one
// client: which were sent and not yet received (lost, if still so at
// the end), and which arrived more than once. Its memory is bounded by
// the messages in flight plus a fixed bitmap.
type tripLog struct {
	out map[int64]struct{}      // sent, not received yet
	win [tripWindow / 64]uint64 // received bits for seqs in (top-tripWindow, top]
	top int64                   // highest seq sent or received
	dup int64
}

func (l *tripLog) bit(seq int64) (int, uint64) {
	i := uint64(seq) % tripWindow
	return int(i / 64), 1 << (i % 64)
}

// advance moves the window so that seq is inside it.
func (l *tripLog) advance(seq int64) {
	if seq <= l.top {
		return
	}
	if seq-l.top >= tripWindow {
		l.win = [tripWindow / 64]uint64{}
	} else {
		for s := l.top + 1; s <= seq; s++ {
			w, b := l.bit(s)
			l.win[w] &^= b
		}
	}
	l.top = seq
}

func (l *tripLog) inWindow(seq int64) bool { return seq > l.top-tripWindow && seq <= l.top }

func (l *tripLog) seen(seq int64) bool {
	w, b := l.bit(seq)
	return l.win[w]&b != 0
}

func (l *tripLog) mark(seq int64) {
	w, b := l.bit(seq)
	l.win[w] |= b
}

// sent records seq as sent. The reply may already have arrived (the
// reader can be faster than the emitting goroutine's bookkeeping).
func (l *tripLog) sent(seq int64) {
	l.advance(seq)
	if l.seen(seq) {
		return
	}
	if l.out == nil {
		l.out = map[int64]struct{}{}
	}
	l.out[seq] = struct{}{}
}

// received records an arrival of seq.
func (l *tripLog) received(seq int64) {
	if _, ok := l.out[seq]; ok {
		delete(l.out, seq)
		l.advance(seq)
		l.mark(seq)
		return
	}
	l.advance(seq)
	if !l.inWindow(seq) {
		return // too old to tell
	}
	if l.seen(seq) {
		l.dup++
		return
	}
	l.mark(seq) // arrived before its send was recorded
}

// lost is the number of messages sent and never received.
func (l *tripLog) lost() int64 { return int64(len(l.out)) }
