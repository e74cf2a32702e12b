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
// per ack.
type ackTable struct {
	mu    sync.Mutex
	m     map[ackKey]pendingAck
	timer *time.Timer
	next  time.Time
	c     *Conn
}

func (t *ackTable) add(s *Socket, id int64, sent time.Time, timeout time.Duration, fn AckFunc, ch chan ackResult) {
	p := pendingAck{sent: sent, fn: fn, ch: ch}
	if timeout > 0 {
		p.deadline = sent.Add(timeout)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[ackKey]pendingAck{}
		t.c = s.c
	}
	t.m[ackKey{s, id}] = p
	if !p.deadline.IsZero() && (t.next.IsZero() || p.deadline.Before(t.next)) {
		t.armLocked(p.deadline)
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
	delete(t.m, ackKey{s, id})
	t.mu.Unlock()
}

// deliver completes an ack with the packet the server sent.
func (t *ackTable) deliver(c *Conn, s *Socket, p *socketio.Packet) {
	k := ackKey{s, p.ID}
	t.mu.Lock()
	pa, ok := t.m[k]
	if ok {
		delete(t.m, k)
	}
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
	for k, p := range t.m {
		if p.deadline.IsZero() {
			continue
		}
		if !p.deadline.After(now) {
			due = append(due, p)
			dueKeys = append(dueKeys, k)
			delete(t.m, k)
		} else if t.next.IsZero() || p.deadline.Before(t.next) {
			t.next = p.deadline
		}
	}
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
	for k, p := range t.m {
		if s == nil || k.s == s {
			due = append(due, p)
			delete(t.m, k)
		}
	}
	t.mu.Unlock()
	for _, p := range due {
		finish(p, err)
	}
}
