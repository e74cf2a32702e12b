package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// Heartbeat settings for tests: several heartbeats fit in a test, with
// margins for a loaded 2-core machine.
const (
	testPingInterval = 300 * time.Millisecond
	testPingTimeout  = 1000 * time.Millisecond
)

var modes = []client.Mode{client.PollingOnly, client.WebSocketOnly, client.PollingThenUpgrade}

// start serves srv on 127.0.0.1:0 and returns its base URL.
func start(t testing.TB, srv *server.Server) string {
	t.Helper()
	return prototest.Serve(t, srv)
}

// newTestServer builds a server with a small handler set like the
// contract's, enough to exercise every feature of the package.
func newTestServer(opts *server.Options) *server.Server {
	if opts == nil {
		opts = &server.Options{}
	}
	if opts.PingInterval == 0 {
		opts.PingInterval, opts.PingTimeout = testPingInterval, testPingTimeout
	}
	srv := server.New(opts)
	basic := func(ns *server.Namespace) {
		ns.OnConnect(func(s *server.Socket) { _ = s.EmitRaw("auth", append(append([]byte("["), s.Auth()...), ']'), nil) })
		ns.On("message", func(s *server.Socket, m *server.Message) { _ = s.EmitRaw("message-back", m.Args, m.Buffers) })
	}
	root := srv.Of("/")
	basic(root)
	root.On("message-with-ack", func(s *server.Socket, m *server.Message) { _ = m.AckRaw(m.Args, m.Buffers) })
	root.On("server-ack", func(s *server.Socket, m *server.Message) {
		var event string
		var n float64
		if err := m.Decode(&event, &n); err != nil {
			return
		}
		req := m.Clone()
		_ = s.EmitWithAck(event, func(a *server.Message, err error) {
			if err != nil {
				_ = req.Ack(map[string]string{"error": err.Error()})
				return
			}
			_ = req.AckRaw(a.Args, a.Buffers)
		}, 5*time.Second, n)
	})
	root.On("join", func(s *server.Socket, m *server.Message) {
		var room string
		_ = m.Decode(&room)
		s.Join(room)
		_ = m.Ack("ok")
	})
	root.On("broadcast", func(s *server.Socket, m *server.Message) {
		var room, event string
		_ = m.Decode(&room, &event)
		_ = s.Namespace().To(room).Emit(event, "hello", room)
		_ = m.Ack("ok")
	})
	root.On("disconnect-me", func(s *server.Socket, m *server.Message) {
		var close bool
		_ = m.Decode(&close)
		s.Disconnect(close)
	})
	basic(srv.Of("/custom"))
	admin := srv.Of("/admin")
	admin.Use(func(s *server.Socket, auth json.RawMessage) error {
		var a struct{ Token string }
		if err := json.Unmarshal(auth, &a); err != nil || a.Token != "secret" {
			return &server.ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	basic(admin)
	return srv
}

// dial returns a client of url in mode that does not reconnect, closed
// when t ends.
func dial(t testing.TB, url string, mode client.Mode) *client.Conn {
	t.Helper()
	return prototest.Dial(t, url, prototest.NoReconnect(mode))
}
