package server_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// TestFeatures runs every Socket.IO feature with our client over polling
// only, WebSocket only and polling then upgrade.
func TestFeatures(t *testing.T) {
	srv := newTestServer(nil)
	url := start(t, srv)
	t.Run("modes", func(t *testing.T) {
		for _, mode := range modes {
			t.Run(mode.String(), func(t *testing.T) {
				t.Parallel()
				testFeatures(t, url, mode)
			})
		}
	})
	t.Run("stats", func(t *testing.T) {
		st := srv.Stats()
		if st.MessagesIn == 0 || st.MessagesOut == 0 || st.BytesIn == 0 || st.BytesOut == 0 || st.EventsIn == 0 || st.AcksIn == 0 {
			t.Fatalf("counters not moving: %+v", st)
		}
		if st.SessionsTotal < 3 || st.SocketsTotal < 3 {
			t.Fatalf("totals %+v", st)
		}
	})
}

func testFeatures(t *testing.T, url string, mode client.Mode) {
	c := dial(t, url, mode)
	root := c.Socket("/")
	auth, back, pushed := prototest.NewInbox(), prototest.NewInbox(), prototest.NewInbox()
	root.On("auth", auth.Handler)
	root.On("message-back", back.Handler)
	root.On("room-event", pushed.Handler)
	root.On("q", func(m *client.Message) {
		var n float64
		_ = m.Decode(&n)
		_ = m.Ack("answer", n+1)
	})
	ctx := prototest.Context(t)
	if err := c.Open(ctx); err != nil {
		t.Fatalf("open: %v", err)
	}
	want := client.WebSocket
	if mode == client.PollingOnly {
		want = client.Polling
	}
	if got := c.Transport(); got != want {
		t.Fatalf("transport %q, want %q", got, want)
	}
	hs := c.Handshake()
	if hs.PingInterval != 300 || hs.PingTimeout != 1000 || hs.MaxPayload != 1_000_000 {
		t.Fatalf("handshake %+v", hs)
	}
	if err := root.Connect(ctx, map[string]any{"token": "abc"}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if root.ID() == "" || root.ID() == hs.SID {
		t.Fatalf("socket id %q (engine sid %q)", root.ID(), hs.SID)
	}
	if m := auth.Next(t, "auth"); string(m.Args) != `[{"token":"abc"}]` {
		t.Fatalf("auth %s", m.Args)
	}

	t.Run("echo", func(t *testing.T) {
		for i := range 20 {
			if err := root.Emit("message", i, "x\"y", map[string]any{"a": []any{true, nil}}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 20 {
			m := back.Next(t, "message-back")
			var n int
			var s string
			if err := m.Decode(&n, &s); err != nil || n != i || s != `x"y` {
				t.Fatalf("message-back %d: %s (%v)", i, m.Args, err)
			}
		}
	})

	t.Run("ack", func(t *testing.T) {
		m, err := root.EmitWithAck(ctx, "message-with-ack", 1, "2", map[string]any{"3": false})
		if err != nil {
			t.Fatal(err)
		}
		if want := `[1,"2",{"3":false}]`; string(m.Args) != want {
			t.Fatalf("ack %s, want %s", m.Args, want)
		}
	})

	t.Run("binary both ways", func(t *testing.T) { prototest.BinaryBothWays(t, ctx, root, back) })

	t.Run("server ack", func(t *testing.T) {
		m, err := root.EmitWithAck(ctx, "server-ack", "q", 41)
		if err != nil {
			t.Fatal(err)
		}
		if want := `["answer",42]`; string(m.Args) != want {
			t.Fatalf("server-ack %s, want %s", m.Args, want)
		}
		// The client has no handler for "silent": the server's ack times out.
		m, err = root.EmitWithAck(ctx, "server-ack", "silent", 1)
		if err == nil && !bytes.Contains(m.Args, []byte("ack timeout")) {
			t.Fatalf("server-ack to a silent client answered %s", m.Args)
		}
	})

	t.Run("namespaces", func(t *testing.T) { prototest.Multiplexed(t, ctx, c, root, back) })

	t.Run("middleware and unknown namespace", func(t *testing.T) {
		admin := c.Socket("/admin")
		var ce *client.ConnectError
		if err := admin.Connect(ctx, map[string]any{"token": "wrong"}); !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
			t.Fatalf("wrong token: %v %+v", err, ce)
		}
		if err := admin.Connect(ctx, map[string]any{"token": "secret"}); err != nil {
			t.Fatalf("right token: %v", err)
		}
		if err := c.Socket("/nope").Connect(ctx, nil); !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Fatalf("unknown namespace: %v", err)
		}
		_ = root.Emit("message", "after refusals")
		back.Next(t, "message-back after refusals")
	})

	t.Run("heartbeat keeps session", func(t *testing.T) {
		time.Sleep(1500 * time.Millisecond) // five 300 ms heartbeats
		_ = root.Emit("message", "alive")
		if m := back.Next(t, "message-back after heartbeats"); string(m.Args) != `["alive"]` {
			t.Fatalf("got %s", m.Args)
		}
	})

	t.Run("server disconnect", func(t *testing.T) {
		if err := root.Emit("disconnect-me"); err != nil {
			t.Fatal(err)
		}
		prototest.WaitFor(t, 5*time.Second, "namespace disconnect", func() bool { return !root.Connected() })
		select {
		case <-c.Done():
			t.Fatal("Engine.IO session ended on disconnect(false)")
		case <-time.After(100 * time.Millisecond):
		}
		if err := root.Connect(ctx, nil); err != nil {
			t.Fatalf("reconnect namespace: %v", err)
		}
		_ = root.Emit("disconnect-me", true)
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("session not closed by disconnect(true)")
		}
	})
}

