package conform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

// clientExpected is what each client peer gets from the client suite:
// every case not listed passes. Each entry says why; each non-pass was
// checked in the library's source (peers/README.md, "Client peers").
var clientExpected = map[string]map[string]conform.Verdict{
	"siokit-client": {
		// A documented choice (docs/conformance.md §6.7, "siokit's own
		// client"): any packet from the server proves the connection
		// alive, not only a PING (protocol/client's read watchdog).
		"client.eio4.heartbeat.messages-no-ping": conform.Warn,
	},
	"node4-client": {},
	"deno-client":  {},
	"bun-client":   {},
	"node2-client": {}, // socket.io-client 2.5.0: EIO3 only, so the eio4 cases are n/a
	"python-client": {
		// python-socketio 5.7.2 over WebSocket: disconnect() closes the
		// socket before its write loop has sent the DISCONNECT
		// (peers/README.md, "Client peers", python-client (2)).
		"client.sio5.disconnect.client": conform.Fail,
		// python-engineio 4.3.4 knows no maxPayload: its write loop
		// POSTs every queued packet in one payload.
		"client.eio4.polling.max-payload": conform.Warn,
		// A close packet is disconnect(abort=True): the state is then
		// "disconnected", so python-socketio does not reconnect.
		"client.eio4.close.packet-polling": conform.Warn,
		// No ping deadline over polling: only the GET's timeout,
		// max(pingInterval, pingTimeout) + 5 s.
		"client.eio4.heartbeat.ping-timeout-polling": conform.Warn,
		"client.eio4.heartbeat.messages-no-ping":     conform.Warn,
		// A packet it cannot decode is logged and dropped (engineio's
		// "unexpected packet", socketio's handler task failing): the
		// session carries on, no close, no reconnect. Closing is a MUST
		// for an EVENT that holds no array.
		"client.eio4.malformed.unknown-type-closes":        conform.Warn,
		"client.sio5.malformed.bad-json-closes":            conform.Fail,
		"client.sio5.malformed.bad-json-reconnects":        conform.Warn,
		"client.sio5.malformed.unknown-type-closes":        conform.Warn,
		"client.sio5.malformed.event-not-array-closes":     conform.Fail,
		"client.sio5.malformed.event-not-array-reconnects": conform.Warn,
		"client.sio5.malformed.bad-attachment-closes":      conform.Warn,
		// The jitter is absolute: delay + randomization_factor·(2r−1)
		// seconds (client._handle_reconnect), ±0.5 s on a 20 ms delay;
		// the bounds let it pass by luck about once in 300 runs (grows)
		// and 2000 (cap) (internal/conform/cases/client-sio5-reconnect.yaml).
		"client.sio5.reconnect.backoff-grows": conform.Warn,
		"client.sio5.reconnect.backoff-cap":   conform.Warn,
		// 5.7.2 has no connection state recovery: CONNECT carries only auth.
		"client.sio5.csr.pid-offset": conform.Warn,
	},
	"go-zishang-v3-client": zishangExpected,
}

// clientRacy lists, per client, the cases whose verdict depends on a race
// in the library, with the verdicts seen; any of them is accepted.
var clientRacy = map[string]map[string][]conform.Verdict{
	"go-zishang-v3-client": zishangRacy,
}

// clientLostConnect lists the clients whose library now and then sends no
// CONNECT after the Engine.IO open, in any case (zishang v3: its engine
// and manager goroutines race over the first write; about one case in a
// hundred). A case that failed only at that first CONNECT step, where it
// was to pass, is logged, not failed, up to lostConnectMax per run: more
// would be a client that lost its CONNECT for good.
var clientLostConnect = map[string]bool{"go-zishang-v3-client": true}

const lostConnectMax = 3

// shellCmd is the --cmd line that runs a client peer: its folder, then its
// argv, quoted for sh.
func shellCmd(spec *testpeer.ClientSpec) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	parts := make([]string, len(spec.Argv))
	for i, a := range spec.Argv {
		parts[i] = q(a)
	}
	return "cd " + q(spec.Dir) + " && exec " + strings.Join(parts, " ")
}

