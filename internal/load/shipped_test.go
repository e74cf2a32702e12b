package load

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// The shipped scenarios, each run scaled down (a few clients, ~2 s)
// against the built-in target and against the Node socket.io 4 peer, with
// the server's own counters compared to sioload's: every message the
// server counted must have been counted exactly once by sioload.

// variant loads a shipped scenario with textual replacements (old, new
// pairs) applied to the file, then scales it down.
func variant(t *testing.T, name string, clients int, hold time.Duration, repl ...string) *scenarios.Scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(src, repl[i]) {
			t.Fatalf("%s: %q not found", name, repl[i])
		}
		src = strings.ReplaceAll(src, repl[i], repl[i+1])
	}
	s, err := scenarios.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s.Load.Clients, s.Load.Ramp, s.Load.Hold, s.Load.Grace = clients, 300*time.Millisecond, hold, 3*time.Second
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// wire is what a server counted: Socket.IO events and acks in and out.
// The built-in target does not count events out: Out is its Engine.IO
// packets out instead (see checkBuiltin).
type wire struct {
	EventsIn  int64 `json:"eventsIn"`
	EventsOut int64 `json:"eventsOut"`
	AcksIn    int64 `json:"acksIn"`
	AcksOut   int64 `json:"acksOut"`
}

func (w wire) sub(o wire) wire {
	return wire{w.EventsIn - o.EventsIn, w.EventsOut - o.EventsOut, w.AcksIn - o.AcksIn, w.AcksOut - o.AcksOut}
}

// nodeCounter reads the Node peer's wire counters through its stats
// event (peers/README.md), over one connection kept for the test so that
// its own handshake and auth event fall before the baseline.
type nodeCounter struct{ sock *client.Socket }

func newNodeCounter(t *testing.T, url string) *nodeCounter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, url, nil, &client.Options{Mode: client.WebSocketOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Conn().Close() })
	n := &nodeCounter{s}
	n.read(t) // the auth event of this connection is out before any baseline
	return n
}

func (n *nodeCounter) read(t *testing.T) wire {
	t.Helper()
	return askStats[wire](t, n.sock, 5*time.Second)
}

type shippedCase struct {
	file    string
	clients int
	hold    time.Duration
	repl    []string // applied for both targets
	node    []string // applied for the Node peer only
	// exact reports whether the run breaks no connection: then every
	// counter must match exactly (reconnects allow in-flight losses).
	exact bool
	// nodeOnly: the case needs the Node peer (its /csr/ path).
	nodeOnly bool
	check    func(t *testing.T, s *scenarios.Scenario, res *metrics.Result)
}