// TestBroadcast checks a room broadcast reaches every member (sender
// included) and nobody else, over mixed transports.
func TestBroadcast(t *testing.T) {
	url := start(t, newTestServer(nil))
	ctx := prototest.Context(t)
	var boxes []*prototest.Inbox
	var socks []*client.Socket
	for i, mode := range []client.Mode{client.PollingOnly, client.WebSocketOnly, client.PollingThenUpgrade, client.WebSocketOnly} {
		c := dial(t, url, mode)
		s := c.Socket("/")
		b := prototest.NewInbox()
		s.On("room-event", b.Handler)
		prototest.OpenConnect(t, ctx, c, s, nil)
		if i < 3 {
			if _, err := s.EmitWithAck(ctx, "join", "r1"); err != nil {
				t.Fatal(err)
			}
		}
		boxes, socks = append(boxes, b), append(socks, s)
	}
	if _, err := socks[0].EmitWithAck(ctx, "broadcast", "r1", "room-event"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if m := boxes[i].Next(t, "room-event"); string(m.Args) != `["hello","r1"]` {
			t.Fatalf("member %d got %s", i, m.Args)
		}
	}
	boxes[3].None(t, 300*time.Millisecond, "non-member")
}

// TestServerAPI checks the server-side emit helpers directly.
func TestServerAPI(t *testing.T) {
	srv := newTestServer(nil)
	url := start(t, srv)
	ctx := prototest.Context(t)
	var got *server.Socket
	connected := make(chan struct{})
	srv.Of("/custom").OnConnect(func(s *server.Socket) { got = s; close(connected) })
	c := dial(t, url, client.WebSocketOnly)
	s := c.Socket("/custom")
	in := prototest.NewInbox()
	s.On("hi", in.Handler)
	prototest.OpenConnect(t, ctx, c, s, nil)
	<-connected
	if err := got.Emit("disconnect"); !errors.Is(err, server.ErrReservedEvent) {
		t.Fatalf("reserved emit: %v", err)
	}
	if n, err := srv.Of("/custom").To().EmitCount("hi", 1, []byte{9}); err != nil || n != 1 {
		t.Fatalf("namespace emit: %d %v", n, err)
	}
	m := in.Next(t, "hi")
	var n int
	var b []byte
	if err := m.Decode(&n, &b); err != nil || n != 1 || !bytes.Equal(b, []byte{9}) {
		t.Fatalf("hi %s %v", m.Args, err)
	}
	if srv.Stats().Sockets != 1 {
		t.Fatalf("sockets %d", srv.Stats().Sockets)
	}
	c.Close()
	prototest.WaitFor(t, 5*time.Second, "socket gone", func() bool { return srv.Stats().Sockets == 0 && srv.Stats().Sessions == 0 })
	if err := got.Emit("hi"); !errors.Is(err, server.ErrClosed) {
		t.Fatalf("emit after close: %v", err)
	}
}
