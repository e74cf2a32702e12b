package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// segmentScenario is a closed run whose every count is fixed by the loop
// count: 9 clients × 20 round trips (an acked emit and an echoed event),
// each flow ending with a disconnect. The hold only bounds the flows.
const segmentScenario = `name: segments
transport: websocket
load: {model: closed, clients: 9, hold: 5s, grace: 10s}
flow:
  - connect: {}
  - loop:
      count: 20
      steps:
        - emit_ack: {event: echo-ack, args: [{client: "{{.Client}}", seq: "{{.Seq}}"}], timeout: 10s}
        - emit: {event: echo, args: [{client: "{{.Client}}", seq: "{{.Seq}}", t: "{{.SendTime}}"}]}
        - wait: {event: echo, timeout: 10s, match: {seq: "{{.Seq}}"}}
  - disconnect: {}
`

// TestSegmentsMergeToOneRun runs a scenario as 3 segments (3 processes of
// the sioload binary, started together with --start-at) and as one
// process, against the same built-in target: the merge of the parts'
// --out files by sioload report equals the one-process run's counters and
// the server's own counts exactly.
func TestSegmentsMergeToOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four processes")
	}
	begin := time.Now()
	dir := t.TempDir()
	bin := buildSioload(t)
	built := time.Since(begin)
	scen, b := scenarioAndTarget(t, dir, "seg.yaml", segmentScenario)

	// The parts: three processes, started 3 s ahead of their common start
	// (RFC3339 with a fraction: a whole second could leave less).
	startAt := time.Now().Add(3 * time.Second)
	before := b.Stats()
	var parts []string
	var cmds []*osexec.Cmd
	for i := range 3 {
		out := filepath.Join(dir, fmt.Sprintf("part%d.json", i))
		parts = append(parts, out)
		c := osexec.Command(bin, "run", scen, "--quiet", "--target", b.URL, "--segment", fmt.Sprintf("%d/3", i),
			"--start-at", startAt.Format(time.RFC3339Nano), "--out", out)
		c.Stdout, c.Stderr = new(strings.Builder), new(strings.Builder)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for i, c := range cmds {
		if err := waitBounded(c, 60*time.Second); err != nil {
			t.Fatalf("part %d/3: %v\nstdout %s\nstderr %s", i, err, c.Stdout, c.Stderr)
		}
	}
	segServer := idleStats(t, b)
	var got []*metrics.Result
	for i, p := range parts {
		r := result(t, p)
		if r.Segment == nil || *r.Segment != (metrics.Segment{Index: i, Count: 3}) {
			t.Errorf("%s: segment %+v, want %d/3", p, r.Segment, i)
		}
		if !r.Start.Equal(startAt) {
			t.Errorf("%s: start %v, want the --start-at %v", p, r.Start, startAt)
		}
		if n := r.Counters["clients_started"]; n != 3 {
			t.Errorf("%s: %d clients started, want 3 (9 clients in 3 parts)", p, n)
		}
		got = append(got, r)
	}

	// The whole run, one process, against the same target.
	whole := filepath.Join(dir, "whole.json")
	c := osexec.Command(bin, "run", scen, "--quiet", "--target", b.URL, "--out", whole)
	c.Stdout, c.Stderr = new(strings.Builder), new(strings.Builder)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitBounded(c, 60*time.Second); err != nil {
		t.Fatalf("one process: %v\nstdout %s\nstderr %s", err, c.Stdout, c.Stderr)
	}
	after := idleStats(t, b)
	one := result(t, whole)

	// The merge, by the command a person runs.
	merged := filepath.Join(dir, "merged.json")
	if _, stderr, code := exec("report", parts[0], parts[1], parts[2], "--format", "json", "--out", merged); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	m := result(t, merged)
	t.Logf("build %v, total %v; merged counters %v; server for the parts %+v", built.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), m.Counters, sub(segServer, before))

	if m.Segment != nil || m.Runs != 3 || m.Partial {
		t.Errorf("merged: segment %+v, runs %d, partial %v; want no segment, 3 runs, not partial", m.Segment, m.Runs, m.Partial)
	}
	if len(one.Errors) != 0 || len(m.Errors) != 0 {
		t.Errorf("errors: one process %v, merged %v; want none", one.Errors, m.Errors)
	}
	if one.Counters["acks"] != 9*20 || one.Counters["iterations"] != 9*20 {
		t.Errorf("one process: %d acks, %d iterations; want 180 each (9 clients × 20)", one.Counters["acks"], one.Counters["iterations"])
	}
	if !maps.Equal(m.Counters, one.Counters) {
		t.Errorf("counters differ:\nmerged      %v\none process %v", m.Counters, one.Counters)
	}
	if m.ClientsConnected != one.ClientsConnected || !maps.Equal(m.Events, one.Events) || !maps.Equal(m.Disconnects, one.Disconnects) {
		t.Errorf("merged connected %d events %v disconnects %v; one process %d %v %v", m.ClientsConnected, m.Events, m.Disconnects, one.ClientsConnected, one.Events, one.Disconnects)
	}
	for _, name := range []string{"handshake", "ack", "event"} {
		if m.Latency(name) == nil || one.Latency(name) == nil {
			t.Errorf("%s: no samples (merged %v, one process %v)", name, m.Latency(name) != nil, one.Latency(name) != nil)
			continue
		}
		if a, b := m.Latency(name).TotalCount(), one.Latency(name).TotalCount(); a != b {
			t.Errorf("%s samples: merged %d, one process %d", name, a, b)
		}
	}
	// The merged timeline sums to the totals, as one process's does.
	if m.Timeline == nil {
		t.Fatal("merged result has no timeline")
	}
	var acks int64
	for _, iv := range m.Timeline.Intervals {
		acks += iv.Counters["acks"]
	}
	if acks != m.Counters["acks"] {
		t.Errorf("merged timeline: %d acks over its intervals, %d in the totals", acks, m.Counters["acks"])
	}
	// The server's own counts, for the parts and for the one process.
	serverAgrees(t, "parts", sub(segServer, before), m)
	serverAgrees(t, "one process", sub(after, segServer), one)
}

