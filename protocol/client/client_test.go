package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/prototest"
)

// Heartbeat settings for the peers: short enough that several heartbeats
// happen inside a test, long enough for a loaded 2-core CI machine.
var fastHeartbeat = []string{"PING_INTERVAL=300", "PING_TIMEOUT=1000"}

type flavour struct {
	peer string
	eio  engineio.Version
}

var flavours = []flavour{{"node4", engineio.V4}, {"node2", engineio.V3}}

var modes = []client.Mode{client.PollingOnly, client.WebSocketOnly, client.PollingThenUpgrade}

// recorder is a Hook that keeps every event for later assertions.
type recorder struct {
	mu     sync.Mutex
	events []client.Event
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) Observe(e client.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) count(k client.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (r *recorder) find(k client.Kind) []client.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []client.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func dial(t *testing.T, p *testpeer.Peer, f flavour, mode client.Mode, hook client.Hook, path string) *client.Conn {
	t.Helper()
	return prototest.Dial(t, p.URL, &client.Options{EIO: f.eio, Mode: mode, Hook: hook, Path: path,
		Reconnect: client.Reconnect{Delay: 100 * time.Millisecond, DelayMax: 500 * time.Millisecond}})
}

func wantTransport(mode client.Mode) string {
	if mode == client.PollingOnly {
		return client.Polling
	}
	return client.WebSocket
}

// TestFeatures runs every client feature against the real Node servers,
// for both protocol versions and all three transport modes.
func TestFeatures(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.peer, func(t *testing.T) {
			p := testpeer.Start(t, f.peer, fastHeartbeat...)
			for _, mode := range modes {
				t.Run(mode.String(), func(t *testing.T) {
					t.Parallel()
					testFeatures(t, p, f, mode)
				})
			}
		})
	}
}

