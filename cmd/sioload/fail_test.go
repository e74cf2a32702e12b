package main

// Hostile servers (issue 7): each test runs sioload against a server
// written here, on 127.0.0.1, and asserts the exit code, the cause in
// stderr, the summary and the JSON, and the partial flag where it applies.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/redact"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// hostileScenario writes a short scenario against target.
func hostileScenario(t *testing.T, target, transport string, clients int, hold string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.yaml")
	y := fmt.Sprintf("name: hostile\ntarget: %s\ntransport: %s\nload: {clients: %d, ramp: 100ms, hold: %s, grace: 1s}\nflow:\n  - connect: {}\n", target, transport, clients, hold)
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readResult reads a --out file.
func readResult(t *testing.T, path string) (*metrics.Result, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r metrics.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r, string(b)
}

// runHostile runs the scenario with --out and checks what every failed
// run must show: exit 1, "run failed: <reason>" on stderr, the reason in
// the summary, failed and fail_reason in the JSON, and want (the cause)
// in all three.
func runHostile(t *testing.T, scen string, want string) *metrics.Result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.json")
	stdout, stderr, code := exec("run", scen, "--quiet", "--out", out)
	res, raw := readResult(t, out)
	if code != cli.ExitFailed {
		t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !res.Failed || !strings.Contains(res.FailReason, want) {
		t.Errorf("JSON failed=%v fail_reason %q, want it to contain %q", res.Failed, res.FailReason, want)
	}
	if line := "sioload: run failed: " + res.FailReason + "\n"; !strings.Contains(stderr, line) {
		t.Errorf("stderr %q, want the line %q", stderr, line)
	}
	if !strings.Contains(stdout, "RUN FAILED: "+res.FailReason) {
		t.Errorf("summary has no RUN FAILED line:\n%s", stdout)
	}
	if !strings.Contains(stdout, "error causes:") || !strings.Contains(stdout, want) {
		t.Errorf("summary shows no cause %q:\n%s", want, stdout)
	}
	if !strings.Contains(raw, `"error_causes"`) {
		t.Errorf("JSON has no error_causes:\n%s", raw)
	}
	// sioload report keeps the verdict of the runs it merges.
	if stdout, _, code := exec("report", out, out); code != cli.ExitFailed || !strings.Contains(stdout, "RUN FAILED: "+res.FailReason) {
		t.Errorf("report: exit %d, want 1 and the RUN FAILED line:\n%s", code, stdout)
	}
	return res
}

// freePort returns an address on which nothing listens (it was free a
// moment ago).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestFailRefused(t *testing.T) {
	addr := freePort(t)
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) {
			// The userinfo must never reach a message.
			scen := hostileScenario(t, "http://user:s3cret@"+addr, tr, 4, "1s")
			res := runHostile(t, scen, "connect: connection refused")
			if !strings.HasPrefix(res.FailReason, "no client connected (4 started): handshake_error x4: ") {
				t.Errorf("fail_reason %q", res.FailReason)
			}
			b, _ := json.Marshal(res.Causes)
			if strings.Contains(string(b)+res.FailReason, "s3cret") {
				t.Errorf("the password is in a message: %s", b)
			}
			if c := res.Causes[metrics.ErrHandshake]; c == nil || c.Counted() != 4 || !strings.Contains(c.First, "connection refused") {
				t.Errorf("handshake_error causes %+v, want 4 counted", c)
			}
		})
	}
}

func TestFailSelfSignedTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request got through an unverified TLS handshake: %s", r.URL)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) {
			scen := hostileScenario(t, srv.URL, tr, 2, "3s")
			runHostile(t, scen, "x509: certificate signed by unknown authority")
		})
	}
}

func TestFailGarbageHandshake(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An Engine.IO open packet whose JSON is garbage.
		io.WriteString(w, `0{"sid":"x","upgrades":[garbage`)
	}))
	defer srv.Close()
	scen := hostileScenario(t, srv.URL, "polling", 3, "1s")
	res := runHostile(t, scen, "handshake_error x3: client: handshake: ")
	if c := res.Causes[metrics.ErrHandshake]; c == nil || !strings.Contains(c.First, "invalid character") {
		t.Errorf("the cause does not say what is wrong with the JSON: %+v", c)
	}
}