// serverDelta is what the server counted between two of its Stats.
type serverDelta struct{ sessions, events, out int64 }

func sub(a, b serverStats) serverDelta {
	return serverDelta{a.SessionsTotal - b.SessionsTotal, a.EventsIn - b.EventsIn, a.MessagesOut - b.MessagesOut}
}

// serverStats is the built-in target's Stats.
type serverStats = struct {
	Sessions, SessionsTotal, Sockets, SocketsTotal, MessagesIn, MessagesOut, BytesIn, BytesOut, EventsIn, AcksIn int64
}

// idleStats waits (bounded) for the server to have closed every session,
// which it does asynchronously after the clients left, then returns its
// counts.
func idleStats(t *testing.T, b *load.Builtin) serverStats {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); b.Stats().Sessions > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	st := b.Stats()
	if st.Sessions != 0 {
		t.Errorf("server: %d sessions still open 10 s after the runs ended", st.Sessions)
	}
	return serverStats(st)
}

// result reads a result file.
func result(t *testing.T, path string) *metrics.Result {
	t.Helper()
	r, _ := readResult(t, path)
	return r
}

// waitBounded waits for c, killing it after d.
func waitBounded(c *osexec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		c.Process.Kill()
		<-done
		return fmt.Errorf("still running after %v: killed", d)
	}
}

