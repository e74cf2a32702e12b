package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/internal/workers"
)

func exec(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	st := &cli.State{Stdout: &o, Stderr: &e, Args: args, Env: func(string) string { return "" }}
	err := dispatch(st)
	cli.PrintError(&e, "sioload", err)
	return o.String(), e.String(), cli.ExitCode(err)
}

func TestUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nload: {clients: 1, hold: nope}\nflow: [{connect: {}}]\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"run"}, "one scenario file"},
		{[]string{"run", bad}, "bad.yaml:2: load.hold: bad duration"},
		{[]string{"run", "../../scenarios/echo.yaml", "--nope"}, "flag provided but not defined"},
		{[]string{"report"}, "at least one result file"},
	} {
		_, stderr, code := exec(c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestRunReportThresholds(t *testing.T) {
	peer := testpeer.Start(t, "node4")
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(`name: quick
load: {clients: 3, ramp: 200ms, hold: 1s, grace: 2s}
flow:
  - connect: {}
  - loop:
      rate: 20
      steps:
        - emit_ack: {event: echo-ack, args: [{seq: "{{.Seq}}"}], timeout: 2s}
thresholds:
  - errors < 1%
  - count(ack) > 1000000
`), 0o644)
	out := filepath.Join(dir, "r.json")
	stdout, stderr, code := exec("run", scen, "--target", peer.URL, "--out", out)
	if code != ExitThreshold {
		t.Fatalf("exit %d, want 3 (count(ack) cannot pass)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "count(ack) > 1000000") || !strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "│ ack ") {
		t.Errorf("summary:\n%s", stdout)
	}
	if !strings.Contains(stderr, "clients") {
		t.Errorf("no progress lines on stderr: %q", stderr)
	}
	stdout, _, code = exec("report", out, out)
	if code != ExitThreshold || !strings.Contains(stdout, "2 runs merged") {
		t.Errorf("report: exit %d\n%s", code, stdout)
	}
	stdout, _, code = exec("report", "--format", "json", out)
	if code != 0 || !strings.Contains(stdout, `"latencies"`) {
		t.Errorf("report json: exit %d\n%.300s", code, stdout)
	}
}

func TestRunBuiltinTarget(t *testing.T) {
	scen := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(scen, []byte(`name: builtin
load: {clients: 2, ramp: 0s, hold: 1s, grace: 2s}
flow:
  - connect: {}
  - loop:
      count: 5
      steps:
        - emit: {event: echo, args: [{seq: "{{.Seq}}", t: "{{.SendTime}}"}]}
        - wait: {event: echo, match: {seq: "{{.Seq}}"}}
`), 0o644)
	stdout, stderr, code := exec("run", scen, "--quiet")
	if code != 0 || !strings.Contains(stdout, "received echo") || !strings.Contains(stdout, "│ event ") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestRunFaultsBuiltin: with no target, sioload runs the built-in target
// in-process and can restart it (restart_target) and drop clients; the
// summary reports the reconnects and the generator's health.
func TestRunFaultsBuiltin(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "f.yaml")
	os.WriteFile(scen, []byte(`name: faults
load: {clients: 4, ramp: 0s, hold: 3500ms, grace: 1s}
flow:
  - connect: {}
  - emit_ack: {event: join, args: [r]}
  - broadcast: {room: r, event: news, every: 500ms}
faults:
  - {at: 300ms, drop: 0.5}
  - {at: 600ms, restart_target: true, down: 200ms}
thresholds:
  - count(reconnect) > 0
# broadcasts while a client is away fail (emit_error), by design here
max_error_rate: 0.5
`), 0o644)
	stdout, stderr, code := exec("run", scen, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, want := range []string{"reconnects: ", "fan-out reach", "generator: cpu peak", "fanout_last", "│ restarts "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBadFlagShort: a bad flag is one line pointing at -h, as in
// sioconform, not the flag package's message and then the whole usage.
func TestBadFlagShort(t *testing.T) {
	_, stderr, code := exec("run", "../../scenarios/echo.yaml", "--nope")
	if code != cli.ExitUsage || strings.Contains(stderr, "Usage:") || !strings.Contains(stderr, "flag provided but not defined: -nope (see 'sioload run -h')") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestExtraArgumentShort: a second argument is one line naming it; a URL
// (where k6 users put the target) is pointed at --target.
func TestExtraArgumentShort(t *testing.T) {
	_, stderr, code := exec("run", "../../scenarios/echo.yaml", "http://127.0.0.1:1")
	if code != cli.ExitUsage || strings.Contains(stderr, "Usage:") ||
		!strings.Contains(stderr, `got 2: ["../../scenarios/echo.yaml" "http://127.0.0.1:1"]; the server is --target http://127.0.0.1:1 (see 'sioload run -h')`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = exec("compare", "a.yaml", "b.yaml")
	if code != cli.ExitUsage || strings.Contains(stderr, "--target") || !strings.Contains(stderr, `compare takes one scenario file, got 2: ["a.yaml" "b.yaml"]`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestWorkerTargetFromEnv: a worker of run --workers takes its target
// from workers.TargetEnv (out of ps's sight), only with --segment and
// without --target.
func TestWorkerTargetFromEnv(t *testing.T) {
	var o, e bytes.Buffer
	env := map[string]string{workers.TargetEnv: "http://127.0.0.1:1"}
	st := &cli.State{Stdout: &o, Stderr: &e, Env: func(k string) string { return env[k] },
		Args: []string{"run", "../../scenarios/echo.yaml", "--segment", "0/2", "--duration", "1s", "--quiet"}}
	err := dispatch(st)
	cli.PrintError(&e, "sioload", err)
	if !strings.Contains(o.String()+e.String(), "127.0.0.1:1") {
		t.Errorf("the worker did not load the target of %s:\nstdout %s\nstderr %s", workers.TargetEnv, o.String(), e.String())
	}
}
