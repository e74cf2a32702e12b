package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/siokit/siokit/internal/metrics"
)

// stormScenario is the reconnect storm scaled down: a drop and a restart
// of the built-in target (no target given) within 3 s.
const stormScenario = `name: storm
transport: websocket
load: {model: closed, clients: 4, ramp: 400ms, hold: 2500ms, grace: 1s}
flow:
  - connect: {}
  - loop:
      rate: 10
      steps:
        - emit: {event: echo, args: [{seq: "{{.Seq}}", t: "{{.SendTime}}"}]}
        - wait: {event: echo, match: {seq: "{{.Seq}}"}, timeout: 2s}
faults:
  - {at: 1s, drop: 0.5}
  - {at: 1500ms, restart_target: true, down: 300ms}
thresholds:
  - p99(event) < 1us
  - count(reconnect) > 0
`

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("..", "..", "docs", "sioload-result.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, what string, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return sch.Validate(inst)
}

// TestResultSchema checks docs/sioload-result.schema.json against the
// JSON of a real run (`run --out`) and of `report --format json`, and
// the fields a CI script reads: thresholds' observed and ok, latency
// summaries in ms, elapsed in seconds.
func TestResultSchema(t *testing.T) {
	sch := compileSchema(t)
	dir := t.TempDir()
	scen := filepath.Join(dir, "storm.yaml")
	os.WriteFile(scen, []byte(stormScenario), 0o644)
	out := filepath.Join(dir, "r.json")
	html := filepath.Join(dir, "r.html")
	junit, md := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.md")
	_, stderr, code := exec("run", scen, "--quiet", "--out", out, "--html", html, "--junit", junit, "--summary-md", md)
	if code != ExitThreshold {
		t.Fatalf("exit %d, want %d (p99(event) < 1us fails); stderr %s", code, ExitThreshold, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, "run --out", b); err != nil {
		t.Fatalf("run --out does not match the schema: %v", err)
	}
	var doc struct {
		Elapsed      float64                      `json:"elapsed"`
		LatencyStats map[string]metrics.HistStats `json:"latency_stats"`
		Thresholds   []struct {
			Source   string   `json:"source"`
			Observed *float64 `json:"observed"`
			OK       bool     `json:"ok"`
		}
		Timeline *metrics.Timeline `json:"timeline"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Elapsed < 2.9 || doc.Elapsed > 60 {
		t.Errorf("elapsed %v s, want the run's 2.9 s of load and a bit", doc.Elapsed)
	}
	ev := doc.LatencyStats["event"]
	if ev.Unit != "ms" || ev.Count == 0 || ev.P50 <= 0 || ev.Max < ev.P99 || ev.P99 < ev.P50 || ev.Min > ev.P50 {
		t.Errorf("event stats %+v", ev)
	}
	if len(doc.Thresholds) != 2 {
		t.Fatalf("thresholds %+v", doc.Thresholds)
	}
	if th := doc.Thresholds[0]; th.OK || th.Observed == nil || *th.Observed <= 1 {
		t.Errorf("p99(event) < 1us: observed %v ok %v, want a failure observed above 1 µs", th.Observed, th.OK)
	}
	if th := doc.Thresholds[1]; !th.OK || th.Observed == nil || *th.Observed < 1 {
		t.Errorf("count(reconnect) > 0: observed %v ok %v", th.Observed, th.OK)
	}
	// A loaded machine closes intervals late (1 s asked, 2 s seen), so
	// only "several" is certain for a 3 s run.
	if doc.Timeline == nil || len(doc.Timeline.Intervals) < 2 {
		n := -1
		if doc.Timeline != nil {
			n = len(doc.Timeline.Intervals)
		}
		t.Fatalf("timeline has %d intervals, want at least 2", n)
	}
	var r metrics.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if err := r.CheckTimeline(); err != nil {
		t.Errorf("written timeline: %v", err)
	}

	// The merged report of two copies validates too.
	stdout, stderr, code := exec("report", out, out, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if err := validate(t, sch, "report --format json", []byte(stdout)); err != nil {
		t.Fatalf("report --format json does not match the schema: %v", err)
	}

	// --html and report --format html write a page (opened in a
	// browser by the reports tests).
	report := filepath.Join(dir, "report.html")
	if _, stderr, code := exec("report", out, out, "--format", "html", "--out", report); code != ExitThreshold {
		t.Errorf("report --format html: exit %d, want %d: %s", code, ExitThreshold, stderr)
	}
	if _, stderr, code := exec("report", out, "--format", "html"); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("report --format html without --out: exit %d: %s", code, stderr)
	}
	for _, p := range []string{html, report} {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("<title>sioload report")) || !bytes.Contains(b, []byte("p99(event) &lt; 1us")) {
			t.Errorf("%s: %v, %d bytes without the report's title or thresholds", p, err, len(b))
		}
	}

	if b, err := os.ReadFile(junit); err != nil || !bytes.Contains(b, []byte(`<testcase classname="thresholds" name="p99(event) &lt; 1us"`)) || !bytes.Contains(b, []byte(`failures="`)) {
		t.Errorf("--junit: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(md); err != nil || !bytes.Contains(b, []byte("**thresholds FAILED**")) || !bytes.Contains(b, []byte("| event |")) {
		t.Errorf("--summary-md: %v\n%s", err, b)
	}

	// The schema can fail: a duration as a Go string, as results had it.
	bad := strings.Replace(string(b), `"elapsed": `, `"elapsed": "4s", "x": `, 1)
	if err := validate(t, sch, "bad", []byte(bad)); err == nil || !strings.Contains(err.Error(), "elapsed") {
		t.Errorf("a string elapsed passed the schema: %v", err)
	}
}