// TestClientSuite plays the whole client suite (both Engine.IO revisions)
// against siokit's own client, socket.io-client 4.8.4 on Node and 2.5.0,
// and python-socketio, and asserts every verdict.
func TestClientSuite(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	sel := conform.SelectClient(cases, 0, "", nil, nil)
	if len(sel) < 60 {
		t.Fatalf("want at least 60 client cases (issue 13), got %d", len(sel))
	}
	names := make([]string, 0, len(clientExpected))
	for n := range clientExpected {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec := testpeer.ClientCommand(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			start := time.Now()
			rep, err := conform.RunClient(ctx, sel, conform.ClientConfig{Cmd: shellCmd(spec)})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			want := clientExpected[name]
			eio := map[string]int{}
			for _, c := range sel {
				eio[c.ID] = c.EIO
			}
			lost := 0
			for _, r := range rep.Results {
				if clientLostConnect[name] && r.Verdict != conform.Pass && r.Step == 1 && want[r.ID] == "" &&
					strings.Contains(r.Message, "want a Socket.IO packet from the client, nothing came within") {
					lost++
					t.Logf("%s: no CONNECT after the open (the library's race, accepted): %s", r.ID, r.Message)
					continue
				}
				if seen := clientRacy[name][r.ID]; len(seen) > 0 {
					if !slices.Contains(seen, r.Verdict) {
						t.Errorf("%s: got %s, want one of %v: %s\n%s", r.ID, r.Verdict, seen, r.Message, traceText(r))
					}
					continue
				}
				w := want[r.ID]
				switch {
				case w != "":
				case !spec.Speaks(eio[r.ID]):
					// The program refuses an Engine.IO revision its
					// library does not speak (exit 2).
					w = conform.NA
				default:
					w = conform.Pass
				}
				if r.Verdict != w {
					t.Errorf("%s: got %s, want %s: %s\n%s", r.ID, r.Verdict, w, r.Message, traceText(r))
				}
			}
			if lost > lostConnectMax {
				t.Errorf("%d cases got no CONNECT after the open, want at most %d", lost, lostConnectMax)
			}
			// Issue 13 asks for under 30 s per client, which every client
			// meets on a quiet machine (docs/conformance.md §6.6); the
			// shared one runs other suites alongside (load 10 on 2 cores
			// seen), so the test fails only at twice that.
			if took > 60*time.Second {
				t.Errorf("the client suite took %v against %s (want under 30 s)", took, name)
			}
			t.Logf("%s: %d cases in %v", name, len(rep.Results), took.Round(time.Millisecond))
		})
	}
}

func traceText(r conform.Result) string {
	var b strings.Builder
	for _, e := range r.Trace {
		fmt.Fprintf(&b, "  %8v %s %s %s %s\n", e.At.Round(time.Millisecond), e.Dir, e.Kind, e.Conn, e.Summary)
	}
	return b.String()
}

