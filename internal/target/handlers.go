package target

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/siokit/siokit/protocol/server"
)

// register installs the peers/README.md handler contract.
func (t *Target) register() {
	root := t.sio.Of("/")
	t.basic(root)
	t.on(root, "message-with-ack", func(s *server.Socket, m *server.Message) { _ = m.AckRaw(m.Args, m.Buffers) })
	t.on(root, "echo", func(s *server.Socket, m *server.Message) {
		_ = s.EmitRaw("echo", m.Args, m.Buffers)
		if m.WantsAck() {
			_ = m.AckRaw(nil, nil)
		}
	})
	t.on(root, "echo-ack", func(s *server.Socket, m *server.Message) { _ = m.AckRaw(m.Args, m.Buffers) })
	t.on(root, "server-emit", func(s *server.Socket, m *server.Message) {
		event, rest, err := splitName(m.Args)
		if err == nil {
			err = nodeErr(event, s.EmitRaw(event, rest, m.Buffers))
		}
		ackResult(m, err)
	})
	t.on(root, "server-ack", t.serverAck)
	t.on(root, "request-ack", requestAck)
	t.on(root, "disconnect-me", func(s *server.Socket, m *server.Message) {
		var close bool
		_ = m.Decode(&close)
		s.Disconnect(close)
	})
	t.on(root, "join", func(s *server.Socket, m *server.Message) {
		s.Join(firstAsString(m.Args))
		_ = ackOK(m)
	})
	t.on(root, "leave", func(s *server.Socket, m *server.Message) {
		s.Leave(firstAsString(m.Args))
		_ = ackOK(m)
	})
	t.on(root, "broadcast", func(s *server.Socket, m *server.Message) {
		var raw []json.RawMessage
		if err := json.Unmarshal(m.Args, &raw); err != nil || len(raw) < 2 {
			ackResult(m, errMsg("event name must be a string"))
			return
		}
		room := rawString(raw[0])
		event, rest, err := splitName(joinArray(raw[1:]))
		if err == nil {
			_, err = s.Namespace().To(room).EmitRaw(event, rest, m.Buffers)
			err = nodeErr(event, err)
		}
		ackResult(m, err)
	})
	t.on(root, "push", t.push)

	t.basic(t.sio.Of("/custom"))
	admin := t.sio.Of("/admin")
	admin.Use(func(s *server.Socket, auth json.RawMessage) error {
		var a struct {
			Token any `json:"token"`
		}
		if json.Unmarshal(auth, &a) == nil && a.Token == "secret" {
			return nil
		}
		return &server.ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
	})
	t.basic(admin)
}

// basic is what every namespace does: auth on connect, message →
// message-back.
func (t *Target) basic(ns *server.Namespace) {
	ns.OnConnect(func(s *server.Socket) {
		args := make([]byte, 0, len(s.Auth())+2)
		args = append(append(append(args, '['), s.Auth()...), ']')
		_ = s.EmitRaw("auth", args, nil)
	})
	t.on(ns, "message", func(s *server.Socket, m *server.Message) { _ = s.EmitRaw("message-back", m.Args, m.Buffers) })
}

// on registers h behind DropRatio and the reply delay.
func (t *Target) on(ns *server.Namespace, event string, h server.Handler) {
	ns.On(event, func(s *server.Socket, m *server.Message) {
		if t.drop() {
			return
		}
		t.reply(s, m, h)
	})
}

// serverAck: (event, ...rest) → emit event with rest asking for an ack,
// wait up to 5 s, then ack the caller with all the answer's args, or with
// {error: "operation has timed out"} (Node's timeout message).
func (t *Target) serverAck(s *server.Socket, m *server.Message) {
	event, rest, err := splitName(m.Args)
	if err != nil {
		ackResult(m, err)
		return
	}
	req := m
	if m.WantsAck() {
		req = m.Clone() // answered later, from the ack callback
	}
	err = s.EmitRawWithAck(event, rest, m.Buffers, func(a *server.Message, err error) {
		if !req.WantsAck() {
			return
		}
		if err != nil {
			_ = req.Ack(map[string]string{"error": "operation has timed out"})
			return
		}
		_ = req.AckRaw(a.Args, a.Buffers)
	}, 5*time.Second)
	if err != nil {
		ackResult(req, err)
	}
}

// requestAck is the server-ack extension of docs/conformance.md §1:
// request-ack (args…) → emit ack-request with the same args asking for an
// ack, without a timeout; the answer (answer…) is emitted back as
// ack-response (answer…). An ack the client asks for on request-ack is not
// answered, as in the Node contract peers.
func requestAck(s *server.Socket, m *server.Message) {
	_ = s.EmitRawWithAck("ack-request", m.Args, m.Buffers, func(a *server.Message, err error) {
		if err != nil {
			return // the socket left
		}
		if len(a.Buffers) > 0 {
			a = a.Clone() // queued by reference until written
		}
		_ = s.EmitRaw("ack-response", a.Args, a.Buffers)
	}, 0)
}

// push: (event, intervalMs, count[, ack]) → acks "ok", then emits event
// count times, one every intervalMs (all at once when 0), each with two
// arguments: the sequence number (1..count) and the send time in Unix
// milliseconds, so a client can measure one-way delivery and loss.
// Pushing stops when the socket leaves.
func (t *Target) push(s *server.Socket, m *server.Message) {
	var event string
	var interval, count float64
	if err := m.Decode(&event, &interval, &count); err != nil || event == "" || count < 0 {
		ackResult(m, errMsg("push wants (event, intervalMs, count)"))
		return
	}
	_ = ackOK(m)
	every := time.Duration(interval * float64(time.Millisecond))
	n := int(count)
	go func() {
		var tick *time.Ticker
		if every > 0 {
			tick = time.NewTicker(every)
			defer tick.Stop()
		}
		buf := make([]byte, 0, 48)
		for seq := 1; seq <= n; seq++ {
			if tick != nil {
				select {
				case <-tick.C:
				case <-s.Done():
					return
				}
			}
			if w := t.wait(); w > 0 {
				time.Sleep(w)
			}
			buf = append(buf[:0], '[')
			buf = strconv.AppendInt(buf, int64(seq), 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, time.Now().UnixMilli(), 10)
			buf = append(buf, ']')
			if s.EmitRaw(event, buf, nil) != nil {
				return
			}
		}
	}()
}
