package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

// TestClientCommands: client list shows the built-in client cases and only
// them; client run wires --cmd, --only, --transport and --format to the
// engine (a program that refuses every environment: all n/a, exit 0; one
// that dies: exit 1); bad flags are usage errors.
func TestClientCommands(t *testing.T) {
	r := runCLI(t, newFake(), "client", "list", "--format", "json")
	var listed []struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || r.code != 0 {
		t.Fatalf("client list: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(listed) < 20 {
		t.Errorf("client list: %d cases, want at least 20", len(listed))
	}
	for _, c := range listed {
		if !strings.HasPrefix(c.ID, "client.") {
			t.Errorf("client list shows %s, not a client case", c.ID)
		}
	}

	r = runCLI(t, newFake(), "client", "run", "--cmd", "echo refused >&2; exit 2", "--only", "client.sio5.connect.first,client.sio5.connect.no-event-before", "--format", "json")
	var rep struct {
		Results []struct{ ID, Verdict, Message string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("client run (exit 2): exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(rep.Results) != 2 {
		t.Errorf("--only of two cases ran %d cases", len(rep.Results))
	}
	for _, res := range rep.Results {
		if res.Verdict != "n/a" || !strings.Contains(res.Message, "refused the environment (exit 2): refused") {
			t.Errorf("%s: %s %q", res.ID, res.Verdict, res.Message)
		}
	}

	r = runCLI(t, newFake(), "client", "run", "--cmd", "exit 3", "--only", "client.sio5.connect.first")
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "1 failed") {
		t.Errorf("client run (exit 3): exit %d, want 1\n%s", r.code, r.stderr)
	}

	// A program that cannot start is a setup error, not verdicts.
	r = runCLI(t, newFake(), "client", "run", "--cmd", "nosuchprogram-xyz")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "cannot start the client program") || !strings.Contains(r.stderr, "not found") || r.stdout != "" {
		t.Errorf("client run (not found): exit %d, want 2\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}

	for _, args := range [][]string{
		{"client"}, {"client", "walk"}, {"client", "run"}, {"client", "run", "--cmd", "x", "--transport", "smoke"},
		{"client", "run", "--cmd", "x", "--eio", "5"}, {"client", "run", "--cmd", "x", "--only", "nothing.here"},
		{"client", "run", "--cmd", "x", "--format", "pdf"}, {"client", "list", "--format", "junit"},
	} {
		if r := runCLI(t, newFake(), args...); r.code != cli.ExitUsage {
			t.Errorf("%q: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

// TestClientRunHelpGrace: 'client run -h' says how long a program has after
// its stdin closes, the grace RunClient really gives it (it said 3 s while
// the code killed after 1 s).
func TestClientRunHelpGrace(t *testing.T) {
	r := runCLI(t, newFake(), "client", "run", "-h")
	if want := "killed after " + conform.ClientGrace.String() + "."; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("client run -h: exit %d, want %q in\n%s", r.code, want, r.stderr)
	}
}

// TestClientRunInterrupted: Ctrl-C during client run reports only the
// cases that finished, as run does: the case whose program was still
// starting is left out instead of failing "nothing came", and stderr and
// the report say how many finished (exit 1).
func TestClientRunInterrupted(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "polling-done")
	cmd := `if [ "$SIOCONFORM_TRANSPORT" = polling ]; then touch '` + mark + `'; exit 3; fi; exec sleep 20`
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for {
			if _, err := os.Stat(mark); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The polling case ends as soon as its program exits; the
		// websocket one waits 30 s for its program's first request.
		time.Sleep(time.Second)
		cancel(cli.ErrInterrupted)
	}()
	out := filepath.Join(dir, "c.md")
	r := runCLIWith(t, ctx, newFake(), nil, "client", "run", "--cmd", cmd,
		"--only", "client.eio4.handshake.query-polling,client.eio4.handshake.query-websocket", "--format", "markdown", "--out", out)
	if r.code != cli.ExitFailed || r.stderr != "sioconform: interrupted: 1 of 2 cases finished\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(data)
	if !strings.Contains(md, "**interrupted: 1 of 2 cases finished** · 1 cases: 1 fail") || strings.Contains(md, "query-websocket") || strings.Contains(md, "conformant") {
		t.Errorf("partial client report:\n%s", md)
	}
}