func testFeatures(t *testing.T, p *testpeer.Peer, f flavour, mode client.Mode) {
	rec := newRecorder()
	c := dial(t, p, f, mode, rec, "")
	root := c.Socket("/")
	auth, back, events := prototest.NewInbox(), prototest.NewInbox(), prototest.NewInbox()
	root.On("auth", auth.Handler)
	root.On("message-back", back.Handler)
	root.On("q", func(m *client.Message) {
		var n float64
		if err := m.Decode(&n); err != nil {
			t.Errorf("q args %s: %v", m.Args, err)
		}
		if err := m.Ack("answer", n+1); err != nil {
			t.Errorf("ack: %v", err)
		}
	})
	root.On("pushed", events.Handler)
	ctx := prototest.Context(t)
	if err := c.Open(ctx); err != nil {
		t.Fatalf("open: %v", err)
	}
	if got := c.Transport(); got != wantTransport(mode) {
		t.Fatalf("transport %q after open, want %q", got, wantTransport(mode))
	}
	var rootAuth any
	if f.eio == engineio.V4 {
		rootAuth = map[string]any{"token": "abc"}
	}
	if err := root.Connect(ctx, rootAuth); err != nil {
		t.Fatalf("connect /: %v", err)
	}
	if root.ID() == "" {
		t.Fatal("connected socket has no id")
	}

	t.Run("auth echo", func(t *testing.T) {
		m := auth.Next(t, "auth event")
		want := `[{}]`
		if f.eio == engineio.V4 {
			want = `[{"token":"abc"}]`
		}
		if string(m.Args) != want {
			t.Fatalf("auth args %s, want %s", m.Args, want)
		}
	})

	t.Run("emit and event", func(t *testing.T) {
		if err := root.Emit("message", 1, "2", map[string]any{"3": []any{true}}); err != nil {
			t.Fatal(err)
		}
		m := back.Next(t, "message-back")
		if want := `[1,"2",{"3":[true]}]`; string(m.Args) != want || m.Event != "message-back" {
			t.Fatalf("got %s %s, want message-back %s", m.Event, m.Args, want)
		}
	})

	t.Run("emit with ack", func(t *testing.T) {
		m, err := root.EmitWithAck(ctx, "message-with-ack", 1, "2", map[string]any{"3": []any{false}})
		if err != nil {
			t.Fatal(err)
		}
		if want := `[1,"2",{"3":[false]}]`; string(m.Args) != want {
			t.Fatalf("ack %s, want %s", m.Args, want)
		}
		if rec.count(client.KindAck) == 0 {
			t.Fatal("no KindAck event observed")
		}
	})

	t.Run("binary both ways", func(t *testing.T) { prototest.BinaryBothWays(t, ctx, root, back) })

	t.Run("server-initiated emit and ack", func(t *testing.T) {
		if err := root.Emit("server-emit", "pushed", "x", 7); err != nil {
			t.Fatal(err)
		}
		if m := events.Next(t, "pushed"); string(m.Args) != `["x",7]` {
			t.Fatalf("pushed %s", m.Args)
		}
		m, err := root.EmitWithAck(ctx, "server-ack", "q", 41)
		if err != nil {
			t.Fatal(err)
		}
		if want := `["answer",42]`; !bytes.Contains(m.Args, []byte(want)) {
			t.Fatalf("server-ack answered %s, want it to carry our ack %s", m.Args, want)
		}
		if rec.count(client.KindAckSent) == 0 {
			t.Fatal("no KindAckSent observed")
		}
	})

	t.Run("ack timeout", func(t *testing.T) {
		done := make(chan error, 1)
		err := root.Send(client.Outgoing{Event: "no-such-handler", Args: []byte(`[1]`), Timeout: 200 * time.Millisecond,
			Ack: func(m *client.Message, err error) { done <- err }})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, client.ErrAckTimeout) {
				t.Fatalf("got %v, want ErrAckTimeout", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("ack timeout never fired")
		}
	})

	t.Run("namespaces multiplexed", func(t *testing.T) {
		// Registered before Multiplexed connects /custom (Socket returns
		// the same socket), so the server's auth event on it is kept.
		cauth := prototest.NewInbox()
		c.Socket("/custom").On("auth", cauth.Handler)
		prototest.Multiplexed(t, ctx, c, root, back)
		cauth.Next(t, "/custom auth")
	})

	t.Run("middleware and unknown namespace", func(t *testing.T) {
		bad, good := c.Socket("/admin"), map[string]any{"token": "secret"}
		var ce *client.ConnectError
		if err := bad.Connect(ctx, map[string]any{"token": "wrong"}); !errors.As(err, &ce) || ce.Message != "not authorized" {
			t.Fatalf("wrong token: %v, want ConnectError not authorized", err)
		}
		if err := bad.Connect(ctx, good); err != nil {
			t.Fatalf("right token: %v", err)
		}
		if err := c.Socket("/nope").Connect(ctx, nil); !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Fatalf("unknown namespace: %v, want Invalid namespace", err)
		}
	})

	t.Run("heartbeat keeps session", func(t *testing.T) {
		// Several 300 ms heartbeats: wait for 3 incoming packets (pings)
		// however long a busy machine takes, and for at least 1.2 s.
		before := rec.count(client.KindPacket)
		begin := time.Now()
		prototest.WaitFor(t, 20*time.Second, "3 pings", func() bool { return rec.count(client.KindPacket)-before >= 3 })
		time.Sleep(time.Until(begin.Add(1200 * time.Millisecond)))
		if got := rec.count(client.KindDisconnect); got != 0 {
			t.Fatalf("session dropped during heartbeats: %+v", rec.find(client.KindDisconnect))
		}
		if err := root.Emit("message", "alive"); err != nil {
			t.Fatal(err)
		}
		back.Next(t, "message-back after heartbeats")
	})

	t.Run("server-side disconnect", func(t *testing.T) {
		if err := root.Emit("disconnect-me"); err != nil {
			t.Fatal(err)
		}
		prototest.WaitFor(t, 5*time.Second, "namespace disconnect", func() bool { return !root.Connected() })
		evs := rec.find(client.KindNamespaceDisconnect)
		if len(evs) == 0 || evs[len(evs)-1].Reason != client.ReasonServerDisconnect {
			t.Fatalf("namespace disconnect events %+v, want reason %q", evs, client.ReasonServerDisconnect)
		}
	})

	t.Run("clean close", func(t *testing.T) {
		c.Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after Close")
		}
		evs := rec.find(client.KindDisconnect)
		if len(evs) == 0 || evs[len(evs)-1].Reason != client.ReasonClientDisconnect {
			t.Fatalf("disconnect events %+v, want %q", evs, client.ReasonClientDisconnect)
		}
		if rec.count(client.KindReconnectAttempt) != 0 {
			t.Fatal("client tried to reconnect after Close")
		}
	})

	if mode == client.PollingThenUpgrade {
		up := rec.find(client.KindUpgrade)
		if len(up) != 1 || up[0].Err != nil || up[0].Duration <= 0 {
			t.Fatalf("upgrade events %+v, want one successful upgrade", up)
		}
	}
	hs := rec.find(client.KindHandshake)
	if len(hs) != 1 || hs[0].SID == "" || hs[0].Duration <= 0 || hs[0].Time.IsZero() {
		t.Fatalf("handshake events %+v", hs)
	}
}