// TestClientVerdictsCanFail runs cases against programs that break them:
// one that refuses the environment (exit 2: n/a), one that exits at once
// (must: fail, should: warn), and a raw polling client written here that
// keeps two GETs in flight, or never answers pings.
func TestClientVerdictsCanFail(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bad := "SIOCONFORM_BAD_CLIENT=1 exec '" + self + "' -test.run='^TestBadClientProgram$'"
	tests := []struct {
		name, cmd string
		only      []string
		want      map[string]conform.Verdict
		cause     map[string]string // what the message must say
	}{
		{"refused", "echo 'no such transport' >&2; exit 2", []string{"client.sio5.connect.first", "client.eio4.heartbeat.ping-timeout"},
			map[string]conform.Verdict{"client.sio5.connect.first": conform.NA, "client.eio4.heartbeat.ping-timeout": conform.NA},
			map[string]string{"client.sio5.connect.first": "refused the environment (exit 2): no such transport"}},
		{"crashed", "exit 3", []string{"client.sio5.connect.first", "client.sio5.disconnect.server-no-reconnect"},
			map[string]conform.Verdict{"client.sio5.connect.first": conform.Fail, "client.sio5.disconnect.server-no-reconnect": conform.Warn},
			map[string]string{"client.sio5.connect.first": "exited with code 3"}},
		{"two-gets", "SIOCONFORM_BAD_GETS=2 " + bad, []string{"client.eio4.polling.one-get", "client.eio4.handshake.query-polling"},
			map[string]conform.Verdict{"client.eio4.polling.one-get": conform.Fail, "client.eio4.handshake.query-polling": conform.Fail},
			map[string]string{"client.eio4.polling.one-get": "a second GET while another GET is in flight",
				"client.eio4.handshake.query-polling": "step 1 (srv_expect, line 15): want a Socket.IO packet, got a second GET"}},
		{"no-pong", "SIOCONFORM_BAD_GETS=1 " + bad, []string{"client.eio4.heartbeat.pong-polling", "client.eio4.handshake.query-polling"},
			map[string]conform.Verdict{"client.eio4.heartbeat.pong-polling": conform.Fail, "client.eio4.handshake.query-polling": conform.Pass},
			map[string]string{"client.eio4.heartbeat.pong-polling": `want text "3" from the client, nothing came within 2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := conform.SelectClient(cases, 4, "", tt.only, nil)
			if len(sel) != len(tt.want) {
				t.Fatalf("selected %d cases, want %d", len(sel), len(tt.want))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rep, err := conform.RunClient(ctx, sel, conform.ClientConfig{Cmd: tt.cmd})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Results {
				if r.Verdict != tt.want[r.ID] {
					t.Errorf("%s: got %s, want %s: %s\n%s", r.ID, r.Verdict, tt.want[r.ID], r.Message, traceText(r))
				}
				if c := tt.cause[r.ID]; c != "" && !strings.Contains(r.Message, c) {
					t.Errorf("%s: message %q does not say %q", r.ID, r.Message, c)
				}
			}
		})
	}
}

// TestBadClientProgram is the misbehaving client program of
// TestClientVerdictsCanFail (run as a child process, SIOCONFORM_BAD_CLIENT
// set): a correct polling handshake and CONNECT, then two GETs at once and
// no pong ever (SIOCONFORM_BAD_GETS=2), or one GET and no pong
// (SIOCONFORM_BAD_GETS=1). Without SIOCONFORM_BAD_CLIENT it does nothing.
func TestBadClientProgram(t *testing.T) {
	if os.Getenv("SIOCONFORM_BAD_CLIENT") != "1" {
		return
	}
	base := os.Getenv("SIOCONFORM_URL") + "/socket.io/?EIO=4&transport=polling"
	hc := &http.Client{Timeout: 20 * time.Second}
	resp, err := hc.Get(base)
	if err != nil {
		os.Exit(1)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var hs struct {
		SID string `json:"sid"`
	}
	if len(body) < 2 || json.Unmarshal(body[1:], &hs) != nil {
		os.Exit(1)
	}
	u := base + "&sid=" + hs.SID
	// Both GETs go before anything else, so the server, having nothing to
	// send, holds the first when the second comes.
	gets, _ := strconv.Atoi(os.Getenv("SIOCONFORM_BAD_GETS"))
	for range gets {
		go func() {
			if resp, err := hc.Get(u); err == nil {
				resp.Body.Close()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if resp, err := hc.Post(u, "text/plain;charset=UTF-8", strings.NewReader("40")); err == nil {
		resp.Body.Close()
	}
	// Live until stdin closes (the contract's "exit now").
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// zishangExpected is what github.com/zishang520/socket.io/clients/socket/v3
// v3.0.6 gets, from its source (module cache, clients/engine/v3 and
// clients/socket/v3).
var zishangExpected = map[string]conform.Verdict{
	// polling.go puts doPoll and write in one serial queue (writeQueue):
	// a POST waits until the held GET returns, so whatever the client
	// emits while the server holds its poll stays unsent.
	"client.eio4.noop.ignored":                     conform.Fail,
	"client.eio4.polling.batch":                    conform.Fail,
	"client.eio4.polling.max-payload":              conform.Warn,
	"client.eio4.polling.noop-repoll":              conform.Fail,
	"client.eio4.polling.one-get":                  conform.Fail,
	"client.eio4.polling.one-post":                 conform.Fail,
	"client.sio5.ack.empty":                        conform.Fail,
	"client.sio5.binary.polling-emit":              conform.Fail,
	"client.sio5.binary.polling-received":          conform.Fail,
	"client.sio5.connect.no-event-before":          conform.Fail,
	"client.sio5.emit.ack":                         conform.Fail,
	"client.sio5.event.utf8-polling":               conform.Fail,
	"client.eio4.malformed.polling-garbage-closes": conform.Warn,
	// Polling or WebSocket first at random (see zishangRacy): either
	// way no emit of the program comes back over polling in time.
	"client.eio4.upgrade.not-offered": conform.Fail,
	// Leaving (or being refused) a second namespace deafens "/":
	// RemoveListener matches listeners by code pointer, which every
	// socket's closure shares (peers/README.md, zishang (1)).
	"client.sio5.disconnect.server-one-namespace": conform.Warn,
	"client.sio5.connect-error.one-namespace":     conform.Warn,
	// After a refused reconnection attempt the Manager tries no more:
	// one "reconnect attempt 1", then nothing.
	"client.sio5.reconnect.backoff-cap":      conform.Warn,
	"client.sio5.reconnect.backoff-defaults": conform.Warn,
	"client.sio5.reconnect.backoff-grows":    conform.Warn,
}

// zishangRacy are its cases that vary from run to run. The default
// transports are a types.Set, whose order is a map's: in an upgrade case
// the client starts on polling or on WebSocket at random (and then probes
// a second WebSocket). It also sends its CONNECT again now and then while
// handling a binary packet, and now and then sends no CONNECT after a
// reconnection (seen under load in the reconnection cases; a missing
// first CONNECT is clientLostConnect's). Its DISCONNECT races the
// transport close (peers/README.md, zishang (4)): in isolation the close
// mostly wins.
var zishangRacy = map[string][]conform.Verdict{
	"client.sio5.disconnect.client":                 {conform.Pass, conform.Fail},
	"client.sio5.reconnect.rejoins-namespaces":      {conform.Pass, conform.Warn},
	"client.sio5.reconnect.transport-close-polling": {conform.Pass, conform.Warn},
	"client.eio4.upgrade.not-offered":               {conform.Fail},
	"client.eio4.upgrade.sequence":                  {conform.Pass, conform.Fail},
	"client.eio4.upgrade.no-polling-after":          {conform.Pass, conform.Fail},
	"client.eio4.upgrade.bad-probe-answer":          {conform.Pass, conform.Warn},
	"client.eio4.handshake.polling-first":           {conform.Pass, conform.Warn},
	"client.sio5.binary.received":                   {conform.Pass, conform.Fail},
	"client.sio5.ack.binary":                        {conform.Pass, conform.Fail},
}
