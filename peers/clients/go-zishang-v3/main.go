// Command go-zishang-v3-client is the client peer (docs/conformance.md §6, the client contract)
// for github.com/zishang520/socket.io/clients/socket/v3, a port of the JavaScript client
// (Manager, Socket, OnAny, acks as func([]any, error)). A nested module, so the library's
// dependencies never enter siokit's go.mod.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/zishang520/socket.io/clients/engine/v3/transports"
	"github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-zishang-v3 client: "+format+"\n", args...)
}

// fail is for what the environment asks and this library cannot do: exit 2, as the contract says.
func fail(format string, args ...any) {
	logf(format, args...)
	os.Exit(2)
}

// command is the one argument of every sioconform:* command; each uses some of the fields.
type command struct {
	Event string `json:"event"`
	Args  []any  `json:"args"`
	Ack   bool   `json:"ack"`
	Nsp   string `json:"nsp"`
	Exit  bool   `json:"exit"`
}

type peer struct {
	manager *socket.Manager
	auth    map[string]any

	mu      sync.Mutex
	sockets map[string]*socket.Socket
	answers map[string][]any // "nsp\x00event" → ack arguments
	exiting bool
}

func main() {
	url := os.Getenv("SIOCONFORM_URL")
	if url == "" {
		fail("SIOCONFORM_URL is not set")
	}
	// DEBUG=1: the library's own debug log, on stderr.
	log.DEBUG.Store(os.Getenv("DEBUG") != "")
	// Everything not set here is the library's default (reconnection on, its backoff).
	opts := socket.DefaultManagerOptions()
	switch t := os.Getenv("SIOCONFORM_TRANSPORT"); t {
	case "polling":
		opts.SetTransports(types.NewSet(transports.Polling))
	case "websocket":
		opts.SetTransports(types.NewSet(transports.WebSocket))
	case "upgrade", "":
		// The default list: polling first, then the upgrade.
	default:
		fail("unknown SIOCONFORM_TRANSPORT=%q", t)
	}
	if v := os.Getenv("SIOCONFORM_EIO"); v != "" && v != "4" {
		fail("zishang520/socket.io v3 speaks only Engine.IO v4, not SIOCONFORM_EIO=%s", v)
	}
	p := &peer{sockets: map[string]*socket.Socket{}, answers: map[string][]any{}}
	if a := os.Getenv("SIOCONFORM_AUTH"); a != "" {
		if err := json.Unmarshal([]byte(a), &p.auth); err != nil || p.auth == nil {
			fail("SIOCONFORM_AUTH must be a JSON object: %v", err)
		}
	}
	nsp := os.Getenv("SIOCONFORM_NAMESPACE")
	if nsp == "" {
		nsp = "/"
	}
	// The reconnection settings a case may set (docs/conformance.md §6.1), in ms as the library takes them.
	for name, set := range map[string]func(float64){
		"SIOCONFORM_RECONNECTION_DELAY":     opts.SetReconnectionDelay,
		"SIOCONFORM_RECONNECTION_DELAY_MAX": opts.SetReconnectionDelayMax,
		"SIOCONFORM_RANDOMIZATION_FACTOR":   opts.SetRandomizationFactor,
	} {
		if v, ok := os.LookupEnv(name); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				fail("%s=%q is not a number", name, v)
			}
			set(f)
		}
	}
	// With autoConnect the Manager opens on its own goroutine as soon as it
	// is made, and a Socket made meanwhile checks "already open?" on this
	// one, racing it: two CONNECTs, or none (about one start in 18 of the
	// malformed cases). Opening from the Socket's Connect, once its
	// listeners are in place, keeps the wire the library's own; the library
	// still loses a first CONNECT, or sends two, about once in fifty starts
	// under load (Manager.Open adds its "open" listener after the engine's
	// reader has started: peers/README.md; a case lost that way runs again
	// alone: TestClientSuite, startRace in internal/testpeer).
	opts.SetAutoConnect(false)
	p.manager = socket.NewManager(url, opts)
	p.manager.On("reconnect_attempt", func(a ...any) { logf("reconnect attempt %v", a) })
	p.join(nsp)
	// A closed stdin means sioconform is gone: never outlive it.
	_, _ = io.Copy(io.Discard, os.Stdin)
	p.exit()
}

// join opens namespace nsp on the manager (one Engine.IO session for all) with the commands wired.
func (p *peer) join(nsp string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sockets[nsp]; ok {
		if !s.Connected() {
			s.Connect()
		}
		return
	}
	sopts := socket.DefaultSocketOptions()
	if p.auth != nil {
		sopts.SetAuth(p.auth)
	}
	s := p.manager.Socket(nsp, sopts)
	p.sockets[nsp] = s
	s.OnAny(func(args ...any) { p.onEvent(s, nsp, args) })
	s.On("connect", func(...any) { logf("%s: connect %s", nsp, s.Id()) })
	s.On("connect_error", func(a ...any) { logf("%s: connect_error %v", nsp, a) })
	s.On("disconnect", func(a ...any) { logf("%s: disconnect %v", nsp, a) })
	s.Connect()
}