// TestReconnect restarts the server under a connected client: the client
// must come back by itself, reconnect its namespace and work again.
func TestReconnect(t *testing.T) {
	for _, f := range flavours {
		for _, mode := range modes {
			t.Run(fmt.Sprintf("%s/%v", f.peer, mode), func(t *testing.T) {
				p := testpeer.Start(t, f.peer, fastHeartbeat...)
				rec := newRecorder()
				c := dial(t, p, f, mode, rec, "")
				root := c.Socket("/")
				back := prototest.NewInbox()
				root.On("message-back", back.Handler)
				ctx := prototest.Context(t)
				prototest.OpenConnect(t, ctx, c, root, nil)
				p.Restart(t)
				checkReconnected(t, rec, root, back)
			})
		}
	}
}

// checkReconnected: after its server came back, the client reconnected by
// itself from its first attempt on, after a disconnect that was not its
// own, and root, whose "message-back" events back receives, works again.
func checkReconnected(t *testing.T, rec *recorder, root *client.Socket, back *prototest.Inbox) {
	t.Helper()
	prototest.WaitFor(t, 8*time.Second, "reconnect", func() bool { return rec.count(client.KindReconnect) > 0 })
	prototest.WaitFor(t, 5*time.Second, "namespace back", root.Connected)
	if err := root.Emit("message", "after restart"); err != nil {
		t.Fatal(err)
	}
	if m := back.Next(t, "message-back after reconnect"); string(m.Args) != `["after restart"]` {
		t.Fatalf("got %s", m.Args)
	}
	att := rec.find(client.KindReconnectAttempt)
	if len(att) == 0 || att[0].Attempt != 1 {
		t.Fatalf("reconnect attempts %+v", att)
	}
	if d := rec.find(client.KindDisconnect); len(d) == 0 || d[0].Reason == client.ReasonClientDisconnect {
		t.Fatalf("disconnect events %+v, want a transport reason", d)
	}
}

// TestConnectionStateRecovery drops the transport of a client on the
// peer's /csr/ server (connection state recovery on) while the server
// keeps emitting, and checks that the client recovers its session: same
// socket id, Recovered reported, and no tick lost or duplicated.
func TestConnectionStateRecovery(t *testing.T) {
	p := testpeer.Start(t, "node4", fastHeartbeat...)
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			c := dial(t, p, flavour{"node4", engineio.V4}, mode, rec, "/csr/")
			root := c.Socket("/")
			var (
				mu    sync.Mutex
				ticks []int
			)
			root.On("tick", func(m *client.Message) {
				var n int
				if err := m.Decode(&n); err != nil {
					t.Errorf("tick %s: %v", m.Args, err)
				}
				mu.Lock()
				ticks = append(ticks, n)
				mu.Unlock()
			})
			ctx := prototest.Context(t)
			prototest.OpenConnect(t, ctx, c, root, nil)
			sid := root.ID()
			// Ten ticks 40 ms apart; the transport is dropped after the
			// second, so some are emitted while the client is away.
			if err := root.Emit("tick", 10, 40); err != nil {
				t.Fatal(err)
			}
			prototest.WaitFor(t, 20*time.Second, "2 ticks", func() bool { mu.Lock(); defer mu.Unlock(); return len(ticks) >= 2 })
			if err := root.Emit("drop-me"); err != nil {
				t.Fatal(err)
			}
			prototest.WaitFor(t, 20*time.Second, "recovered connect", func() bool {
				for _, e := range rec.find(client.KindConnect) {
					if e.Recovered {
						return true
					}
				}
				return false
			})
			if root.ID() != sid {
				t.Fatalf("socket id %q after recovery, want %q", root.ID(), sid)
			}
			prototest.WaitFor(t, 20*time.Second, "10 ticks", func() bool { mu.Lock(); defer mu.Unlock(); return len(ticks) >= 10 })
			time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
			mu.Lock()
			defer mu.Unlock()
			for i, n := range ticks {
				if n != i+1 || len(ticks) != 10 {
					t.Fatalf("ticks %v, want 1..10 exactly once", ticks)
				}
			}
		})
	}
}
