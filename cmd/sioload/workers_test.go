package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/target"
)

// buildSioload builds the binary: --workers starts processes of
// os.Executable(), which in-process (exec) would be the test binary.
func buildSioload(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sioload")
	if out, err := osexec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuf is a strings.Builder safe for a process's writes and a test's
// reads at once.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits (bounded by d) until buf holds want, failing with what
// it holds.
func waitFor(t *testing.T, buf *syncBuf, want string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); !strings.Contains(buf.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %q after %v; output so far:\n%s", want, d, buf.String())
		}
	}
}

// TestWorkersMergeToOneRun runs a scenario with --workers 3 (three worker
// processes started by the sioload binary) and as one process, against
// the same built-in target: the merged --out equals the one process's
// counters and the server's own counts exactly.
func TestWorkersMergeToOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs five processes")
	}
	bin := buildSioload(t)
	dir := t.TempDir()
	scen, b := scenarioAndTarget(t, dir, "seg.yaml", segmentScenario)

	before := b.Stats()
	merged := filepath.Join(dir, "merged.json")
	var stderr syncBuf
	c := osexec.Command(bin, "run", scen, "--workers", "3", "--target", b.URL, "--out", merged)
	c.Stdout, c.Stderr = io.Discard, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitBounded(c, 90*time.Second); err != nil {
		t.Fatalf("--workers 3: %v\nstderr %s", err, stderr.String())
	}
	workersServer := idleStats(t, b)
	if !strings.Contains(stderr.String(), "sioload: 3 worker processes, one part each") {
		t.Errorf("stderr does not say the run has 3 workers:\n%s", stderr.String())
	}

	whole := filepath.Join(dir, "whole.json")
	c = osexec.Command(bin, "run", scen, "--quiet", "--target", b.URL, "--out", whole)
	c.Stdout, c.Stderr = io.Discard, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitBounded(c, 60*time.Second); err != nil {
		t.Fatalf("one process: %v\nstderr %s", err, stderr.String())
	}
	after := idleStats(t, b)
	m, one := result(t, merged), result(t, whole)
	t.Logf("merged counters %v; server for the workers %+v", m.Counters, sub(workersServer, before))

	if m.Segment != nil || m.Runs != 3 || m.Partial || m.StopReason != "" {
		t.Errorf("merged: segment %+v, runs %d, partial %v (%q); want no segment, 3 runs, not partial", m.Segment, m.Runs, m.Partial, m.StopReason)
	}
	if len(one.Errors) != 0 || len(m.Errors) != 0 {
		t.Errorf("errors: one process %v, merged %v; want none", one.Errors, m.Errors)
	}
	if m.Counters["clients_started"] != 9 || m.Counters["acks"] != 9*20 {
		t.Errorf("merged: %d clients started, %d acks; want 9 and 180", m.Counters["clients_started"], m.Counters["acks"])
	}
	if !maps.Equal(m.Counters, one.Counters) {
		t.Errorf("counters differ:\nmerged      %v\none process %v", m.Counters, one.Counters)
	}
	if m.PeakClients != one.PeakClients || !maps.Equal(m.Events, one.Events) || !maps.Equal(m.Disconnects, one.Disconnects) {
		t.Errorf("merged peak %d events %v disconnects %v; one process %d %v %v", m.PeakClients, m.Events, m.Disconnects, one.PeakClients, one.Events, one.Disconnects)
	}
	for _, name := range []string{"handshake", "connect", "ack", "event"} {
		if m.Latency(name) == nil || one.Latency(name) == nil {
			t.Errorf("%s: no samples (merged %v, one process %v)", name, m.Latency(name) != nil, one.Latency(name) != nil)
			continue
		}
		if a, b := m.Latency(name).TotalCount(), one.Latency(name).TotalCount(); a != b {
			t.Errorf("%s samples: merged %d, one process %d", name, a, b)
		}
	}
	// The workers split this machine's cores (GOMAXPROCS 1 each here):
	// the merge is on as many cores as the one process.
	if m.Health == nil || one.Health == nil || m.Health.Cores != one.Health.Cores || m.Health.Machine != one.Health.Machine {
		t.Errorf("merged health %+v; one process %+v: want the same cores and machine", m.Health, one.Health)
	}
	serverAgrees(t, "--workers 3", sub(workersServer, before), m)
	serverAgrees(t, "one process", sub(after, workersServer), one)
}

// longScenario runs until stopped: 6 clients, each an acked emit every
// 100 ms.
const longScenario = `name: long
transport: websocket
load: {model: closed, clients: 6, hold: 10m, grace: 5s}
flow:
  - connect: {}
  - loop:
      steps:
        - emit_ack: {event: echo-ack, args: [{client: "{{.Client}}"}], timeout: 10s}
        - think: {min: 100ms, max: 100ms}
`

