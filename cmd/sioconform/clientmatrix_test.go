package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/cli"
)

// TestClientMatrix: client matrix runs every --cmd as a column of the
// server matrix's table, its JSON keeps each non-pass's reason, html and
// markdown render, and bad flags are usage errors that run nothing.
func TestClientMatrix(t *testing.T) {
	only := []string{"--only", "client.sio5.connect.first,client.sio5.connect.no-event-before"}
	r := runCLI(t, newFake(), append([]string{"client", "matrix", "--cmd", "refuses=echo no such transport >&2; exit 2", "--cmd", "dies=exit 3"}, only...)...)
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "failed or errored cases: dies") || strings.Contains(r.stderr, "refuses") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"│ case", "│ refuses ", "│ dies ", "client.sio5.connect.first", "│ n-a ", "│ FAIL ", "passed 0/2",
		"\nWhy each cell that is not a pass:\nrefuses client.sio5.connect.first n-a: the client program refused the environment (exit 2): no such transport\n",
		"\ndies client.sio5.connect.no-event-before FAIL: step 0 (srv_accept, line "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("matrix lacks %q:\n%s", want, r.stdout)
		}
	}

	r = runCLI(t, newFake(), append([]string{"client", "matrix", "--cmd", "refuses=exit 2", "--format", "json"}, only...)...)
	var m struct {
		Targets []struct {
			Name   string
			Report struct {
				Target  string
				Results []struct{ ID, Verdict, Message string }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || r.code != 0 {
		t.Fatalf("json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(m.Targets) != 1 || m.Targets[0].Name != "refuses" || m.Targets[0].Report.Target != "client: exit 2" || len(m.Targets[0].Report.Results) != 2 {
		t.Fatalf("json matrix %+v", m)
	}
	for _, res := range m.Targets[0].Report.Results {
		if res.Verdict != "n/a" || !strings.Contains(res.Message, "refused the environment (exit 2)") {
			t.Errorf("%s: %s %q: want n/a with its reason", res.ID, res.Verdict, res.Message)
		}
	}

	out := filepath.Join(t.TempDir(), "m.html")
	r = runCLI(t, newFake(), "client", "matrix", "--cmd", "dies=exit 3", "--only", "client.sio5.connect.first", "--format", "html", "--out", out)
	data, _ := os.ReadFile(out)
	if r.code != cli.ExitFailed || !strings.Contains(string(data), `<table class="matrix">`) || !strings.Contains(string(data), "exited with code 3") {
		t.Errorf("html: exit %d, stderr %q\n%.500s", r.code, r.stderr, data)
	}
	r = runCLI(t, newFake(), "client", "matrix", "--cmd", "dies=exit 3", "--only", "client.sio5.connect.first", "--format", "markdown")
	if r.code != cli.ExitFailed || !strings.HasPrefix(r.stdout, "| case ") || !strings.Contains(r.stdout, "| FAIL ") ||
		!strings.Contains(r.stdout, "\n* dies `client.sio5.connect.first` **FAIL**: step 0") || !strings.Contains(r.stdout, "exited with code 3") {
		t.Errorf("markdown: exit %d\n%s", r.code, r.stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"client", "matrix"}, "at least one --cmd NAME=COMMAND is required"},
		{[]string{"client", "matrix", "--cmd", "node client.mjs"}, "want NAME=COMMAND"},
		{[]string{"client", "matrix", "--cmd", "a=x", "--cmd", "a=y"}, `two programs named "a"`},
		{[]string{"client", "matrix", "--cmd", "a=x", "--format", "junit"}, `--format "junit": want table, markdown, html or json`},
		{[]string{"client", "matrix", "--cmd", "a=x", "--eio", "5"}, "--eio 5: want 4 or 3"},
		{[]string{"client", "matrix", "--cmd", "a=x", "--only", "nothing.here"}, "no client case matches"},
		{[]string{"client", "matrix", "--cmd", "a=x", "--parallel", "0"}, "--parallel 0"},
	} {
		if r := runCLI(t, newFake(), tc.args...); r.code != cli.ExitUsage || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q (want %q)", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
