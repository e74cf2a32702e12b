package client

import (
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/socketio"
)

type ackKey struct {
	s  *Socket
	id int64
}

type pendingAck struct {
	sent     time.Time
	deadline time.Time // zero: none
	fn       AckFunc
	ch       chan ackResult
}

type ackResult struct {
	m   *Message
	err error
}

// ackTable holds the acks a connection waits for. One lazily created
// timer per connection, armed for the earliest deadline, replaces a timer
// per ack. The first pending ack is kept inline (one): a flow that waits
// for each ack before the next emit, the load generator's, never touches
// the map, whose hashing and cold slots cost about what parsing the ack
// does.
type ackTable struct {
	mu     sync.Mutex
	hasOne bool
	oneKey ackKey
	one    pendingAck
	m      map[ackKey]pendingAck
	timer  *time.Timer
	next   time.Time
	c      *Conn
}

func (t *ackTable) add(s *Socket, id int64, sent time.Time, timeout time.Duration, fn AckFunc, ch chan ackResult) {
	p := pendingAck{sent: sent, fn: fn, ch: ch}
	if timeout > 0 {
		p.deadline = sent.Add(timeout)
	}
	k := ackKey{s, id}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c = s.c
	if !t.hasOne {
		t.hasOne, t.oneKey, t.one = true, k, p
	} else {
		if t.m == nil {
			t.m = map[ackKey]pendingAck{}
		}
		t.m[k] = p
	}
	if !p.deadline.IsZero() && (t.next.IsZero() || p.deadline.Before(t.next)) {
		t.armLocked(p.deadline)
	}
}

// takeLocked removes the pending ack k and returns it; t.mu must be held.
func (t *ackTable) takeLocked(k ackKey) (pendingAck, bool) {
	if t.hasOne && t.oneKey == k {
		p := t.one
		t.hasOne, t.oneKey, t.one = false, ackKey{}, pendingAck{}
		return p, true
	}
	p, ok := t.m[k]
	if ok {
		delete(t.m, k)
	}
	return p, ok
}

// eachLocked calls f on every pending ack and removes those it says to;
// t.mu must be held.
func (t *ackTable) eachLocked(f func(ackKey, pendingAck) (remove bool)) {
	if t.hasOne && f(t.oneKey, t.one) {
		t.hasOne, t.oneKey, t.one = false, ackKey{}, pendingAck{}
	}
	for k, p := range t.m {
		if f(k, p) {
			delete(t.m, k)
		}
	}
}

func (t *ackTable) armLocked(at time.Time) {
	t.next = at
	d := time.Until(at)
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.expire)
		return
	}
	t.timer.Reset(d)
}

func (t *ackTable) remove(s *Socket, id int64) {
	t.mu.Lock()
	t.takeLocked(ackKey{s, id})
	t.mu.Unlock()
}

// deliver completes an ack with the packet the server sent.
func (t *ackTable) deliver(c *Conn, s *Socket, p *socketio.Packet) {
	t.mu.Lock()
	pa, ok := t.takeLocked(ackKey{s, p.ID})
	t.mu.Unlock()
	if !ok {
		return // unknown, late or duplicate: ignored, as the reference client does
	}
	// Observers hear of the ack before the waiter wakes, so a test or a
	// runner reading both never sees them out of order. The ack came when
	// its packet did (handlePacket read the clock for the hook then).
	if c.hook != nil {
		now := c.rxAt
		c.emit(Event{Kind: KindAck, Time: now, Duration: now.Sub(pa.sent), Namespace: s.nsp, ID: p.ID})
	}
	m := &c.msg
	*m = Message{Namespace: s.nsp, Args: p.Data, Buffers: p.Buffers, ID: socketio.NoID, sock: s}
	if pa.fn != nil {
		c.inHandler.Add(1)
		pa.fn(m, nil)
		c.inHandler.Add(-1)
	} else {
		pa.ch <- ackResult{m: m.Clone()}
	}
	*m = Message{}
}

func (t *ackTable) expire() {
	now := time.Now()
	var due []pendingAck
	var dueKeys []ackKey
	t.mu.Lock()
	t.next = time.Time{}
	t.eachLocked(func(k ackKey, p pendingAck) bool {
		if p.deadline.IsZero() {
			return false
		}
		if !p.deadline.After(now) {
			due = append(due, p)
			dueKeys = append(dueKeys, k)
			return true
		}
		if t.next.IsZero() || p.deadline.Before(t.next) {
			t.next = p.deadline
		}
		return false
	})
	if !t.next.IsZero() {
		t.timer.Reset(time.Until(t.next))
	}
	c := t.c
	t.mu.Unlock()
	for i, p := range due {
		finish(p, ErrAckTimeout)
		c.emit(Event{Kind: KindAckTimeout, Namespace: dueKeys[i].s.nsp, ID: dueKeys[i].id, Duration: now.Sub(p.sent), Err: ErrAckTimeout})
	}
}

func finish(p pendingAck, err error) {
	if p.fn != nil {
		p.fn(nil, err)
	} else {
		p.ch <- ackResult{err: err}
	}
}

// failAll ends every pending ack with err (the session ended).
func (t *ackTable) failAll(err error) { t.fail(nil, err) }

// failSocket ends the pending acks of one namespace.
func (t *ackTable) failSocket(s *Socket, err error) { t.fail(s, err) }

func (t *ackTable) fail(s *Socket, err error) {
	var due []pendingAck
	t.mu.Lock()
	t.eachLocked(func(k ackKey, p pendingAck) bool {
		if s == nil || k.s == s {
			due = append(due, p)
			return true
		}
		return false
	})
	t.mu.Unlock()
	for _, p := range due {
		finish(p, err)
	}
}