// children returns the pids of the processes whose parent is ppid, by
// the --segment they run ("1/3"), from /proc.
func children(t *testing.T, ppid int) map[string]int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentOf(pid) != ppid {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmd), "\x00")
		if i := slices.Index(args, "--segment"); i >= 0 && i+1 < len(args) {
			out[args[i+1]] = pid
		}
	}
	return out
}

// parentOf returns pid's parent pid from /proc, -1 if pid is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 2 {
		return -1
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// gone reports whether pid no longer runs (absent, or a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

// TestWorkersLostWorker kills one of three workers with SIGKILL while
// they load, then stops the run with SIGINT (Ctrl-C): the run exits 1
// with a merged partial result of the two others, whose stop reason, like
// stderr, names the lost worker; no worker outlives the run.
func TestWorkersLostWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four processes")
	}
	bin := buildSioload(t)
	dir := t.TempDir()
	scen, b := scenarioAndTarget(t, dir, "long.yaml", longScenario)
	merged := filepath.Join(dir, "merged.json")
	var stderr syncBuf
	c := osexec.Command(bin, "run", scen, "--workers", "3", "--target", b.URL, "--out", merged)
	c.Stdout, c.Stderr = io.Discard, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Process.Kill()
	// The progress is the three workers' merged: all 6 clients connected.
	waitFor(t, &stderr, "clients 6 ", 60*time.Second)
	kids := children(t, c.Process.Pid)
	if len(kids) != 3 || kids["0/3"] == 0 || kids["1/3"] == 0 || kids["2/3"] == 0 {
		t.Fatalf("workers by segment %v, want 0/3, 1/3 and 2/3", kids)
	}
	if err := syscall.Kill(kids["1/3"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	const lost = "worker 1 of 3 died: signal: killed; its clients' results are missing"
	waitFor(t, &stderr, "sioload: "+lost+"\n", 30*time.Second)
	if err := c.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := waitBounded(c, 30*time.Second)
	var ee *osexec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != cli.ExitFailed {
		t.Fatalf("run: %v, want exit status 1\nstderr %s", err, stderr.String())
	}
	for seg, pid := range kids {
		if !gone(pid) {
			t.Errorf("worker %s (pid %d) still runs after the run ended", seg, pid)
		}
	}
	m := result(t, merged)
	if !m.Partial || !strings.Contains(m.StopReason, lost) || !strings.Contains(m.StopReason, "interrupted") {
		t.Errorf("merged: partial %v, stop reason %q; want partial naming %q and the interruption", m.Partial, m.StopReason, lost)
	}
	if m.Runs != 2 || m.Segment == nil || m.Segment.Count != 3 {
		t.Errorf("merged: %d runs, segment %+v; want the 2 parts left, still a part of 3 (not a whole run)", m.Runs, m.Segment)
	}
	if n := m.Counters["clients_started"]; n != 4 {
		t.Errorf("merged: %d clients started, want 4 (workers 0 and 2, 2 each)", n)
	}
	if !strings.Contains(stderr.String(), "run stopped early ("+lost) {
		t.Errorf("stderr lacks the verdict naming the lost worker:\n%s", stderr.String())
	}
}

// TestServeWorkers: serve --workers 2 serves WebSocket clients from two
// processes on one port (each response names its worker), serves
// long-polling sessions on one port per worker, and stops both on
// SIGINT.
func TestServeWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes")
	}
	bin := buildSioload(t)
	var stderr syncBuf
	c := osexec.Command(bin, "serve", "--workers", "2", "--addr", "127.0.0.1:0")
	c.Stdout, c.Stderr = io.Discard, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Process.Kill()
	waitFor(t, &stderr, "sioload: worker pids ", 60*time.Second)
	waitFor(t, &stderr, "\n", 5*time.Second)
	out := stderr.String()
	shared := regexp.MustCompile(`built-in target on http://(127\.0\.0\.1:\d+) \(2 workers on one port`).FindStringSubmatch(out)
	own := regexp.MustCompile(`targets: \[(http://\S+), (http://\S+)\]`).FindStringSubmatch(out)
	pidm := regexp.MustCompile(`worker pids 0:(\d+) 1:(\d+)\n`).FindStringSubmatch(out)
	if shared == nil || own == nil || pidm == nil {
		t.Fatalf("serve --workers 2 did not say where it listens:\n%s", out)
	}
	pids := map[string]bool{}
	for _, p := range pidm[1:] {
		pid, _ := strconv.Atoi(p)
		if parentOf(pid) != c.Process.Pid {
			t.Errorf("worker pid %d: parent %d, want serve's %d", pid, parentOf(pid), c.Process.Pid)
		}
		pids[p] = true
	}

	// 40 WebSocket sessions on the one port: the kernel spreads them by
	// their source ports, so both workers answer (all 40 on one of two
	// would happen once in 2^39).
	byPid := map[string]int{}
	for i := range 40 {
		conn, resp, err := websocket.DefaultDialer.Dial("ws://"+shared[1]+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatalf("websocket %d: %v", i, err)
		}
		_, msg, err := conn.ReadMessage()
		conn.Close()
		if err != nil || !strings.HasPrefix(string(msg), `0{"sid":`) {
			t.Fatalf("websocket %d: first message %q, %v; want the Engine.IO open packet", i, msg, err)
		}
		w := regexp.MustCompile(`^([01])/2 pid (\d+)$`).FindStringSubmatch(resp.Header.Get(target.WorkerHeader))
		if w == nil || !pids[w[2]] || pidm[1+mustAtoi(w[1])] != w[2] {
			t.Fatalf("websocket %d: %s %q, want I/2 pid P of a worker %v", i, target.WorkerHeader, resp.Header.Get(target.WorkerHeader), pidm[1:])
		}
		byPid[w[2]]++
	}
	if len(byPid) != 2 {
		t.Errorf("40 WebSocket sessions on one port were served by %v, want both workers", byPid)
	}

	// Long-polling on each worker's own port: the handshake, the CONNECT
	// and the poll that answers it all reach the same worker.
	for i, base := range own[1:] {
		sid, w0 := pollHandshake(t, base)
		req, _ := http.NewRequest("POST", base+"/socket.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader("40"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("worker %d: POST 40: %v %v", i, resp, err)
		}
		resp.Body.Close()
		w1 := resp.Header.Get(target.WorkerHeader)
		resp, err = http.Get(base + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w2 := resp.Header.Get(target.WorkerHeader)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "40{") {
			t.Errorf("worker %d: poll after CONNECT: %d %q, want 200 and the CONNECT answer", i, resp.StatusCode, body)
		}
		if want := fmt.Sprintf("%d/2 pid %s", i, pidm[1+i]); w0 != want || w1 != want || w2 != want {
			t.Errorf("worker %d's port: handshake, POST and GET answered by %q, %q, %q; want %q each", i, w0, w1, w2, want)
		}
	}

	if err := c.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := waitBounded(c, 30*time.Second); err != nil {
		t.Fatalf("serve after SIGINT: %v, want exit 0\nstderr %s", err, stderr.String())
	}
	for p := range pids {
		if pid, _ := strconv.Atoi(p); !gone(pid) {
			t.Errorf("worker pid %d still runs after serve ended", pid)
		}
	}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