var shippedCases = []shippedCase{
	// The cases whose counts are exact (a loop count, a number of pushes)
	// hold 4 s for ~1 s of work: the margin a busy machine needs, since
	// the hold, not the work, ends the run.
	{file: "echo.yaml", clients: 4, hold: 4 * time.Second, exact: true,
		repl: []string{"duration: 25s", "count: 10", "think: 100ms", "think: 50ms"},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			want := int64(4 * 10)
			eq(t, "messages_sent", res.Counters["messages_sent"], want)
			eq(t, "echo received", res.Events["echo"], want)
			eq(t, "event samples", res.Latency("event").TotalCount(), want)
			eq(t, "lost", res.Counters["lost"], 0)
			eq(t, "duplicated", res.Counters["duplicated"], 0)
		}},
	{file: "ack.yaml", clients: 4, hold: 1500 * time.Millisecond, exact: true,
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "acks", res.Counters["acks"], res.Counters["messages_sent"])
			eq(t, "ack samples", res.Latency("ack").TotalCount(), res.Counters["acks"])
		}},
	// Two broadcasts per client (a loop, not every: 1s until the load
	// ends: a broadcast due at the very end was counted as sent and lost
	// in the close, and how many fit in the hold is the machine's).
	{file: "chat.yaml", clients: 4, hold: 4 * time.Second, exact: true,
		repl: []string{`  - broadcast: {room: lobby, event: chat, args: ["{{.Payload 32}}"], every: 1s}`,
			"  - loop:\n      count: 2\n      steps:\n        - broadcast: {room: lobby, event: chat, args: [\"{{.Payload 32}}\"]}\n        - think: 500ms"},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			// Each broadcast reaches every member at its send time; a
			// client that is slow to join misses the first broadcasts of
			// the others, so fan-out is at most 4 per broadcast.
			b := res.Counters["broadcasts"]
			eq(t, "broadcasts", b, 4*2)
			if f := res.Counters["fanout_received"]; f > 4*b {
				t.Errorf("fanout_received = %d, want <= %d (4 receivers per broadcast)", f, 4*b)
			}
			eq(t, "chat received", res.Events["chat"], res.Counters["fanout_received"])
			reach := res.Latency("fanout_reach")
			eq(t, "reach samples", reach.TotalCount(), b)
			if reach.Min() != 1000 || reach.Max() != 1000 {
				t.Errorf("reach min %d max %d per mille, want all 1000", reach.Min(), reach.Max())
			}
			for _, m := range []string{"fanout_first", "fanout_median", "fanout_last"} {
				eq(t, m+" samples", res.Latency(m).TotalCount(), b)
			}
			if res.Latency("fanout_first").Max() > res.Latency("fanout_last").Max() {
				t.Error("first receiver later than last")
			}
		}},
	{file: "push.yaml", clients: 3, hold: 4 * time.Second, exact: true,
		repl: []string{"args: [tick, 100, 200]", "args: [tick, 20, 50]", "count: 200", "count: 50"},
		// The Node peer has no push handler (peers/README.md); its /csr/
		// path's tick(n, intervalMs) pushes a counter instead.
		node: []string{"transport: websocket", "transport: websocket\npath: /csr/", "event: push, args: [tick, 20, 50]", "event: tick, args: [50, 20]"},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "tick received", res.Events["tick"], 3*50)
			eq(t, "acks", res.Counters["acks"], 3)
		}},
	{file: "transports.yaml", clients: 3, hold: 1500 * time.Millisecond, exact: true,
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "acks", res.Counters["acks"], res.Counters["messages_sent"])
		}},
	{file: "transports.yaml", clients: 3, hold: 1500 * time.Millisecond, exact: true,
		repl: []string{"transport: polling", "transport: websocket"},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "acks", res.Counters["acks"], res.Counters["messages_sent"])
		}},
	{file: "binary.yaml", clients: 3, hold: 1500 * time.Millisecond, exact: true,
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			// The load may end between an iteration's emit_ack and its
			// emit: count echoes sent, not iterations.
			echoes := res.Counters["messages_sent"] - res.Counters["acks"]
			if echoes < res.Counters["acks"]-3 || echoes > res.Counters["acks"] {
				t.Errorf("acks %d, echoes sent %d: want one echo per acked emit (±1 per client)", res.Counters["acks"], echoes)
			}
			eq(t, "echo received", res.Events["echo"], echoes)
			if res.Counters["bytes_received"] < res.Counters["acks"]*(4096+1024) {
				t.Errorf("bytes_received %d: the attachments did not come back", res.Counters["bytes_received"])
			}
		}},
	{file: "namespaces.yaml", clients: 3, hold: 4 * time.Second, exact: true,
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "connects", res.Latency("connect").TotalCount(), 3*3)
			eq(t, "message-back", res.Events["message-back"], res.Counters["messages_sent"])
			eq(t, "auth", res.Events["auth"], 3*3)
		}},
	{file: "reconnect-storm.yaml", clients: 4, hold: 2500 * time.Millisecond,
		repl: []string{"at: 5s, drop: 0.5", "at: 1s, drop: 0.5", "at: 12s, restart_target: true, down: 1s", "at: 1500ms, restart_target: true, down: 300ms"},
		// Only the built-in target can be restarted from the runner.
		node: []string{"  - {at: 1500ms, restart_target: true, down: 300ms}\n", ""},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			drops := res.Counters["dropped"]
			eq(t, "recovered", res.Counters["recovered"], 0)
			if drops != 2 {
				t.Errorf("dropped = %d, want 2 (half of 4)", drops)
			}
			lost := drops
			if len(s.Faults) > 1 {
				lost += 4 // the restart ends every session
			}
			eq(t, "reconnects", res.Counters["reconnects"], lost)
			eq(t, "reconnect samples", res.Latency("reconnect").TotalCount(), lost)
			eq(t, "reconnect_failed", res.Counters["reconnect_failed"], 0)
			eq(t, "duplicated", res.Counters["duplicated"], 0)
			// At most the one echo in flight per broken session is lost.
			if l := res.Counters["lost"]; l > lost {
				t.Errorf("lost = %d, want <= %d (one in flight per broken session)", l, lost)
			}
		}},
	// Connection state recovery on: the Node peer's /csr/ path restores
	// every dropped session (same sid, rooms, missed events).
	{file: "reconnect-storm.yaml", clients: 4, hold: 2500 * time.Millisecond, nodeOnly: true,
		repl: []string{"at: 5s, drop: 0.5", "at: 1s, drop: 0.5", "  - {at: 12s, restart_target: true, down: 1s}\n", "",
			"transport: websocket", "transport: websocket\npath: /csr/"},
		check: func(t *testing.T, s *scenarios.Scenario, res *metrics.Result) {
			eq(t, "dropped", res.Counters["dropped"], 2)
			eq(t, "reconnects", res.Counters["reconnects"], 2)
			eq(t, "recovered", res.Counters["recovered"], 2)
			eq(t, "duplicated", res.Counters["duplicated"], 0)
			if l := res.Counters["lost"]; l > 2 {
				t.Errorf("lost = %d, want <= 2", l)
			}
		}},
}

