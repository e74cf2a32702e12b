package client_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

// TestMain: protocol/server runs in synctest bubbles here (see prototest.Main).
func TestMain(m *testing.M) { prototest.Main(m) }

// TestReconnectOnFakeClock is TestReconnect against protocol/server in a
// synctest bubble, in memory, where the backoff can be checked to the
// nanosecond: the server is stopped under a connected client and started
// again 1 s later; the client must come back by itself, reconnect its
// namespace and work again, having waited 100, 200, 400 and 500 ms
// (Delay 100 ms doubling up to DelayMax 500 ms, no randomisation) before
// its attempts, the fourth of which finds the server back.
func TestReconnectOnFakeClock(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { reconnectOnFakeClock(t, mode) })
		})
	}
}

func reconnectOnFakeClock(t *testing.T, mode client.Mode) {
	// The dial of the server running now: a stopped server's listener
	// refuses dials, as a stopped process's port does.
	var current atomic.Pointer[prototest.DialFunc]
	serve := func() *server.Server {
		srv := server.New(&server.Options{PingInterval: 300 * time.Millisecond, PingTimeout: time.Second})
		srv.Of("/").On("message", func(s *server.Socket, m *server.Message) { _ = s.EmitRaw("message-back", m.Args, m.Buffers) })
		dial := prototest.ServeInMemory(t, srv)
		current.Store(&dial)
		return srv
	}
	srv := serve()
	rec := newRecorder()
	c := prototest.Dial(t, "http://siokit.test", &client.Options{Mode: mode, Hook: rec,
		Reconnect: client.Reconnect{Delay: 100 * time.Millisecond, DelayMax: 500 * time.Millisecond, Randomization: -1},
		Transport: transport.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (*current.Load())(ctx, network, addr)
		}}})
	root := c.Socket("/")
	back := prototest.NewInbox()
	root.On("message-back", back.Handler)
	ctx := prototest.Context(t)
	prototest.OpenConnect(t, ctx, c, root, nil)
	srv.Close()
	prototest.WaitFor(t, 8*time.Second, "disconnect", func() bool { return rec.count(client.KindDisconnect) > 0 })
	down := rec.find(client.KindDisconnect)[0].Time
	time.Sleep(time.Until(down.Add(time.Second)))
	serve()
	checkReconnected(t, rec, root, back)
	att := rec.find(client.KindReconnectAttempt)
	// Each attempt is announced as its wait begins: at 0, 100, 300 and
	// 700 ms after the disconnect; the fourth succeeds at 1.2 s.
	waits := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}
	if len(att) != len(waits) {
		t.Fatalf("%d reconnect attempts %+v, want %d", len(att), att, len(waits))
	}
	var at time.Duration
	for i, a := range att {
		if a.Attempt != i+1 || a.Delay != waits[i] || a.Time.Sub(down) != at {
			t.Errorf("attempt %d: number %d, wait %v, %v after the disconnect; want %d, %v, %v", i+1, a.Attempt, a.Delay, a.Time.Sub(down), i+1, waits[i], at)
		}
		at += waits[i]
	}
	if r := rec.find(client.KindReconnect); len(r) != 1 || r[0].Attempt != len(waits) || r[0].Duration != at {
		t.Errorf("reconnect events %+v, want one, by attempt %d, %v after the disconnect", r, len(waits), at)
	}
}
