package server_test

import (
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// TestEventWire checks the client's event payloads on the wire against
// what Node does, through an engine-only server that sees and writes the
// raw Socket.IO text: names are quoted as JSON.stringify quotes them (no
// HTML escaping), and a numeric event name sent by a server reaches the
// client's handler as JavaScript renders the number (42[1.0] is event "1").
func TestEventWire(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := server.New(&server.Options{PingInterval: testPingInterval, PingTimeout: testPingTimeout,
		Engine: func(s *server.Session, data []byte, binary bool) {
			switch {
			case string(data) == "0":
				_ = s.Send([]byte(`0{"sid":"wire"}`), false)
			case len(data) > 0 && data[0] == '2':
				mu.Lock()
				got = append(got, string(data))
				mu.Unlock()
				_ = s.Send([]byte(`2[1.0,"n"]`), false)
				_ = s.Send([]byte(`2[ "sp" , 7 ]`), false)
				_ = s.Send([]byte(`2["a\u0062",8]`), false)
			}
		}})
	url := start(t, srv)
	for _, mode := range []client.Mode{client.PollingOnly, client.WebSocketOnly} {
		t.Run(mode.String(), func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			c := dial(t, url, mode)
			s := c.Socket("/")
			type ev struct{ name, args string }
			evs := make(chan ev, 8)
			s.On("1", func(m *client.Message) { evs <- ev{m.Event, string(m.Args)} })
			s.OnAny(func(m *client.Message) { evs <- ev{m.Event, string(m.Args)} })
			ctx := prototest.Context(t)
			prototest.OpenConnect(t, ctx, c, s, nil)
			if err := s.Emit("é<b>&", "x"); err != nil {
				t.Fatal(err)
			}
			want := []ev{{"1", `["n"]`}, {"sp", `[ 7 ]`}, {"ab", `[8]`}}
			for _, w := range want {
				select {
				case e := <-evs:
					if e != w {
						t.Errorf("handler got event %q args %s, want %q %s", e.name, e.args, w.name, w.args)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("no event %q within 10 s", w.name)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != `2["é<b>&","x"]` {
				t.Errorf("server received %q, want [2[\"é<b>&\",\"x\"]] as Node's client writes it", got)
			}
		})
	}
}
