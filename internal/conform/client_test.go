package conform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

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

// TestClientCannotStart: a program sh cannot run (not found: 127; not
// executable: 126) is a setup error of RunClient, once, with sh's own
// words, no report and no progress, not a MUST/SHOULD verdict per case
// ("0 pass, 43 fail, 26 warn"); a program that exits 127 after its first
// request is still graded.
func TestClientCannotStart(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	noexec := t.TempDir() + "/client"
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sel := conform.SelectClient(cases, 4, "", nil, nil)
	for _, tt := range []struct{ cmd, want string }{
		{"nosuchprogram-xyz", "exited with code 127 (command not found) before its first request: "},
		{noexec, "exited with code 126 (found but not executable) before its first request: "},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		progress := 0
		rep, err := conform.RunClient(ctx, sel, conform.ClientConfig{Cmd: tt.cmd, Progress: func(conform.Result) { progress++ }})
		cancel()
		if err == nil {
			t.Errorf("%s: no error; %v", tt.cmd, rep.Counts())
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "cannot start the client program") || !strings.Contains(msg, tt.want) || rep != nil || progress != 0 {
			t.Errorf("%s: error %q (want it to say %q), report %v, %d progress calls", tt.cmd, msg, tt.want, rep != nil, progress)
		}
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	late := "SIOCONFORM_BAD_CLIENT=1 SIOCONFORM_BAD_EXIT=127 exec '" + self + "' -test.run='^TestBadClientProgram$'"
	rep, err := conform.RunClient(context.Background(), conform.SelectClient(cases, 4, "", []string{"client.sio5.connect.first"}, nil), conform.ClientConfig{Cmd: late})
	if err != nil {
		t.Fatalf("exit 127 after the handshake: %v", err)
	}
	if r := rep.Results[0]; r.Verdict != conform.Fail || !strings.Contains(r.Message, "exited with code 127") {
		t.Errorf("exit 127 after the handshake: %s %q", r.Verdict, r.Message)
	}
}

// TestBadClientProgram is the misbehaving client program of
// TestClientVerdictsCanFail (run as a child process, SIOCONFORM_BAD_CLIENT
// set): a correct polling handshake and CONNECT, then two GETs at once and
// no pong ever (SIOCONFORM_BAD_GETS=2), or one GET and no pong
// (SIOCONFORM_BAD_GETS=1). With SIOCONFORM_BAD_EXIT=N it exits N right
// after the handshake. Without SIOCONFORM_BAD_CLIENT it does nothing.
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
	if code := os.Getenv("SIOCONFORM_BAD_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
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
