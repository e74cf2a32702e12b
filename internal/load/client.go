package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/scenarios"
)

// maxInbox bounds the received-but-not-yet-waited-for events a client
// keeps for its wait steps; the oldest go first.
const maxInbox = 128

// vclient is one virtual client: a connection, its flow and its share of
// the metrics.
type vclient struct {
	// The fields of an emit and its ack come first and together: a client
	// waits most of its life, so each round trip finds its vclient out of
	// the cache, and every further 64-byte line was one more miss.
	r     *run
	shard *metrics.Shard
	conn  *client.Conn
	// socks are the sockets of r.nsps, in that order: Conn.Socket takes
	// the connection's lock and a map lookup, once per emit otherwise.
	// sock1 holds them for the usual one namespace: no array of its own
	// to miss on.
	socks []*client.Socket
	sock1 [1]*client.Socket
	// timer is the flow's one timer (loop pacing, think, waits), made on
	// first use: a timer per sleep was an allocation per iteration.
	timer *time.Timer
	aw    *ackWait
	vars  scenarios.Vars
	buf   []byte
	// lateness shifts measurements in a paced loop: how late the current
	// iteration started compared with its intended time.
	lateness time.Duration
	// nextDue, set by a paced loop for the emit_ack that ends its body,
	// is when the next iteration is due (see ackWait.due); bodyEnd is
	// then when that emit_ack's ack came.
	nextDue, bodyEnd time.Time
	// prewait is set while the flow sleeps toward nextDue on the timer
	// its ack callback armed: close cuts that sleep short.
	prewait atomic.Bool
	closing atomic.Bool // our own disconnects are not errors
	// sendFailed is set from an emit or emit_ack that could not be sent
	// until the next one sent or the next loop iteration: a wait then
	// still waits (the flow keeps its pace) but counts nothing, as its
	// reply never had a message to answer and the fault was counted once,
	// as emit_error.
	sendFailed bool

	id     int
	err    error // from client.New
	opened bool
	// held: the flow ended and the client stays connected until the
	// load ends (see run); holdEnded: endHold ran.
	held, holdEnded atomic.Bool
	up              atomic.Bool // counted in clients_connected
	// expectDrop marks the next session end as deliberate (a fault or a
	// reconnect step): counted as a disconnect, not as an error.
	expectDrop atomic.Bool
	// away is set while a session lost by surprise or by a fault has not
	// been reconnected: still set at the end, it counts as a failed
	// reconnect.
	away atomic.Bool
	// reconnects counts KindReconnect, for the reconnect step.
	reconnects atomic.Int64
	// node is the server node of the current session, when the server names it (an event
	// "node" with the name: the cluster peer); nil until then.
	node atomic.Pointer[string]

	mu     sync.Mutex
	inbox  []inboxEvent
	waiter *waiter
	rooms  []string            // rooms joined on "/" (server side)
	trips  map[string]*tripLog // round-trip messages by event, for lost/duplicated
}

// trip returns the log of one event's round trips; c.mu must be held.
func (c *vclient) trip(event string) *tripLog {
	l := c.trips[event]
	if l == nil {
		if c.trips == nil {
			c.trips = map[string]*tripLog{}
		}
		l = &tripLog{}
		c.trips[event] = l
	}
	return l
}

type inboxEvent struct {
	name  string
	first json.RawMessage // the first argument, owned
}

type waiter struct {
	name  string
	match map[string]any
	ch    chan struct{}
}

var errAbort = errors.New("load: client flow aborted")

