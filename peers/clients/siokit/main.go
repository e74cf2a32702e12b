// Command siokit-client is the client peer (docs/conformance.md §6, the client contract) for
// siokit's own client, protocol/client. It lives in the siokit module, so it always tests the
// client of the tree it is built from: peers/install.sh clients builds it into bin/.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "siokit client: "+format+"\n", args...)
}

// fail is for what the environment asks and this program cannot do: exit 2, as the contract says.
func fail(format string, args ...any) {
	logf(format, args...)
	os.Exit(2)
}

// command is the one argument of every sioconform:* command; each uses some of the fields.
type command struct {
	Event string          `json:"event"`
	Args  json.RawMessage `json:"args"`
	Ack   bool            `json:"ack"`
	Nsp   string          `json:"nsp"`
	Exit  bool            `json:"exit"`
}

// peer is the program's state: one Conn (one Engine.IO session) and its namespaces.
type peer struct {
	conn *client.Conn
	auth any

	mu      sync.Mutex
	sockets map[string]*client.Socket
	answers map[string][]any // "nsp\x00event" → ack arguments (sioconform:answer)
	exiting bool
}

func main() {
	url := os.Getenv("SIOCONFORM_URL")
	if url == "" {
		fail("SIOCONFORM_URL is not set")
	}
	opts := &client.Options{}
	switch t := os.Getenv("SIOCONFORM_TRANSPORT"); t {
	case "polling":
		opts.Mode = client.PollingOnly
	case "websocket":
		opts.Mode = client.WebSocketOnly
	case "upgrade", "":
		opts.Mode = client.PollingThenUpgrade
	default:
		fail("unknown SIOCONFORM_TRANSPORT=%q", t)
	}
	switch v := os.Getenv("SIOCONFORM_EIO"); v {
	case "4", "":
		opts.EIO = engineio.V4
	case "3":
		opts.EIO = engineio.V3
	default:
		fail("unknown SIOCONFORM_EIO=%q", v)
	}
	p := &peer{sockets: map[string]*client.Socket{}, answers: map[string][]any{}}
	if a := os.Getenv("SIOCONFORM_AUTH"); a != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(a), &m); err != nil || m == nil {
			fail("SIOCONFORM_AUTH must be a JSON object: %v", err)
		}
		p.auth = m
	}
	nsp := os.Getenv("SIOCONFORM_NAMESPACE")
	if nsp == "" {
		nsp = "/"
	}
	// The reconnection settings a case may set (docs/conformance.md §6.1); the rest stays at
	// protocol/client's defaults.
	for name, set := range map[string]func(float64){
		"SIOCONFORM_RECONNECTION_DELAY":     func(f float64) { opts.Reconnect.Delay = time.Duration(f * float64(time.Millisecond)) },
		"SIOCONFORM_RECONNECTION_DELAY_MAX": func(f float64) { opts.Reconnect.DelayMax = time.Duration(f * float64(time.Millisecond)) },
		"SIOCONFORM_RANDOMIZATION_FACTOR": func(f float64) {
			if opts.Reconnect.Randomization = f; f == 0 {
				opts.Reconnect.Randomization = -1 // 0 in Options means the default
			}
		},
	} {
		if v, ok := os.LookupEnv(name); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				fail("%s=%q is not a number", name, v)
			}
			set(f)
		}
	}
	if f := os.Getenv("SIOKIT_FAULT"); f != "" {
		// After the case's settings: a fault overrides them.
		url = applyFault(f, url, opts) // one rule broken on purpose: fault.go
	}
	conn, err := client.New(url, opts)
	if err != nil {
		fail("%v", err)
	}
	p.conn = conn
	go func() {
		// A closed stdin means sioconform is gone: never outlive it.
		_, _ = io.Copy(io.Discard, os.Stdin)
		p.exit()
	}()
	// Handlers first: over Socket.IO 4 the server joins "/" by itself and may send events at
	// once, before Open returns.
	p.socket(nsp)
	// Everything else is protocol/client's defaults (reconnection on, reference backoff).
	if err := conn.Open(context.Background()); err != nil {
		// protocol/client does not retry a failed first open; the contract says stay alive, so
		// sioconform sees that nothing more comes.
		logf("open: %v", err)
		select {}
	}
	p.join(nsp)
	select {}
}

// join connects namespace nsp on the session and wires the commands to it. It blocks until the
// server answers, so handlers call it on a goroutine of their own (they run on the reader).
func (p *peer) join(nsp string) {
	s := p.socket(nsp)
	if s.Connected() {
		return
	}
	if err := s.Connect(context.Background(), p.auth); err != nil {
		logf("%s: connect: %v", nsp, err)
		return
	}
	logf("%s: connect %s", nsp, s.ID())
}