// TestReportRefusesMisleadingMerges: report refuses what is not a result
// and merges that would mislead, naming the file, with exit 2.
func TestReportRefusesMisleadingMerges(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r any) string {
		p := filepath.Join(dir, name)
		data, _ := json.Marshal(r)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	res := func(scenario, target string, seg *metrics.Segment) *metrics.Result {
		return &metrics.Result{Scenario: scenario, Target: target, Start: time.Now(), Runs: 1, Segment: seg,
			Counters: map[string]int64{"acks": 1}, Latencies: map[string]*metrics.Histogram{}}
	}
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte("{}"), 0o644)
	a := write("a.json", res("chat", "http://a", nil))
	b := write("b.json", res("echo", "http://a", nil))
	c := write("c.json", res("chat", "http://c", nil))
	p0 := write("p0.json", res("chat", "http://a", &metrics.Segment{Index: 0, Count: 3}))
	p1 := write("p1.json", res("chat", "http://a", &metrics.Segment{Index: 1, Count: 3}))
	p1b := write("p1b.json", res("chat", "http://a", &metrics.Segment{Index: 1, Count: 3}))
	p2 := write("p2.json", res("chat", "http://a", &metrics.Segment{Index: 2, Count: 3}))
	q := write("q.json", res("chat", "http://a", &metrics.Segment{Index: 0, Count: 2}))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{empty}, cli.ExitUsage, "empty.json: not a sioload run result"},
		{[]string{a, empty}, cli.ExitUsage, "empty.json: not a sioload run result"},
		{[]string{a, b}, cli.ExitUsage, `a.json is a run of scenario "chat" but b.json of "echo"`},
		{[]string{a, c}, cli.ExitUsage, `a.json ran against "http://a" but c.json against "http://c"`},
		{[]string{p0, p1, p1b, p2}, cli.ExitUsage, "part 1/3 is repeated (p1.json and p1b.json)"},
		{[]string{p0, q}, cli.ExitUsage, "segments of different splits"},
		{[]string{p0, a}, cli.ExitUsage, "is a whole run"},
		{[]string{p0, p2}, cli.ExitFailed, "parts missing: 1/3"},
		{[]string{p0, p1, p2}, 0, ""},
		{[]string{a, b, "--force"}, 0, ""},
	} {
		stdout, stderr, code := exec(append([]string{"report"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr+stdout, c.want) {
			t.Errorf("report %v: exit %d, want %d and %q\nstdout %s\nstderr %s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}
	// --force shows each run under its file's name, not a merge.
	stdout, _, _ := exec("report", a, b, "--force")
	if !strings.Contains(stdout, "== a.json") || !strings.Contains(stdout, "== b.json") {
		t.Errorf("report --force: want each run under its name:\n%s", stdout)
	}
}

// scenarioAndTarget writes a scenario into dir and starts the built-in target
// the processes of a test load, closed at the test's end.
func scenarioAndTarget(t *testing.T, dir, name, text string) (string, *load.Builtin) {
	t.Helper()
	scen := filepath.Join(dir, name)
	if err := os.WriteFile(scen, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := load.StartBuiltin(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return scen, b
}

// serverAgrees checks that a run of segmentScenario (9 sessions) counted what the server did:
// its sessions, the events it got and the packets it wrote.
func serverAgrees(t *testing.T, name string, st serverDelta, r *metrics.Result) {
	t.Helper()
	if st.sessions != r.Latency("handshake").TotalCount() || st.sessions != 9 {
		t.Errorf("%s: server opened %d sessions, sioload %d handshakes; want 9", name, st.sessions, r.Latency("handshake").TotalCount())
	}
	if st.events != r.Counters["messages_sent"] {
		t.Errorf("%s: server got %d events, sioload sent %d", name, st.events, r.Counters["messages_sent"])
	}
	if st.out != r.Counters["packets_received"] {
		t.Errorf("%s: server wrote %d packets, sioload read %d", name, st.out, r.Counters["packets_received"])
	}
}

// TestRunSegmentFlags: --segment and --start-at are checked, and what a
// part cannot do alone is refused, naming why.
func TestRunSegmentFlags(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(segmentScenario), 0o644)
	restart := filepath.Join(dir, "r.yaml")
	os.WriteFile(restart, []byte(strings.Replace(segmentScenario, "flow:", "faults:\n  - {at: 1s, restart_target: true, down: 1s}\nflow:", 1)), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", scen, "--segment", "3/3", "--target", "http://127.0.0.1:1"}, "--segment: segment 3/3: want 0 <= I < N"},
		{[]string{"run", scen, "--segment", "x", "--target", "http://127.0.0.1:1"}, `--segment: "x" is not I/N`},
		{[]string{"run", scen, "--segment", "1/3"}, "--segment: parts need one target"},
		{[]string{"run", scen, "--segment", "0/10", "--target", "http://127.0.0.1:1"}, "load.clients is 9, fewer than the 10 parts"},
		{[]string{"run", restart, "--segment", "0/2"}, "restart_target cannot run in segments"},
		{[]string{"run", scen, "--start-at", "yesterday"}, "--start-at: \"yesterday\" is not an RFC3339 time"},
		{[]string{"run", scen, "--start-at", time.Now().Add(-time.Minute).Format(time.RFC3339), "--target", "http://127.0.0.1:1"}, "in the past"},
		{[]string{"run", scen, "--start-at", time.Now().Add(48 * time.Hour).Format(time.RFC3339), "--target", "http://127.0.0.1:1"}, "ahead, more than"},
	} {
		_, stderr, code := exec(c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