func newClient(r *run, id int) *vclient {
	c := &vclient{r: r, id: id, shard: r.rec.Shard(id)}
	c.vars.Client = id
	s := r.s
	opts := &client.Options{Path: s.Path, EIO: engineio.Version(s.EIO), Hook: c, Reconnect: r.opts.Reconnect}
	opts.TLSConfig = r.tls // one config per run: the transport pools clients per config
	opts.HandshakeTimeout, opts.UpgradeTimeout, opts.ConnectTimeout = s.Timeouts.Handshake, s.Timeouts.Upgrade, s.Timeouts.Connect
	opts.MaxMessageSize = s.MaxMessageSize
	switch s.Transport {
	case scenarios.TransportPolling:
		opts.Mode = client.PollingOnly
	case scenarios.TransportWebSocket:
		opts.Mode = client.WebSocketOnly
	default:
		opts.Mode = client.PollingThenUpgrade
	}
	if len(s.Query) > 0 {
		opts.Query = url.Values{}
		for k, v := range s.Query {
			opts.Query.Set(k, c.render(v))
		}
	}
	if len(s.Headers) > 0 {
		opts.Header = http.Header{}
		for k, v := range s.Headers {
			opts.Header.Set(k, c.render(v))
		}
	}
	if n := len(s.SourceAddrs); n > 0 {
		opts.LocalAddr = &net.TCPAddr{IP: net.ParseIP(s.SourceAddrs[id%n])}
	}
	if r.proxy != nil {
		// The drop proxy tells clients apart by source address.
		opts.LocalAddr = &net.TCPAddr{IP: clientAddr(id).AsSlice()}
	}
	u := r.target
	if n := len(r.targets); n > 0 {
		u = r.targets[id%n]
	}
	c.conn, c.err = client.New(u, opts)
	if c.err == nil {
		c.socks = c.sock1[:0]
		c.socks = append(c.socks, make([]*client.Socket, len(r.nsps))...)
		for i, ns := range r.nsps {
			c.socks[i] = c.conn.Socket(ns)
			c.socks[i].OnAny(c.onEvent)
		}
	}
	return c
}

// render renders a query or header template; they were checked by the
// parser, so an error here only yields the raw text.
func (c *vclient) render(src string) string {
	t, err := scenarios.CompileText(src)
	if err != nil {
		return src
	}
	out, err := t.Render(&c.vars)
	if err != nil {
		return src
	}
	return out
}

// sock returns the socket of namespace ns ("" is "/").
func (c *vclient) sock(ns string) *client.Socket {
	ns = nsOf(ns)
	for i, n := range c.r.nsps {
		if n == ns {
			return c.socks[i]
		}
	}
	return c.conn.Socket(ns)
}

// ensureTimer makes the client's timer, stopped, if it has none.
func (c *vclient) ensureTimer() {
	if c.timer == nil {
		c.timer = time.NewTimer(time.Hour)
		c.timer.Stop()
	}
}

// sleepUntil waits until t or ctx's end on the client's timer; it
// reports whether t came.
func (c *vclient) sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	c.ensureTimer()
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
		return true
	case <-ctx.Done():
		c.timer.Stop()
		return false
	}
}

// run runs the client's flow. A closed-model client whose flow ended
// still connected is held: it stays connected until the load ends with
// no goroutine of its own (run returns true, and endHold releases it),
// which is most of an idle client's memory otherwise (the flow's stack,
// grown by the connect, parked in a select).
func (c *vclient) run(hold bool) (held bool) {
	if c.err != nil {
		c.shard.ErrorCause(metrics.ErrHandshake, c.err)
		c.close()
		return false
	}
	if err := c.steps(c.r.s.Flow); err != nil || !hold || c.closing.Load() {
		c.close()
		return false
	}
	// Held first, then the checks: the end of the load (run.closeHeld)
	// and the end of the connection (KindDone) look at held after they
	// happened, so one side or the other sees the other's.
	c.held.Store(true)
	if c.r.loadCtx.Err() != nil || isClosed(c.conn.Done()) {
		c.endHold()
	}
	return true
}

