package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// ErrSendQueueFull is returned when a polling session has more unsent
// data than maxQueued: the server or the network is not keeping up, and
// queueing more would only hide that.
var ErrSendQueueFull = errors.New("client: polling send queue full")

const maxQueued = 16 << 20

// pollQueue gathers the outgoing packets of one polling session and sends
// them with at most one POST in flight, as the protocol requires, each
// POST carrying as many whole packets as fit in the server's maxPayload.
// A queue belongs to one session: a flusher still busy with a dead
// session can never carry a newer session's packets.
type pollQueue struct {
	poll *transport.Polling
	eio  engineio.Version
	max  int           // the server's maxPayload; 0 when it did not say
	wait time.Duration // bound of one POST

	mu       sync.Mutex
	out      []byte // encoded payload of the queued packets
	ends     []int  // end offset of each queued packet in out (separator excluded)
	flushing bool   // a goroutine owns the POST slot
	dead     bool   // the session ended or moved to WebSocket
	failed   error  // the first POST that failed, which ended the session
}

func newPollQueue(poll *transport.Polling, eio engineio.Version, hs engineio.Handshake) *pollQueue {
	return &pollQueue{poll: poll, eio: eio, max: hs.MaxPayload,
		wait: hs.PingIntervalDuration() + hs.PingTimeoutDuration() + time.Second}
}

// add queues packets atomically (a Socket.IO packet and its attachments
// are never split by another sender's packets).
func (q *pollQueue) add(pkts ...engineio.Packet) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return ErrNotConnected
	}
	if len(q.out) > maxQueued {
		return ErrSendQueueFull
	}
	for _, p := range pkts {
		if q.eio == engineio.V4 && len(q.out) > 0 {
			q.out = append(q.out, 0x1e)
		}
		one := [1]engineio.Packet{p}
		q.out = engineio.AppendPayload(q.out, q.eio, one[:])
		q.ends = append(q.ends, len(q.out))
	}
	return nil
}

// flush sends what is queued unless another goroutine holds the POST slot;
// that one then sends it too before giving the slot up.
func (q *pollQueue) flush(ctx context.Context) error {
	q.mu.Lock()
	if q.flushing || q.dead {
		q.mu.Unlock()
		return nil
	}
	q.flushing = true
	for len(q.ends) > 0 && !q.dead {
		body, n := q.batch()
		// Appends made while the POST runs land beyond body's end, so the
		// bytes being sent are never touched.
		q.mu.Unlock()
		err := q.poll.Post(ctx, time.Now().Add(q.wait), body, false)
		q.mu.Lock()
		if err != nil {
			// A refused or broken POST ends the session, as in
			// engine.io-client ("xhr post error"): the server may never
			// have read what it carried (a 400 "Session ID unknown" from
			// another node behind a load balancer that is not sticky),
			// and waiting on the GET would hide that until a timeout.
			q.flushing = false
			if q.failed == nil && !q.dead {
				q.failed = err
			}
			q.mu.Unlock()
			q.poll.Abort()
			return err
		}
		if q.dead {
			break // killed during the POST: the queue was emptied
		}
		q.consume(n)
	}
	q.flushing = false
	q.mu.Unlock()
	return nil
}

// failure returns the error of the POST that ended the session, if one did.
func (q *pollQueue) failure() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failed
}

// batch returns the longest run of whole queued packets that fits in
// maxPayload (at least one packet, which the server may then refuse).
func (q *pollQueue) batch() ([]byte, int) {
	n := 1
	for n < len(q.ends) && (q.max <= 0 || q.ends[n] <= q.max) {
		n++
	}
	return q.out[:q.ends[n-1]], n
}

// consume drops the first n packets, which have been sent.
func (q *pollQueue) consume(n int) {
	next := q.ends[n-1]
	if n < len(q.ends) && q.eio == engineio.V4 {
		next++ // the separator before the next packet
	}
	rest := copy(q.out, q.out[next:])
	q.out = q.out[:rest]
	copy(q.ends, q.ends[n:])
	q.ends = q.ends[:len(q.ends)-n]
	for i := range q.ends {
		q.ends[i] -= next
	}
}

// takeOver waits for the POST slot, then hands back everything queued and
// retires the queue: the upgrade sends that on polling one last time
// before switching, so nothing is lost or reordered.
func (q *pollQueue) takeOver(ctx context.Context) ([]byte, error) {
	for {
		q.mu.Lock()
		if !q.flushing {
			q.flushing, q.dead = true, true
			body := append([]byte(nil), q.out...)
			q.out, q.ends = q.out[:0], q.ends[:0]
			q.mu.Unlock()
			return body, nil
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// kill retires the queue when its session ends.
func (q *pollQueue) kill() {
	q.mu.Lock()
	q.dead = true
	q.out, q.ends = nil, nil
	q.mu.Unlock()
}

// drain waits until everything queued has been sent, or d passes.
func (q *pollQueue) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		q.mu.Lock()
		idle := !q.flushing && (len(q.ends) == 0 || q.dead)
		q.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
