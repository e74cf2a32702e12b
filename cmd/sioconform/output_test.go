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

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, newFake(), args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "sioconform ") || r.stderr != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestOutKeepsPreviousReport: --out is not truncated when the run starts
// (it used to be: a killed run left a 0-byte file); the previous report
// stays whole until the new one replaces it, and stays when no report
// comes (unreachable target).
func TestOutKeepsPreviousReport(t *testing.T) {
	for _, cmd := range [][]string{{"run", "--url", target1, "--format", "json"}, {"matrix", "--target", "a=" + target1}} {
		dir := t.TempDir()
		out := filepath.Join(dir, "report")
		os.WriteFile(out, []byte("previous"), 0o644)
		f := newFake()
		var during []string
		f.afterCase = func(int) {
			b, _ := os.ReadFile(out)
			during = append(during, string(b))
		}
		r := runCLI(t, f, append(cmd, "--out", out)...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
		if len(during) != 4 || strings.Join(during, ",") != "previous,previous,previous,previous" {
			t.Errorf("%s: while the run lasted --out held %q", cmd[0], during)
		}
		b, _ := os.ReadFile(out)
		if !strings.Contains(string(b), "eio4.handshake.polling.ok") {
			t.Errorf("%s: --out after the run:\n%s", cmd[0], b)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%s: files left next to --out: %v", cmd[0], ents)
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	os.WriteFile(out, []byte("previous"), 0o644)
	f := newFake()
	f.down[target1] = true
	if r := runCLI(t, f, "run", "--url", target1, "--out", out); r.code != cli.ExitUsage {
		t.Errorf("unreachable: exit %d", r.code)
	}
	if b, _ := os.ReadFile(out); string(b) != "previous" {
		t.Errorf("unreachable: the previous report became %q", b)
	}
}

// TestSecondInterrupt: after a first Ctrl-C the run waits for the cases
// still running; a second one stops waiting (here the engine hangs for
// good) and writes the report of the cases that finished.
func TestSecondInterrupt(t *testing.T) {
	for _, cmd := range [][]string{{"run", "--url", target1, "--format", "json"}, {"matrix", "--target", "a=" + target1}} {
		out := filepath.Join(t.TempDir(), "partial")
		ctx, cancel := context.WithCancelCause(context.Background())
		abort := make(chan struct{})
		ctx = cli.WithAbort(ctx, abort)
		f := newFake()
		f.hangAfter, f.hang = 1, make(chan struct{})
		f.afterCase = func(i int) {
			if i == 1 {
				cancel(cli.ErrInterrupted) // the first Ctrl-C
				close(abort)               // the second
			}
		}
		done := make(chan result, 1)
		go func() { done <- runCLIWith(t, ctx, f, nil, append(cmd, "--out", out)...) }()
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting for the hung engine 30 s after the second interrupt", cmd[0])
		}
		close(f.hang)
		if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "interrupted") {
			t.Errorf("%s: exit %d, stderr %q", cmd[0], r.code, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: no partial report: %v", cmd[0], err)
		}
		if cmd[0] == "matrix" {
			if !strings.Contains(string(b), "eio4.handshake.ws.ok") || strings.Contains(string(b), "sio5.connect.ws.root") {
				t.Errorf("partial matrix:\n%s", b)
			}
			continue
		}
		var rep conform.Report
		if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 2 {
			t.Errorf("partial report: %v, %d results\n%s", err, len(rep.Results), b)
		}
		// The engine never returned its report: the start is the run's
		// all the same, never the zero time.
		if strings.Contains(string(b), "0001-01-01") || !rep.Interrupted || rep.CasesTotal != 4 {
			t.Errorf("abandoned report: interrupted %v, cases_total %d\n%s", rep.Interrupted, rep.CasesTotal, b)
		}
	}
}

// TestUserinfoMasked: a --url with userinfo is echoed by errors with the
// userinfo masked, for run and matrix, usage and run-time errors alike.
func TestUserinfoMasked(t *testing.T) {
	secretURL := "http://alice:hunter2@127.0.0.1:3000"
	for _, args := range [][]string{
		{"run", "--url", secretURL},
		{"matrix", "--target", "a=" + secretURL},
		{"run", "--url", secretURL + "/socket.io/"},
		{"run", "--url", "ftp://alice:hunter2@x"},
	} {
		f := newFake()
		f.down[secretURL] = true
		r := runCLI(t, f, args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "***@") || strings.Contains(r.stderr, "hunter2") || strings.Contains(r.stderr, "alice") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