// fastReconnect shortens the reference backoff (1 s doubling to 5 s) so
// that a 2 s test sees every reconnect; the policy itself is the client's.
var fastReconnect = client.Reconnect{Delay: 100 * time.Millisecond, DelayMax: 400 * time.Millisecond}

func eq(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func caseName(c shippedCase) string {
	n := strings.TrimSuffix(c.file, ".yaml")
	for i := 0; i+1 < len(c.repl); i += 2 {
		if strings.Contains(c.repl[i+1], "path: /csr/") {
			n += "-csr"
		} else if strings.HasPrefix(c.repl[i], "transport:") {
			n += "-" + strings.TrimPrefix(c.repl[i+1], "transport: ")
		}
	}
	return n
}

func TestShippedScenariosBuiltin(t *testing.T) {
	t.Parallel()
	for _, c := range shippedCases {
		if c.nodeOnly {
			continue
		}
		t.Run(caseName(c), func(t *testing.T) {
			t.Parallel()
			b := startBuiltin(t, target.Options{})
			s := variant(t, c.file, c.clients, c.hold, c.repl...)
			res, err := Run(context.Background(), s, Options{Target: b.URL, Restart: b.Restart, Reconnect: fastReconnect})
			if err != nil {
				t.Fatal(err)
			}
			st := b.Stats()
			t.Logf("server %+v\ncounters %v errors %v disconnects %v", st, res.Counters, res.Errors, res.Disconnects)
			c.check(t, s, res)
			if !c.exact {
				// Across broken connections a message in flight may be
				// lost either way, but never counted twice.
				if st.EventsIn > res.Counters["messages_sent"] {
					t.Errorf("server got %d events, sioload sent %d", st.EventsIn, res.Counters["messages_sent"])
				}
				return
			}
			eq(t, "errors", res.TotalErrors(), 0)
			eq(t, "server events in vs messages_sent", st.EventsIn, res.Counters["messages_sent"])
			eq(t, "server acks in", st.AcksIn, 0)
			// Every Engine.IO packet the server wrote was read once; a
			// polling handshake's open packet is the HTTP response, which
			// the server does not count but the client does.
			handshakes := int64(0)
			if s.Transport != scenarios.TransportWebSocket {
				handshakes = res.Latency("handshake").TotalCount()
			}
			eq(t, "server packets out vs packets_received", st.MessagesOut, res.Counters["packets_received"]-handshakes)
			eq(t, "server sessions", st.SessionsTotal, res.Latency("handshake").TotalCount())
			// Closing is asynchronous on the server side: give it a moment.
			for end := time.Now().Add(10 * time.Second); b.Stats().Sessions > 0 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			eq(t, "sessions open at the end", b.Stats().Sessions, 0)
		})
	}
}

func TestShippedScenariosNode(t *testing.T) {
	t.Parallel()
	for _, c := range shippedCases {
		t.Run(caseName(c), func(t *testing.T) {
			t.Parallel()
			peer := testpeer.Start(t, "node4")
			nc := newNodeCounter(t, peer.URL)
			before := nc.read(t)
			s := variant(t, c.file, c.clients, c.hold, append(append([]string(nil), c.repl...), c.node...)...)
			res, err := Run(context.Background(), s, Options{Target: peer.URL, Reconnect: fastReconnect})
			if err != nil {
				t.Fatal(err)
			}
			// The peer may still be writing what the clients' last
			// packets asked for; they are closed, so nothing more comes.
			time.Sleep(100 * time.Millisecond)
			w := nc.read(t).sub(before)
			t.Logf("server %+v\ncounters %v errors %v disconnects %v", w, res.Counters, res.Errors, res.Disconnects)
			c.check(t, s, res)
			if !c.exact {
				if w.EventsIn > res.Counters["messages_sent"] || w.EventsOut < res.Counters["messages_received"] {
					t.Errorf("server in %d / out %d, sioload sent %d / received %d", w.EventsIn, w.EventsOut, res.Counters["messages_sent"], res.Counters["messages_received"])
				}
				return
			}
			eq(t, "errors", res.TotalErrors(), 0)
			eq(t, "server events in vs messages_sent", w.EventsIn, res.Counters["messages_sent"])
			eq(t, "server events out vs messages_received", w.EventsOut, res.Counters["messages_received"])
			eq(t, "server acks out vs acks", w.AcksOut, res.Counters["acks"])
			eq(t, "server acks in", w.AcksIn, 0)
		})
	}
}
