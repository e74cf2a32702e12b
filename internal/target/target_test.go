package target_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

var modes = []client.Mode{client.PollingOnly, client.WebSocketOnly, client.PollingThenUpgrade}

func start(t *testing.T, opts target.Options) (*target.Target, string) {
	t.Helper()
	if opts.Server.PingInterval == 0 {
		opts.Server.PingInterval, opts.Server.PingTimeout = 300*time.Millisecond, time.Second
	}
	tg := target.New(opts)
	return tg, prototest.Serve(t, tg)
}

func connect(t *testing.T, url string, mode client.Mode, nsp string, auth any) (*client.Conn, *client.Socket, map[string]*prototest.Inbox) {
	t.Helper()
	c := prototest.Dial(t, url, prototest.NoReconnect(mode))
	s := c.Socket(nsp)
	boxes := map[string]*prototest.Inbox{}
	for _, ev := range []string{"auth", "message-back", "echo", "pushed", "room", "ask", "ack-response"} {
		b := prototest.NewInbox()
		boxes[ev] = b
		if ev != "ask" {
			s.On(ev, b.Handler)
		}
	}
	s.On("ask", func(m *client.Message) { _ = m.Ack("answer", 42) })
	s.On("ack-request", func(m *client.Message) {
		var q string
		var n int
		_ = m.Decode(&q, &n)
		_ = m.Ack("re:"+q, n+1, []byte{9, 8})
	})
	prototest.OpenConnect(t, prototest.Context(t), c, s, auth)
	return c, s, boxes
}

// TestContract runs the peers/README.md handler checks, as against the Node
// peer, over every transport mode.
func TestContract(t *testing.T) {
	tg, url := start(t, target.Options{})
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			ctx := prototest.Context(t)
			c, s, in := connect(t, url, mode, "/", map[string]any{"token": "abc"})
			if m := in["auth"].Next(t, "auth"); string(m.Args) != `[{"token":"abc"}]` {
				t.Fatalf("auth %s", m.Args)
			}
			_ = s.Emit("message", 1, "2", []byte{3})
			m := in["message-back"].Next(t, "message-back")
			var a int
			var b string
			var bin []byte
			if err := m.Decode(&a, &b, &bin); err != nil || a != 1 || b != "2" || !bytes.Equal(bin, []byte{3}) {
				t.Fatalf("message-back %s %v", m.Args, err)
			}
			ack := func(event string, args ...any) string {
				t.Helper()
				m, err := s.EmitWithAck(ctx, event, args...)
				if err != nil {
					t.Fatalf("%s: %v", event, err)
				}
				return string(m.Args)
			}
			if got := ack("message-with-ack", 1, "x"); got != `[1,"x"]` {
				t.Fatalf("message-with-ack %s", got)
			}
			if got := ack("echo-ack", map[string]int{"k": 1}); got != `[{"k":1}]` {
				t.Fatalf("echo-ack %s", got)
			}
			if got := ack("echo", "e"); got != `[]` {
				t.Fatalf("echo ack %s", got)
			}
			if m := in["echo"].Next(t, "echo"); string(m.Args) != `["e"]` {
				t.Fatalf("echo %s", m.Args)
			}
			if got := ack("server-emit", "pushed", 7); got != `["ok"]` {
				t.Fatalf("server-emit %s", got)
			}
			if m := in["pushed"].Next(t, "pushed"); string(m.Args) != `[7]` {
				t.Fatalf("pushed %s", m.Args)
			}
			if got := ack("server-emit", "disconnect"); !strings.Contains(got, `reserved event name`) {
				t.Fatalf("server-emit reserved %s", got)
			}
			if got := ack("server-ack", "ask", 1); got != `["answer",42]` {
				t.Fatalf("server-ack %s", got)
			}
			_ = s.Emit("request-ack", "q", 1)
			m = in["ack-response"].Next(t, "ack-response")
			var re string
			var n int
			if err := m.Decode(&re, &n, &bin); err != nil || re != "re:q" || n != 2 || !bytes.Equal(bin, []byte{9, 8}) {
				t.Fatalf("ack-response %s %v", m.Args, err)
			}
			if got := ack("join", "room-"+mode.String()); got != `["ok"]` {
				t.Fatalf("join %s", got)
			}
			if got := ack("broadcast", "room-"+mode.String(), "room", "hi", []byte{1}); got != `["ok"]` {
				t.Fatalf("broadcast %s", got)
			}
			m = in["room"].Next(t, "room broadcast")
			var hi string
			if err := m.Decode(&hi, &bin); err != nil || hi != "hi" || !bytes.Equal(bin, []byte{1}) {
				t.Fatalf("room %s %v", m.Args, err)
			}
			if got := ack("leave", "room-"+mode.String()); got != `["ok"]` {
				t.Fatalf("leave %s", got)
			}
			ack("broadcast", "room-"+mode.String(), "room", "nobody")
			in["room"].None(t, 200*time.Millisecond, "after leaving")

			custom, cb := prototest.ConnectCustom(t, ctx, c)
			_ = custom.Emit("message", "c")
			if m := cb.Next(t, "/custom message-back"); string(m.Args) != `["c"]` {
				t.Fatalf("/custom %s", m.Args)
			}
			admin := c.Socket("/admin")
			var ce *client.ConnectError
			if err := admin.Connect(ctx, map[string]any{"token": "no"}); !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":401}` {
				t.Fatalf("admin refusal %v", err)
			}
			if err := admin.Connect(ctx, map[string]any{"token": "secret"}); err != nil {
				t.Fatalf("admin: %v", err)
			}

			_ = s.Emit("disconnect-me")
			deadline := time.Now().Add(5 * time.Second)
			for s.Connected() {
				if time.Now().After(deadline) {
					t.Fatal("disconnect-me: still connected")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !custom.Connected() {
				t.Fatal("disconnect-me (no close) dropped /custom too")
			}
		})
	}
	_ = tg
}

