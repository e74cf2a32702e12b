package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

const target2 = "http://127.0.0.1:3001"

func TestMatrix(t *testing.T) {
	f := newFake()
	r := runCLI(t, f, "matrix", "--target", "a="+target1, "--target", "b="+target2+",eio=3", "--only", "eio4.handshake,eio3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"│ case", "│ a ", "│ b ", "eio3.handshake.polling.ok", "passed 2/2", "passed 1/1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("matrix lacks %q:\n%s", want, r.stdout)
		}
	}
	if len(f.configs) != 2 || f.configs[0].URL != target1 || f.configs[0].EIO != 4 || f.configs[1].URL != target2 || f.configs[1].EIO != 3 {
		t.Errorf("configs %+v", f.configs)
	}
}

func TestMatrixFailMarkdownOut(t *testing.T) {
	f := newFake()
	f.verdicts["eio4.heartbeat.ws.ping"] = conform.Fail
	out := filepath.Join(t.TempDir(), "m.md")
	r := runCLI(t, f, "matrix", "--target", "node="+target1, "--markdown", "--out", out)
	if r.code != cli.ExitFailed || r.stderr != "sioconform: failed or errored cases: node\n" || r.stdout != "" {
		t.Errorf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	data, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(data), "| case ") || !strings.Contains(string(data), "| FAIL ") || !strings.Contains(string(data), "passed 3/4") {
		t.Errorf("markdown matrix:\n%s", data)
	}
}

// An unreachable target gets "error" cells, the others still run, and the
// exit status is 2.
func TestMatrixUnreachable(t *testing.T) {
	f := newFake()
	f.down[target1] = true
	r := runCLI(t, f, "matrix", "--target", "down="+target1, "--target", "up="+target2, "--only", "eio4.handshake")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "sioconform: down: conform: target") ||
		!strings.HasSuffix(r.stderr, "sioconform: unreachable: down\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "│ error ") || !strings.Contains(r.stdout, "passed 0/2") || !strings.Contains(r.stdout, "passed 2/2") {
		t.Errorf("matrix:\n%s", r.stdout)
	}
}

func TestMatrixInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake()
	f.afterCase = func(i int) {
		if i == 0 {
			cancel()
		}
	}
	r := runCLIWith(t, ctx, f, nil, "matrix", "--target", "a="+target1, "--target", "b="+target2)
	if r.code != cli.ExitFailed || r.stderr != "sioconform: interrupted: 0 of 2 targets finished (a stopped after 1 of 4 cases)\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if len(f.runs()) != 1 || !strings.Contains(r.stdout, "passed 1/1 (interrupted: 1 of 4 cases finished)") || !strings.Contains(r.stdout, "passed 0/0") {
		t.Errorf("runs %v, matrix:\n%s", f.runs(), r.stdout)
	}
}

func TestMatrixUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"matrix"}, "at least one --target is required"},
		{[]string{"matrix", "--target", target1}, "want NAME=URL[,eio=3]"},
		{[]string{"matrix", "--target", "a=" + target1 + ",eio=5"}, "a: eio=5: want 4 or 3"},
		{[]string{"matrix", "--target", "a=" + target1 + ",foo=1"}, `unknown option "foo=1"`},
		{[]string{"matrix", "--target", "a=" + target1, "--target", "a=" + target2}, `two targets named "a"`},
		{[]string{"matrix", "--target", "a=localhost:3000"}, "want http(s)://host[:port]"},
		{[]string{"matrix", "--target", "a=" + target1, "--only", "sio4.*"}, "--target a: no case of Engine.IO v4 matches"},
		{[]string{"matrix", "--target", "a=" + target1, "--eio", "3"}, "flag provided but not defined: -eio"},
	} {
		f := newFake()
		r := runCLI(t, f, tc.args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tc.want) || len(f.runs()) != 0 {
			t.Errorf("%q: exit %d, stderr %q (want %q), runs %v", tc.args, r.code, r.stderr, tc.want, f.runs())
		}
	}
}

// Every problem is named, and the exit code is that of the worst.
func TestMatrixFailedAndUnreachable(t *testing.T) {
	f := newFake()
	f.down[target2] = true
	f.verdicts["eio4.handshake.ws.ok"] = conform.Error
	r := runCLI(t, f, "matrix", "--target", "bad="+target1, "--target", "down="+target2)
	if r.code != cli.ExitUsage || !strings.HasSuffix(r.stderr, "sioconform: failed or errored cases: bad; unreachable: down\n") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// --format html writes the matrix page; markdown and html are --format
// values of run too.
func TestFormatsHTMLMarkdown(t *testing.T) {
	f := newFake()
	f.verdicts["eio4.heartbeat.ws.ping"] = conform.Fail
	out := filepath.Join(t.TempDir(), "m.html")
	r := runCLI(t, f, "matrix", "--target", "node="+target1, "--format", "html", "--out", out)
	if r.code != cli.ExitFailed {
		t.Errorf("matrix html: exit %d, stderr %q", r.code, r.stderr)
	}
	data, _ := os.ReadFile(out)
	if !strings.Contains(string(data), `<table class="matrix">`) || !strings.Contains(string(data), "node: passed 3/4") {
		t.Errorf("html matrix:\n%.500s", data)
	}
	r = runCLI(t, f, "run", "--url", target1, "--format", "markdown")
	if r.code != cli.ExitFailed || !strings.Contains(r.stdout, "| `eio4.heartbeat.ws.ping` | **fail** |") {
		t.Errorf("run markdown: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, f, "run", "--url", target1, "--format", "html")
	if r.code != cli.ExitFailed || !strings.Contains(r.stdout, `data-id="eio4.heartbeat.ws.ping"`) {
		t.Errorf("run html: exit %d\n%.300s", r.code, r.stdout)
	}
	if r := runCLI(t, f, "matrix", "--target", "node="+target1, "--format", "pdf"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, `--format "pdf": want table, markdown, html or json`) {
		t.Errorf("matrix --format pdf: exit %d, stderr %q", r.code, r.stderr)
	}
}