// endHold closes a held client and releases it, once: at the end of the
// load or when its connection is finished for good.
func (c *vclient) endHold() {
	if !c.held.Load() || !c.holdEnded.CompareAndSwap(false, true) {
		return
	}
	c.close()
	c.r.release(c)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (c *vclient) close() {
	if c.conn == nil {
		return
	}
	if c.prewait.Load() && c.r.graceCtx.Err() != nil {
		// A run cancelled (or past its grace) while the flow sleeps
		// toward its next iteration: wake it, to stop at once. Only then:
		// the flow stops at its next step, so the early fire cannot reach
		// a later use of the timer.
		c.timer.Reset(0)
	}
	first := !c.closing.Swap(true)
	c.conn.Close()
	if c.up.Swap(false) {
		c.r.rec.Connected(-1)
	}
	if !first {
		return
	}
	if c.away.Load() {
		c.shard.Add(metrics.ReconnectFailed, 1)
	}
	c.mu.Lock()
	var lost, dup int64
	for _, l := range c.trips {
		lost += l.lost()
		dup += l.dup
	}
	c.trips = nil
	rooms := c.rooms
	c.mu.Unlock()
	for _, room := range rooms {
		c.r.rooms.leave(room, c.id)
	}
	if lost > 0 {
		c.shard.Add(metrics.Lost, lost)
	}
	if dup > 0 {
		c.shard.Add(metrics.Duplicated, dup)
	}
}

func (c *vclient) steps(steps []scenarios.Step) error {
	for i := range steps {
		// A loop stops at its next iteration when the load ends (see
		// loop), but an iteration already started completes within the
		// grace: stopping between an emit and the wait for its reply
		// would close the client while the reply is on its way, and the
		// server would have sent a message nobody counted.
		if c.r.graceCtx.Err() != nil {
			return errAbort
		}
		if err := c.step(&steps[i]); err != nil {
			return err
		}
	}
	return nil
}

// step runs one step. It returns an error only when the flow cannot go
// on; a failed operation is counted and the flow continues.
func (c *vclient) step(st *scenarios.Step) error {
	switch st.Kind {
	case scenarios.StepConnect:
		return c.connect(st)
	case scenarios.StepEmit:
		c.emit(st)
	case scenarios.StepEmitAck:
		return c.emitAck(st)
	case scenarios.StepWait:
		return c.wait(st)
	case scenarios.StepThink:
		d := st.Think
		if st.ThinkMax > st.Think {
			d += rand.N(st.ThinkMax - st.Think + 1)
		}
		if !c.sleepUntil(c.r.loadCtx, time.Now().Add(d)) {
			return errAbort
		}
	case scenarios.StepLoop:
		return c.loop(st)
	case scenarios.StepBroadcast:
		return c.broadcast(st)
	case scenarios.StepReconnect:
		return c.reconnect(st)
	case scenarios.StepDisconnect:
		if st.Namespace != "" {
			c.sock(st.Namespace).Disconnect()
			return nil
		}
		c.closing.Store(true)
		c.conn.Close()
		return errAbort
	}
	return nil
}

func (c *vclient) connect(st *scenarios.Step) error {
	c.shard.Add(metrics.Operations, 1)
	ctx := c.r.loadCtx
	if !c.opened {
		if err := c.conn.Open(ctx); err != nil {
			if !ended(ctx) {
				c.shard.ErrorCause(metrics.ErrHandshake, err)
				c.r.reach.lost(true, err)
			}
			return errAbort
		}
		c.opened = true
	}
	var auth any
	at := st.AuthT
	if at == nil {
		at = c.r.s.AuthT
	}
	if at != nil {
		a, err := at.Eval(&c.vars)
		if err != nil {
			c.shard.ErrorCause(metrics.ErrConnect, fmt.Errorf("auth: %w", err))
			return errAbort
		}
		auth = a
	}
	if err := c.sock(st.Namespace).Connect(ctx, auth); err != nil {
		var ce *client.ConnectError
		var de *client.DisconnectError
		// A refusal was counted by the hook (KindConnectError), a session
		// lost while connecting too (KindDisconnect).
		if !errors.As(err, &ce) && !errors.As(err, &de) && !ended(ctx) {
			c.shard.ErrorCause(metrics.ErrConnect, err)
		}
		return errAbort
	}
	return nil
}

// sendTime is the intended send time of an emit starting now.
func (c *vclient) sendTime() time.Time { return time.Now().Add(-c.lateness) }

// args renders a step's arguments into the client's scratch buffer.
func (c *vclient) args(st *scenarios.Step) ([]byte, [][]byte, error) {
	if st.ArgsT == nil {
		return nil, nil, nil
	}
	b, bufs, err := st.ArgsT.AppendJSON(c.buf[:0], &c.vars)
	c.buf = b
	return b, bufs, err
}

func (c *vclient) emit(st *scenarios.Step) {
	c.shard.Add(metrics.Operations, 1)
	c.vars.Seq++
	c.vars.SendTime = c.sendTime().UnixMicro()
	args, bufs, err := c.args(st)
	if err == nil {
		err = c.sock(st.Namespace).Send(client.Outgoing{Event: st.Event, Args: args, Buffers: bufs})
	}
	c.sendFailed = err != nil
	if err != nil {
		c.shard.ErrorCause(metrics.ErrEmit, err)
		return
	}
	c.sentOK(st, args)
	if st.Event == "join" || st.Event == "leave" {
		c.membership(st, args)
	}
}

// sentOK notes a round-trip message as sent.
func (c *vclient) sentOK(st *scenarios.Step, args []byte) {
	if !c.r.echoed[st.Event] {
		return
	}
	h, ok := firstHead(args)
	if !ok || h.Seq == "" {
		return
	}
	seq, err := h.Seq.Int64()
	if err != nil {
		return
	}
	c.mu.Lock()
	c.trip(st.Event).sent(seq)
	c.mu.Unlock()
}

// membership follows the contract's join/leave events on "/" so that
// broadcasts know their intended receivers.
func (c *vclient) membership(st *scenarios.Step, args []byte) {
	if nsOf(st.Namespace) != "/" {
		return
	}
	var raw []json.RawMessage
	if json.Unmarshal(args, &raw) != nil || len(raw) == 0 {
		return
	}
	room := rawString(raw[0])
	c.mu.Lock()
	if st.Event == "join" {
		if !slices.Contains(c.rooms, room) {
			c.rooms = append(c.rooms, room)
		}
	} else {
		c.rooms = slices.DeleteFunc(c.rooms, func(r string) bool { return r == room })
	}
	c.mu.Unlock()
	if st.Event == "join" {
		c.r.rooms.join(room, c.id)
	} else {
		c.r.rooms.leave(room, c.id)
	}
}

// rawString is a JSON value as the contract's String(room) sees it.
func rawString(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// firstHead decodes the fields the runner reads from the first argument
// of a JSON array of arguments.
func firstHead(args []byte) (eventHead, bool) {
	var raw []json.RawMessage
	var h eventHead
	if json.Unmarshal(args, &raw) != nil || len(raw) == 0 || len(raw[0]) == 0 || raw[0][0] != '{' {
		return h, false
	}
	return h, json.Unmarshal(raw[0], &h) == nil
}

func timeoutOf(st *scenarios.Step) time.Duration {
	if st.Timeout > 0 {
		return st.Timeout
	}
	return scenarios.DefaultTimeout
}

// ackWait is the emit_ack a client's flow waits for. The flow waits for
// each ack before it goes on, so one ackWait and its callback serve emit
// after emit, with no allocation; a new one is made only when the last
// one's callback may still run (its wait was abandoned).
type ackWait struct {
	c      *vclient
	st     *scenarios.Step
	sent   time.Time
	args   []byte // join/leave: the arguments, for the room registry
	member bool
	// due, when set, is when the next iteration of the loop whose body
	// this emit_ack ends is due: an ack that comes earlier arms the
	// client's timer for then, so that the flow wakes once per
	// iteration (at the due time) rather than at the ack and again at
	// the due time.
	due    time.Time
	ackAt  time.Time     // when the callback ran
	acked  atomic.Bool   // the callback ran
	ch     chan struct{} // the callback's wake-up, unless it armed the timer
	fn     client.AckFunc
	reused bool // the flow saw the callback's signal: free for the next emit
}

// done is the ack callback. It runs on the connection's reader (or, for
// a timeout, on the ack table's timer): record, then wake the flow or
// arm its timer.
func (a *ackWait) done(_ *client.Message, err error) {
	now := time.Now()
	c := a.c
	switch {
	case err == nil:
		c.shard.Acked(now.Sub(a.sent))
		if a.member {
			c.membership(a.st, a.args)
		}
	case errors.Is(err, client.ErrAckTimeout):
		c.shard.Add(metrics.AckTimeouts, 1)
		c.shard.ErrorCause(metrics.ErrAckTimeout, fmt.Errorf("emit_ack %q: no ack within %s", a.st.Event, timeoutOf(a.st)))
	default:
		// The session ended first; the disconnect is counted by the
		// hook, unless it was ours.
	}
	a.ackAt = now
	due, ch := a.due, a.ch
	// Nothing of a is touched after acked is set: the flow, once it sees
	// it, may reuse a at once.
	a.acked.Store(true)
	// Only toward a time before the load's end: the flow must see that
	// end when it comes. (Cancelling the run ends the grace too, which
	// the flow waits on.)
	if !due.IsZero() && due.Before(c.r.loadEnd) && c.r.loadCtx.Err() == nil {
		if d := due.Sub(now); d > 0 {
			c.prewait.Store(true)
			c.timer.Reset(d)
			return
		}
	}
	ch <- struct{}{}
}

// ackWaitFor returns the client's ackWait, ready for a new emit.
func (c *vclient) ackWaitFor(st *scenarios.Step, sent time.Time) *ackWait {
	a := c.aw
	if a == nil || !a.reused {
		a = &ackWait{c: c, ch: make(chan struct{}, 1)}
		a.fn = a.done
		c.aw = a
	}
	a.reused = false
	a.acked.Store(false)
	a.st, a.sent, a.member, a.args = st, sent, false, nil
	a.due, a.ackAt = time.Time{}, time.Time{}
	return a
}

func (c *vclient) emitAck(st *scenarios.Step) error {
	due := c.nextDue
	c.nextDue = time.Time{}
	c.shard.Add(metrics.Operations, 1)
	c.vars.Seq++
	sent := c.sendTime()
	c.vars.SendTime = sent.UnixMicro()
	args, bufs, err := c.args(st)
	if err != nil {
		c.sendFailed = true
		c.shard.ErrorCause(metrics.ErrEmit, err)
		return nil
	}
	a := c.ackWaitFor(st, sent)
	if st.Event == "join" || st.Event == "leave" {
		// args is the client's scratch buffer; the ack comes later.
		a.member = true
		args = append([]byte(nil), args...)
		a.args = args
	}
	var timer <-chan time.Time
	if !due.IsZero() {
		c.ensureTimer()
		a.due, timer = due, c.timer.C
	}
	err = c.sock(st.Namespace).Send(client.Outgoing{Event: st.Event, Args: args, Buffers: bufs, Timeout: timeoutOf(st), Ack: a.fn})
	c.sendFailed = err != nil
	if err != nil {
		c.shard.ErrorCause(metrics.ErrEmit, err)
		return nil
	}
	c.sentOK(st, args)
	// The end of the grace needs no case of its own (a channel shared by
	// every client, whose lock was most of this wait's cost): the run
	// closes every client then, which fails the pending ack, and the
	// flow, woken by the callback, stops at its next step. The ack's
	// timeout bounds the wait in any case.
	select {
	case <-a.ch:
		a.reused = true
	case <-timer:
		// The ack came before the next iteration was due, and that time
		// has come (or close cut the sleep short).
		c.prewait.Store(false)
		if a.acked.Load() { // always: only the callback and close arm the timer here
			a.reused = true
			c.bodyEnd = a.ackAt
		}
	}
	if c.r.graceCtx.Err() != nil {
		return errAbort
	}
	return nil
}

func (c *vclient) wait(st *scenarios.Step) error {
	void := c.sendFailed
	if !void {
		c.shard.Add(metrics.Operations, 1)
	}
	w := &waiter{name: st.Event, ch: make(chan struct{})}
	if st.MatchT != nil {
		m, err := st.MatchT.Eval(&c.vars)
		if err != nil {
			c.shard.ErrorCause(metrics.ErrWaitTimeout, fmt.Errorf("wait %q: match: %w", st.Event, err))
			return nil
		}
		w.match, _ = m.(map[string]any)
	}
	c.mu.Lock()
	for i, e := range c.inbox {
		if e.name == w.name && matches(e.first, w.match) {
			c.inbox = append(c.inbox[:i], c.inbox[i+1:]...)
			c.mu.Unlock()
			return nil
		}
	}
	c.waiter = w
	c.mu.Unlock()
	c.ensureTimer()
	c.timer.Reset(timeoutOf(st))
	defer c.timer.Stop()
	select {
	case <-w.ch:
		return nil
	case <-c.timer.C:
		if !void {
			c.shard.ErrorCause(metrics.ErrWaitTimeout, fmt.Errorf("wait %q: no matching event within %s", st.Event, timeoutOf(st)))
		}
	case <-c.r.graceCtx.Done():
	}
	c.mu.Lock()
	if c.waiter == w {
		c.waiter = nil
	}
	c.mu.Unlock()
	if c.r.graceCtx.Err() != nil {
		return errAbort
	}
	return nil
}

// matches reports whether the first argument has every field of match.
func matches(first json.RawMessage, match map[string]any) bool {
	if len(match) == 0 {
		return true
	}
	var got map[string]any
	if json.Unmarshal(first, &got) != nil {
		return false
	}
	for k, want := range match {
		if !reflect.DeepEqual(got[k], want) {
			return false
		}
	}
	return true
}

func (c *vclient) loop(st *scenarios.Step) error {
	start := time.Now()
	var interval time.Duration
	if st.Rate > 0 {
		interval = time.Duration(float64(time.Second) / st.Rate)
	}
	defer func() { c.lateness, c.nextDue, c.bodyEnd = 0, time.Time{}, time.Time{} }()
	body := st.Steps
	// A paced body that ends with an emit_ack sleeps toward the next
	// iteration from the ack (see ackWait.due).
	ackLast := interval > 0 && len(body) > 0 && body[len(body)-1].Kind == scenarios.StepEmitAck
	for k := 0; ; k++ {
		// The iteration's end: when the ack of a body that slept toward
		// this iteration came, which is when the loop would have looked.
		end := time.Now()
		if !c.bodyEnd.IsZero() {
			end, c.bodyEnd = c.bodyEnd, time.Time{}
		}
		if st.Count > 0 && k >= st.Count || st.For > 0 && end.Sub(start) >= st.For {
			return nil
		}
		if interval > 0 {
			// Iteration k is due at start + k×interval, however late the
			// previous ones were; a late start is carried into the
			// measurements through lateness.
			due := start.Add(time.Duration(k) * interval)
			if !c.sleepUntil(c.r.loadCtx, due) {
				return errAbort
			}
			c.lateness = max(0, time.Since(due))
		}
		if c.r.loadCtx.Err() != nil {
			return errAbort
		}
		c.sendFailed = false
		if !ackLast {
			if err := c.steps(body); err != nil {
				return err
			}
		} else {
			if err := c.steps(body[:len(body)-1]); err != nil {
				return err
			}
			// Only toward an iteration that will run: the loop would
			// end before a later one.
			if next := start.Add(time.Duration(k+1) * interval); (st.Count == 0 || k+1 < st.Count) && (st.For == 0 || next.Sub(start) < st.For) {
				c.nextDue = next
			}
			err := c.steps(body[len(body)-1:])
			c.nextDue = time.Time{}
			if err != nil {
				return err
			}
		}
		c.shard.Add(metrics.Iterations, 1)
	}
}

// eventHead is the part of an event's first argument the runner reads.
type eventHead struct {
	T   json.Number `json:"t"`
	Seq json.Number `json:"seq"`
	Bid string      `json:"bid"`
	// Node is the broadcast sender's node, when known (see vclient.node).
	Node string `json:"node"`
}

// pushEpochMs: a second argument above this (Unix ms of 2001) is a send
// time in milliseconds, as the built-in target's push sends it.
const pushEpochMs = 1e12

// onEvent handles every incoming event, on the connection's reader
// goroutine.
func (c *vclient) onEvent(m *client.Message) {
	now := time.Now()
	c.shard.Received(m.Event)
	waited := c.r.waited[m.Event]
	var raw []json.RawMessage
	if json.Unmarshal(m.Args, &raw) != nil || len(raw) == 0 {
		if waited {
			c.deliver(m.Event, nil)
		}
		return
	}
	first := raw[0]
	switch {
	case m.Event == "node" && len(raw) == 1 && len(first) > 0 && first[0] == '"':
		// A node naming itself: sessions per node, and same/cross-node fan-out.
		var name string
		if json.Unmarshal(first, &name) == nil && name != "" {
			c.node.Store(&name)
			c.shard.Node(name)
		}
	case len(first) > 0 && first[0] == '{':
		var h eventHead
		if json.Unmarshal(first, &h) != nil {
			break
		}
		if h.T != "" {
			if t, err := h.T.Int64(); err == nil {
				d := now.Sub(time.UnixMicro(t))
				c.shard.Record(metrics.Event, d)
				if h.Bid != "" {
					c.shard.Add(metrics.FanoutReceived, 1)
					c.r.fan.received(h.Bid, d)
					if mine := c.node.Load(); mine != nil && h.Node != "" {
						if *mine == h.Node {
							c.shard.Record(metrics.FanoutSameNode, d)
						} else {
							c.shard.Record(metrics.FanoutCrossNode, d)
						}
					}
				}
			}
		}
		if h.Seq != "" && c.r.echoed[m.Event] {
			if seq, err := h.Seq.Int64(); err == nil {
				c.mu.Lock()
				c.trip(m.Event).received(seq)
				c.mu.Unlock()
			}
		}
	case len(raw) >= 2:
		// Server push ([seq, sentAtUnixMs]): latency at millisecond
		// resolution.
		var ms float64
		if json.Unmarshal(raw[1], &ms) == nil && ms > pushEpochMs {
			c.shard.Record(metrics.Event, now.Sub(time.UnixMilli(int64(ms))))
		}
	}
	if waited {
		// raw aliases the connection's buffer; keep a copy.
		c.deliver(m.Event, append(json.RawMessage(nil), first...))
	}
}

// deliver hands an event to the pending wait, or keeps it for a later one.
func (c *vclient) deliver(name string, first json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.waiter; w != nil && w.name == name && matches(first, w.match) {
		c.waiter = nil
		close(w.ch)
		return
	}
	if len(c.inbox) >= maxInbox {
		c.inbox = c.inbox[1:]
	}
	c.inbox = append(c.inbox, inboxEvent{name: name, first: first})
}

// Observe turns the client's hook events into metrics. It runs on the
// connection's goroutines and must stay fast.
func (c *vclient) Observe(e client.Event) {
	s := c.shard
	switch e.Kind {
	case client.KindHandshake:
		s.Record(metrics.Handshake, e.Duration)
		c.r.reach.handshake()
		if !c.up.Swap(true) {
			c.r.rec.Connected(1)
		}
	case client.KindUpgrade:
		if e.Err != nil {
			s.ErrorCause(metrics.ErrUpgrade, e.Err)
		} else {
			s.Record(metrics.Upgrade, e.Duration)
		}
	case client.KindConnect:
		s.Record(metrics.Connect, e.Duration)
		if e.Recovered {
			s.Add(metrics.Recovered, 1)
		}
		if e.Namespace == "/" {
			c.rejoin(e.Recovered)
		}
	case client.KindConnectError:
		s.ErrorCause(metrics.ErrConnect, e.Err)
	case client.KindEmit:
		s.AddPair(metrics.MessagesSent, 1, metrics.BytesSent, int64(e.Bytes))
	case client.KindPacket:
		s.AddPair(metrics.BytesReceived, int64(e.Bytes), metrics.PacketsReceived, 1)
	case client.KindDisconnect:
		s.Disconnect(e.Reason)
		c.node.Store(nil) // the next session may land on another node
		deliberate := c.expectDrop.Swap(false)
		if !c.closing.Load() {
			if !deliberate {
				s.ErrorCause(metrics.ErrDisconnect, disconnectCause(e))
			}
			c.away.Store(true)
			c.r.reach.lost(false, nil)
		}
		c.mu.Lock()
		rooms := c.rooms
		c.mu.Unlock()
		for _, room := range rooms {
			c.r.rooms.leave(room, c.id)
		}
		if c.up.Swap(false) {
			c.r.rec.Connected(-1)
		}
	case client.KindReconnectAttempt:
		s.Add(metrics.ReconnectAttempts, 1)
		if e.Err != nil { // the previous attempt failed
			c.r.reach.lost(true, e.Err)
		}
	case client.KindReconnectFailed:
		c.r.reach.lost(true, e.Err)
	case client.KindDone:
		if c.held.Load() {
			go c.endHold() // not on the connection's goroutine: close waits for it
		}
	case client.KindReconnect:
		s.Add(metrics.Reconnects, 1)
		s.Record(metrics.Reconnect, e.Duration)
		c.away.Store(false)
		c.reconnects.Add(1)
	}
}

var _ client.Hook = (*vclient)(nil)

// disconnectCause is the message of an unexpected session end: the
// reference client's reason and the transport's error.
func disconnectCause(e client.Event) error {
	if e.Err == nil {
		return errors.New(e.Reason)
	}
	return fmt.Errorf("%s: %w", e.Reason, e.Err)
}

// rejoin restores the room registry after a CONNECT on "/": a recovered
// session (connection state recovery) is still in its rooms on the
// server, a new one is in none.
func (c *vclient) rejoin(recovered bool) {
	c.mu.Lock()
	rooms := c.rooms
	if !recovered {
		c.rooms = nil
	}
	c.mu.Unlock()
	if recovered {
		for _, room := range rooms {
			c.r.rooms.join(room, c.id)
		}
	}
}