// TestPush checks the server-paced events: count, order, timestamps.
func TestPush(t *testing.T) {
	_, url := start(t, target.Options{})
	ctx := prototest.Context(t)
	_, s, in := connect(t, url, client.WebSocketOnly, "/", nil)
	before := time.Now().UnixMilli()
	if m, err := s.EmitWithAck(ctx, "push", "pushed", 20, 10); err != nil || string(m.Args) != `["ok"]` {
		t.Fatalf("push: %v", err)
	}
	for want := 1; want <= 10; want++ {
		m := in["pushed"].Next(t, "pushed")
		var seq, ts int64
		if err := m.Decode(&seq, &ts); err != nil || seq != int64(want) || ts < before || ts > time.Now().UnixMilli() {
			t.Fatalf("push %d: %s %v", want, m.Args, err)
		}
	}
	if time.Now().UnixMilli()-before < 150 {
		t.Fatal("10 pushes at 20 ms arrived in under 150 ms")
	}
}

// TestFaults checks Delay, Stall and DropRatio.
func TestFaults(t *testing.T) {
	t.Run("delay", func(t *testing.T) {
		// A 1 s delay: 5 acks one after the other would take 5 s, so a
		// bound of 4 s tells pipelined from serialized on any machine.
		const delay = time.Second
		_, url := start(t, target.Options{Delay: delay})
		ctx := prototest.Context(t)
		_, s, _ := connect(t, url, client.WebSocketOnly, "/", nil)
		begin := time.Now()
		var wg sync.WaitGroup
		for range 5 { // pipelined: each waits Delay, not 5×Delay
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.EmitWithAck(ctx, "echo-ack", 1); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if d := time.Since(begin); d < delay || d >= 4*delay {
			t.Fatalf("5 pipelined acks with %v delay took %v, want [%v, %v)", delay, d, delay, 4*delay)
		}
	})
	t.Run("stall", func(t *testing.T) {
		tg, url := start(t, target.Options{})
		ctx := prototest.Context(t)
		_, s, _ := connect(t, url, client.WebSocketOnly, "/", nil)
		// After the stall an ack must not wait another stall: a 2 s stall
		// tells that apart from a slow round trip on a busy machine.
		const stall = 2 * time.Second
		tg.Stall(stall)
		begin := time.Now()
		if _, err := s.EmitWithAck(ctx, "echo-ack", 1); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(begin); d < stall-100*time.Millisecond {
			t.Fatalf("ack during a %v stall came after %v", stall, d)
		}
		begin = time.Now()
		if _, err := s.EmitWithAck(ctx, "echo-ack", 1); err != nil || time.Since(begin) >= stall {
			t.Fatalf("after the stall: %v in %v, want under %v", err, time.Since(begin), stall)
		}
	})
	t.Run("drop", func(t *testing.T) {
		tg, url := start(t, target.Options{DropRatio: 0.5})
		_, s, in := connect(t, url, client.WebSocketOnly, "/", nil)
		const n = 400
		for i := range n {
			_ = s.Emit("message", i)
		}
		got := 0
		for got+int(tg.Dropped()) < n {
			select {
			case <-in["message-back"].C():
				got++
			case <-time.After(5 * time.Second):
				t.Fatalf("got %d + dropped %d of %d", got, tg.Dropped(), n)
			}
		}
		if d := tg.Dropped(); d < n/4 || d > 3*n/4 {
			t.Fatalf("dropped %d of %d at ratio 0.5", d, n)
		}
	})
}

// TestEngineEcho checks the Engine.IO echo server of docs/conformance.md §1.
func TestEngineEcho(t *testing.T) {
	_, url := start(t, target.Options{Server: server.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, CORSOrigin: "*"}})
	ctx := prototest.Context(t)
	ws, _, err := transport.DialRaw(ctx, strings.Replace(url, "http", "ws", 1)+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	f, _ := ws.Next(ctx)
	if !bytes.HasPrefix(f.Data, []byte(`0{"sid":`)) || !bytes.Contains(f.Data, []byte(`"upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`)) {
		t.Fatalf("open %q", f.Data)
	}
	ws.Send(transport.TextFrame, []byte("4hello"))
	ws.Send(transport.BinaryFrame, []byte{1, 2, 3})
	var got []string
	for len(got) < 2 {
		f, err := ws.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Data) == "2" {
			ws.Send(transport.TextFrame, []byte("3"))
			continue
		}
		got = append(got, f.Kind.String()+":"+string(f.Data))
	}
	if got[0] != "text:4hello" || got[1] != "binary:\x01\x02\x03" {
		t.Fatalf("echo %q", got)
	}
	r, err := transport.RawRequest(ctx, "GET", url+"/engine.io/?EIO=4&transport=polling", nil, nil, nil)
	if err != nil || r.Status != 200 || !bytes.Contains(r.Body, []byte(`"upgrades":["websocket"]`)) || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("polling handshake %v %+v", err, r)
	}
}
