package server_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// TestManyClients connects a few hundred clients over both transports,
// broadcasts to all of them and checks every one got it exactly once and
// that the server's counters agree with what the clients saw.
func TestManyClients(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	// Not the tests' 300 ms heartbeat: 300 clients pinged ~1,000 times a
	// second, on a busy machine, pong late and are dropped (the sockets
	// were never all counted), and heartbeats are not what this tests.
	srv := newTestServer(&server.Options{PingInterval: 20 * time.Second, PingTimeout: 20 * time.Second})
	url := start(t, srv)
	ctx := prototest.Context(t)
	defer func() {
		if t.Failed() {
			t.Logf("at the failure: server %+v", srv.Stats())
		}
	}()
	var got atomic.Int64
	socks := make([]*client.Socket, n)
	for i := range n {
		mode := client.WebSocketOnly
		if i%4 == 0 {
			mode = client.PollingOnly
		}
		c := dial(t, url, mode)
		s := c.Socket("/")
		s.On("all", func(*client.Message) { got.Add(1) })
		prototest.OpenConnect(t, ctx, c, s, nil)
		socks[i] = s
	}
	prototest.WaitFor(t, 30*time.Second, "all sockets counted", func() bool { return srv.Stats().Sockets == int64(n) })
	before := srv.Stats()
	if k, err := srv.Of("/").To().EmitCount("all", "x"); err != nil || k != n {
		t.Fatalf("broadcast reached %d of %d (%v)", k, n, err)
	}
	prototest.WaitFor(t, 20*time.Second, "broadcast delivered", func() bool { return got.Load() >= int64(n) })
	time.Sleep(200 * time.Millisecond)
	if got.Load() != int64(n) {
		t.Fatalf("delivered %d times to %d clients", got.Load(), n)
	}
	if out := srv.Stats().MessagesOut - before.MessagesOut; out < int64(n) {
		t.Fatalf("MessagesOut grew by %d, want at least %d", out, n)
	}
	for _, s := range socks {
		s.Conn().Close()
	}
	prototest.WaitFor(t, 20*time.Second, "all sessions gone", func() bool { st := srv.Stats(); return st.Sessions == 0 && st.Sockets == 0 })
}