// onEvent gets the event name, its arguments and, last, the ack function if the server asked.
func (p *peer) onEvent(s *socket.Socket, nsp string, args []any) {
	if len(args) == 0 {
		return
	}
	event, _ := args[0].(string)
	args = args[1:]
	var ack func([]any, error)
	if n := len(args); n > 0 {
		if f, ok := args[n-1].(func([]any, error)); ok {
			ack, args = f, args[:n-1]
		}
	}
	switch event {
	case "sioconform:emit", "sioconform:answer", "sioconform:join", "sioconform:disconnect":
		p.command(s, nsp, event, args, ack)
		return
	}
	_ = s.Emit("sioconform:received", map[string]any{"event": event, "args": toBin(args), "ack": ack != nil})
	if ack == nil {
		return
	}
	p.mu.Lock()
	answer, ok := p.answers[nsp+"\x00"+event]
	p.mu.Unlock()
	if ok {
		ack(answer, nil)
	}
}

func (p *peer) command(s *socket.Socket, nsp, event string, args []any, ack func([]any, error)) {
	var c command
	if len(args) > 0 {
		// The library hands over decoded JSON (map[string]any); round-trip it into the struct.
		b, _ := json.Marshal(args[0])
		if err := json.Unmarshal(b, &c); err != nil {
			logf("%s: command %s: bad argument: %v", nsp, event, err)
		}
	}
	cargs, err := fromBin(c.Args)
	if err != nil {
		logf("%s: command %s: %v", nsp, event, err)
	}
	switch event {
	case "sioconform:emit":
		if c.Ack {
			name := c.Event
			cargs = append(cargs, func(reply []any, err error) {
				if err != nil {
					logf("%s: ack of %s: %v", nsp, name, err)
					return
				}
				_ = s.Emit("sioconform:ack", map[string]any{"event": name, "args": toBin(reply)})
			})
		}
		if err := s.Emit(c.Event, cargs...); err != nil {
			logf("%s: emit %s: %v", nsp, c.Event, err)
		}
	case "sioconform:answer":
		p.mu.Lock()
		p.answers[nsp+"\x00"+c.Event] = cargs
		p.mu.Unlock()
	case "sioconform:join":
		p.join(c.Nsp)
	case "sioconform:disconnect":
		if ack != nil { // acked first: afterwards the namespace is gone
			ack(nil, nil)
			ack = nil
		}
		s.Disconnect()
		if c.Exit {
			go p.exit()
		}
	}
	if ack != nil {
		ack(nil, nil)
	}
}

// exit leaves every namespace (the library closes the Engine.IO session when the last one is
// gone) and exits 0 once the manager reports the close; the short grace lets the close's last
// HTTP request or WebSocket frame leave before the process does.
func (p *peer) exit() {
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	p.exiting = true
	p.manager.SetReconnection(false)
	closed := make(chan struct{})
	var once sync.Once
	p.manager.On("close", func(...any) { once.Do(func() { close(closed) }) })
	for _, s := range p.sockets {
		if s.Connected() {
			s.Disconnect()
		}
	}
	p.mu.Unlock()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
	}
	time.Sleep(200 * time.Millisecond)
	os.Exit(0)
}

// fromBin turns {"$bin": base64} into []byte, which the library sends as an attachment.
func fromBin(args []any) ([]any, error) {
	var err error
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			if b, ok := x["$bin"].(string); ok && len(x) == 1 {
				d, e := base64.StdEncoding.DecodeString(b)
				if e != nil {
					err = e
				}
				return d
			}
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	out := make([]any, len(args))
	for i := range args {
		out[i] = walk(args[i])
	}
	return out, err
}

// toBin is the reverse for reports: the library's binary values become {"$bin": base64}.
func toBin(args []any) []any {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case []byte:
			return map[string]string{"$bin": base64.StdEncoding.EncodeToString(x)}
		case types.BufferInterface:
			return map[string]string{"$bin": base64.StdEncoding.EncodeToString(x.Bytes())}
		case []any:
			out := make([]any, len(x))
			for i := range x {
				out[i] = walk(x[i])
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(x))
			for k := range x {
				out[k] = walk(x[k])
			}
			return out
		}
		return v
	}
	out := make([]any, len(args))
	for i := range args {
		out[i] = walk(args[i])
	}
	return out
}