// socket returns the socket of nsp, created with the commands wired on first use.
func (p *peer) socket(nsp string) *client.Socket {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sockets[nsp]
	if !ok {
		s = p.conn.Socket(nsp)
		p.sockets[nsp] = s
		s.OnAny(func(m *client.Message) { p.onEvent(s, m) })
	}
	return s
}

// onEvent runs every incoming event: a command, or an event to report (and answer).
func (p *peer) onEvent(s *client.Socket, m *client.Message) {
	nsp := s.Namespace()
	var c command
	switch m.Event {
	case "sioconform:emit", "sioconform:answer", "sioconform:join", "sioconform:disconnect":
		var args []json.RawMessage
		if err := json.Unmarshal(m.Args, &args); err != nil || len(args) == 0 || json.Unmarshal(args[0], &c) != nil {
			logf("%s: command %s: bad argument %s", nsp, m.Event, m.Args)
		}
	default:
		p.report(s, m)
		return
	}
	switch m.Event {
	case "sioconform:emit":
		args, err := decodeArgs(c.Args)
		if err != nil {
			logf("%s: emit %s: %v", nsp, c.Event, err)
			break
		}
		if !c.Ack {
			_ = s.Emit(c.Event, args...)
			break
		}
		data, bufs, err := socketio.AppendArgs(nil, args)
		if err != nil {
			logf("%s: emit %s: %v", nsp, c.Event, err)
			break
		}
		event := c.Event
		_ = s.Send(client.Outgoing{Event: event, Args: data, Buffers: bufs, Ack: func(a *client.Message, err error) {
			if err != nil {
				logf("%s: ack of %s: %v", nsp, event, err)
				return
			}
			_ = s.Emit("sioconform:ack", map[string]any{"event": event, "args": reportArgs(a.Args, a.Buffers)})
		}})
	case "sioconform:answer":
		args, err := decodeArgs(c.Args)
		if err != nil {
			logf("%s: answer %s: %v", nsp, c.Event, err)
			break
		}
		p.mu.Lock()
		p.answers[nsp+"\x00"+c.Event] = args
		p.mu.Unlock()
	case "sioconform:join":
		go p.join(c.Nsp)
	case "sioconform:disconnect":
		if m.ID >= 0 { // acked first: afterwards the namespace is gone
			_ = m.Ack()
			m.ID = -1
		}
		_ = s.Disconnect()
		if c.Exit {
			go p.exit()
		}
	}
	if m.ID >= 0 {
		_ = m.Ack()
	}
}

// report emits sioconform:received for m, then acks it with the installed answer, if any.
func (p *peer) report(s *client.Socket, m *client.Message) {
	_ = s.Emit("sioconform:received", map[string]any{"event": m.Event, "args": reportArgs(m.Args, m.Buffers), "ack": m.ID >= 0})
	if m.ID < 0 {
		return
	}
	p.mu.Lock()
	answer, ok := p.answers[s.Namespace()+"\x00"+m.Event]
	p.mu.Unlock()
	if ok {
		_ = m.Ack(answer...)
	}
}

// exit disconnects every namespace, closes the session (Close flushes the DISCONNECT packets)
// and exits 0.
func (p *peer) exit() {
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	p.exiting = true
	p.mu.Unlock()
	_ = p.conn.Close()
	os.Exit(0)
}

// decodeArgs turns a command's JSON args into Emit arguments: {"$bin": base64} becomes []byte,
// which protocol/client sends as a binary attachment.
func decodeArgs(raw json.RawMessage) ([]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var args []any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	for i := range args {
		v, err := unbin(args[i])
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

func unbin(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		for i := range x {
			y, err := unbin(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = y
		}
	case map[string]any:
		if b, ok := x["$bin"].(string); ok && len(x) == 1 {
			return base64.StdEncoding.DecodeString(b)
		}
		for k := range x {
			y, err := unbin(x[k])
			if err != nil {
				return nil, err
			}
			x[k] = y
		}
	}
	return v, nil
}

// reportArgs decodes received arguments for a report: attachments become {"$bin": base64}.
func reportArgs(data []byte, bufs [][]byte) []any {
	var args []any
	if err := socketio.Unmarshal(data, bufs, &args); err != nil {
		logf("undecodable arguments %s: %v", data, err)
		return []any{}
	}
	if args == nil {
		args = []any{}
	}
	for i := range args {
		args[i] = tobin(args[i])
	}
	return args
}

func tobin(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]string{"$bin": base64.StdEncoding.EncodeToString(x)}
	case []any:
		for i := range x {
			x[i] = tobin(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = tobin(x[k])
		}
	}
	return v
}