// TestFailTargetKilled kills the built-in target (a child process) with
// SIGKILL once every client is connected: the run is partial, failed,
// and says since when the target was unreachable and why.
func TestFailTargetKilled(t *testing.T) {
	child := startServeChild(t)
	const clients = 3
	s, err := scenarios.Parse("killed.yaml", []byte(fmt.Sprintf(
		"name: killed\ntarget: %s\nload: {clients: %d, ramp: 50ms, hold: 6s, grace: 1s}\nflow:\n  - connect: {}\n", child.url, clients)))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	killed := make(chan struct{})
	opts := load.Options{
		Target: child.url,
		// Fast reconnection, so that failed attempts happen within the
		// hold however slow the machine.
		Reconnect:        client.Reconnect{Delay: 20 * time.Millisecond, DelayMax: 100 * time.Millisecond},
		ProgressInterval: 20 * time.Millisecond,
		Progress: func(p load.Progress) {
			if p.Snapshot.ClientsConnected == clients {
				once.Do(func() { child.cmd.Process.Kill(); close(killed) })
			}
		},
	}
	res, err := load.Run(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-killed:
	default:
		t.Fatalf("the %d clients never were all connected (peak %d): nothing was killed; errors %v", clients, res.PeakClients, res.Errors)
	}
	var o, e strings.Builder
	out := filepath.Join(t.TempDir(), "r.json")
	code := cli.ExitCode(finish(&cli.State{Stdout: &o, Stderr: &e}, redact.New(), res, "t", outputs{json: out}))
	if code != cli.ExitFailed {
		t.Errorf("exit %d, want 1\n%s", code, o.String())
	}
	back, _ := readResult(t, out)
	// The first attempt that fails may reach the dying process (reset) or
	// find the port closed (refused); either is the true cause.
	cause := strings.Contains(back.StopReason, "connection refused") || strings.Contains(back.StopReason, "connection reset by peer")
	if !back.Partial || !strings.HasPrefix(back.StopReason, "target unreachable since 00:0") || !cause {
		t.Errorf("partial %v, stop_reason %q: want partial, target unreachable ... connection refused (or reset)", back.Partial, back.StopReason)
	}
	if !back.Failed || back.FailReason != back.StopReason {
		t.Errorf("failed %v, fail_reason %q, want the stop reason", back.Failed, back.FailReason)
	}
	if !strings.Contains(o.String(), "RUN FAILED: target unreachable since") || !strings.Contains(o.String(), "partial results") {
		t.Errorf("summary:\n%s", o.String())
	}
	t.Logf("stop_reason: %s", back.StopReason)
	if back.PeakClients != clients {
		t.Errorf("peak clients %d, want %d", back.PeakClients, clients)
	}
}

// serveChild is `sioload serve` running in a child process (this test
// binary run again, see TestHelperServe).
type serveChild struct {
	cmd *osexec.Cmd
	url string
}

func startServeChild(t *testing.T) *serveChild {
	t.Helper()
	cmd := osexec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "SIOKIT_HELPER_SERVE=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "built-in target on "); ok {
				urlc <- u
			}
		}
	}()
	select {
	case u := <-urlc:
		return &serveChild{cmd: cmd, url: u}
	case <-time.After(30 * time.Second):
		t.Fatal("the child target did not start within 30 s")
	}
	return nil
}

// TestHelperServe is not a test: run by startServeChild in a child
// process, it serves the built-in target until killed.
func TestHelperServe(t *testing.T) {
	if os.Getenv("SIOKIT_HELPER_SERVE") != "1" {
		t.Skip("helper process for TestFailTargetKilled")
	}
	err := serveCmd(&cli.State{Stdout: os.Stdout, Stderr: os.Stderr}, []string{"--addr", "127.0.0.1:0"})
	t.Fatalf("serve returned: %v", err)
}