// pollHandshake opens a long-polling session at base and returns its sid
// and the worker that answered.
func pollHandshake(t *testing.T, base string) (sid, worker string) {
	t.Helper()
	resp, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('}')
	m := regexp.MustCompile(`^0\{"sid":"([^"]+)"`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("%s: handshake %q", base, line)
	}
	return m[1], resp.Header.Get(target.WorkerHeader)
}

// TestWorkersFlags: --workers and serve --workers are checked before
// anything starts, naming the flag.
func TestWorkersFlags(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(segmentScenario), 0o644)
	restart := filepath.Join(dir, "r.yaml")
	os.WriteFile(restart, []byte(strings.Replace(segmentScenario, "flow:", "faults:\n  - {at: 1s, restart_target: true, down: 1s}\nflow:", 1)), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", scen, "--workers", "0"}, `--workers: want a number of processes, 1 or more, or "auto"; got "0"`},
		{[]string{"run", scen, "--workers", "many"}, `--workers: want a number of processes`},
		{[]string{"run", scen, "--workers", "2", "--segment", "0/2"}, "--workers: --workers runs the parts itself"},
		{[]string{"run", scen, "--workers", "10", "--target", "http://127.0.0.1:1"}, "load.clients is 9, fewer than the 10 parts"},
		{[]string{"run", restart, "--workers", "2"}, "restart_target cannot run in segments"},
		{[]string{"run", restart, "--workers", "1"}, "restart_target needs the built-in target in the process"},
		{[]string{"run", scen, "--progress-fd", "1"}, "--progress-fd: want an inherited descriptor"},
		{[]string{"serve", "--workers", "0"}, "--workers: want at least 1"},
		{[]string{"serve", "--worker", "x"}, `--worker: "x": want I/N`},
	} {
		_, stderr, code := exec(c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
