package load

import (
	"fmt"
	"strconv"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// broadcast runs a broadcast step: once, or with every set on a fixed
// schedule (start + k×every) until the load ends; a late send carries
// its lateness into the fan-out delays, as paced loops do.
func (c *vclient) broadcast(st *scenarios.Step) error {
	if st.Every <= 0 {
		c.broadcastOnce(st)
		return nil
	}
	start := time.Now()
	saved := c.lateness
	defer func() { c.lateness = saved }()
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * st.Every)
		if !c.sleepUntil(c.r.loadCtx, due) {
			return nil // the load ended: the step is over, not failed
		}
		c.lateness = max(0, time.Since(due))
		c.broadcastOnce(st)
	}
}

// broadcastOnce emits the contract's broadcast (room, event, {t, bid},
// ...args): the server sends event to every member of room. The intended
// receivers are the room's members at the intended send time.
func (c *vclient) broadcastOnce(st *scenarios.Step) {
	c.shard.Add(metrics.Operations, 1)
	c.vars.Seq++
	sent := c.sendTime()
	c.vars.SendTime = sent.UnixMicro()
	extra, bufs, err := c.args(st)
	if err != nil {
		c.shard.ErrorCause(metrics.ErrEmit, err)
		return
	}
	bid := strconv.Itoa(c.id) + "-" + strconv.FormatInt(c.vars.Seq, 10)
	b := make([]byte, 0, 64+len(st.Room)+len(st.Event)+len(extra))
	b = append(b, '[')
	b = strconv.AppendQuote(b, st.Room)
	b = append(b, ',')
	b = strconv.AppendQuote(b, st.Event)
	b = append(b, `,{"t":`...)
	b = strconv.AppendInt(b, c.vars.SendTime, 10)
	b = append(b, `,"bid":`...)
	b = strconv.AppendQuote(b, bid)
	if node := c.node.Load(); node != nil {
		b = append(b, `,"node":`...)
		b = strconv.AppendQuote(b, *node)
	}
	b = append(b, '}')
	if len(extra) > 2 { // the step's own args after ours: strip "[" and "]"
		b = append(b, ',')
		b = append(b, extra[1:len(extra)-1]...)
	}
	b = append(b, ']')
	c.r.fan.sent(bid, sent, c.r.rooms.members(st.Room))
	err = c.sock(st.Namespace).Send(client.Outgoing{Event: "broadcast", Args: b, Buffers: bufs})
	if err != nil {
		c.shard.ErrorCause(metrics.ErrEmit, err)
		return
	}
	c.shard.Add(metrics.Broadcasts, 1)
}

// drop breaks the client's transport through the drop proxy; the client
// sees a network failure and reconnects by itself.
func (c *vclient) drop() bool {
	if c.r.proxy == nil {
		return false
	}
	c.expectDrop.Store(true)
	if !c.r.proxy.drop(c.id) {
		c.expectDrop.Store(false)
		return false
	}
	c.shard.Add(metrics.Dropped, 1)
	return true
}

// reconnectPoll is how often a reconnect step checks whether the client
// is back: cheap, and fine-grained enough next to a backoff of ≥ 0.5 s.
const reconnectPoll = 5 * time.Millisecond

// reconnect runs a reconnect step: drop the transport, then wait until
// the client has reconnected and every namespace it had is connected
// again (the reconnect latency itself comes from the client's hook).
func (c *vclient) reconnect(st *scenarios.Step) error {
	c.shard.Add(metrics.Operations, 1)
	var nsps []*client.Socket
	for _, ns := range c.r.nsps {
		if s := c.conn.Socket(ns); s.Connected() {
			nsps = append(nsps, s)
		}
	}
	before := c.reconnects.Load()
	if !c.drop() {
		return nil // nothing to drop (not connected): nothing to measure
	}
	timeout := st.Timeout
	if timeout <= 0 {
		timeout = 2 * scenarios.DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(reconnectPoll)
	defer t.Stop()
	for {
		back := c.reconnects.Load() > before
		for _, s := range nsps {
			back = back && s.Connected()
		}
		if back {
			return nil
		}
		if time.Now().After(deadline) {
			c.shard.ErrorCause(metrics.ErrReconnect, fmt.Errorf("reconnect: not connected again within %s", timeout))
			return nil
		}
		select {
		case <-t.C:
		case <-c.conn.Done():
			c.shard.ErrorCause(metrics.ErrReconnect, fmt.Errorf("reconnect: the client gave up: %w", c.conn.Err()))
			return errAbort
		case <-c.r.graceCtx.Done():
			return errAbort
		}
	}
}
