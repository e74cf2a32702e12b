package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

const target1 = "http://127.0.0.1:3000"

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verdicts map[string]conform.Verdict
		strict   bool
		want     int
		stderr   string
	}{
		{"all pass", nil, false, cli.ExitOK, ""},
		{"n/a and info allowed", map[string]conform.Verdict{
			"eio4.handshake.ws.ok": conform.NA, "sio5.connect.ws.root": conform.Info}, false, cli.ExitOK, ""},
		{"a fail", map[string]conform.Verdict{"eio4.handshake.ws.ok": conform.Fail}, false, cli.ExitFailed,
			"sioconform: http://127.0.0.1:3000: 1 failed, 0 errored (of 4 cases)\n"},
		{"an error", map[string]conform.Verdict{"eio4.handshake.ws.ok": conform.Error}, false, cli.ExitFailed,
			"sioconform: http://127.0.0.1:3000: 0 failed, 1 errored (of 4 cases)\n"},
		{"a warn", map[string]conform.Verdict{"eio4.handshake.ws.ok": conform.Warn}, false, cli.ExitOK, ""},
		{"a warn, strict", map[string]conform.Verdict{"eio4.handshake.ws.ok": conform.Warn}, true, cli.ExitFailed,
			"sioconform: http://127.0.0.1:3000: 0 failed, 1 warned (--strict), 0 errored (of 4 cases)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			for id, v := range tc.verdicts {
				f.verdicts[id] = v
			}
			args := []string{"run", "--url", target1}
			if tc.strict {
				args = append(args, "--strict")
			}
			r := runCLI(t, f, args...)
			if r.code != tc.want {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.want, r.stderr)
			}
			if r.stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
			if !strings.Contains(r.stdout, "4 cases: ") || !strings.Contains(r.stdout, "eio4.handshake.polling.ok") {
				t.Errorf("stdout is not the table report:\n%s", r.stdout)
			}
		})
	}
}

func TestRunPassesSelectionAndConfig(t *testing.T) {
	f := newFake()
	r := runCLI(t, f, "run", "--url", target1+"/", "--eio", "3", "--only", "eio3.*", "--only", "sio4.connect,x.y",
		"--skip", "*.ws.*", "--parallel", "3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := f.configs[0]; got.URL != target1+"/" || got.EIO != 3 || got.Parallel != 3 || got.Progress == nil {
		t.Errorf("config %+v", got)
	}
	if got, want := strings.Join(f.selects[0], " "), "eio3.* sio4.connect x.y | *.ws.*"; got != want {
		t.Errorf("select patterns %q, want %q", got, want)
	}
	if got := f.runs()[0]; len(got) != 2 || got[0] != "eio3.handshake.polling.ok" || got[1] != "sio4.connect.polling.root" {
		t.Errorf("ran %v", got)
	}
}

func TestRunFormatJSON(t *testing.T) {
	f := newFake()
	f.verdicts["eio4.heartbeat.ws.ping"] = conform.Fail
	r := runCLI(t, f, "run", "--url", target1, "--format", "json")
	if r.code != cli.ExitFailed {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	var rep conform.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, r.stdout)
	}
	if rep.Target != target1 || rep.EIO != 4 || len(rep.Results) != 4 || rep.Results[2].Verdict != conform.Fail {
		t.Errorf("report %+v", rep)
	}
}

func TestRunFormatJUnit(t *testing.T) {
	f := newFake()
	f.verdicts["eio4.heartbeat.ws.ping"] = conform.Fail
	f.verdicts["sio5.connect.ws.root"] = conform.NA
	r := runCLI(t, f, "run", "--url", target1, "--format", "junit")
	if r.code != cli.ExitFailed {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JUnit XML: %v\n%s", err, r.stdout)
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 ||
		doc.Suites[0].Name != "eio4" || doc.Suites[1].Name != "sio5" {
		t.Errorf("junit %+v", doc)
	}
}

func TestRunOut(t *testing.T) {
	f := newFake()
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, f, "run", "--url", target1, "--format", "json", "--out", out)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep conform.Report
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Results) != 4 {
		t.Fatalf("--out file: %v\n%s", err, data)
	}

	// An unwritable --out is found before anything runs.
	f = newFake()
	r = runCLI(t, f, "run", "--url", target1, "--out", filepath.Join(t.TempDir(), "no", "such", "dir", "r.json"))
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--out: ") || len(f.runs()) != 0 {
		t.Errorf("unwritable --out: exit %d, stderr %q, runs %v", r.code, r.stderr, f.runs())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{}, "Usage: sioconform <command>"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"run"}, "run: --url is required (see 'sioconform run -h')"},
		{[]string{"run", "--url", "127.0.0.1:3000"}, "want http(s)://host[:port]"},
		{[]string{"run", "--url", "ftp://x"}, "want http(s)://host[:port]"},
		{[]string{"run", "--url", target1 + "/socket.io/"}, "without path"},
		{[]string{"run", "--url", target1, "--format", "xml"}, `--format "xml": want table, json, junit, markdown or html`},
		{[]string{"run", "--url", target1, "--eio", "5"}, "--eio 5: want 4 or 3"},
		{[]string{"run", "--url", target1, "--eio", "0"}, "--eio 0: want 4 or 3"},
		{[]string{"run", "--url", target1, "--parallel", "0"}, "--parallel 0"},
		{[]string{"run", "--url", target1, "--only", "eio4.[x"}, `bad pattern "eio4.[x"`},
		{[]string{"run", "--url", target1, "--only", "nothing.matches"}, "no case of Engine.IO v4 matches"},
		{[]string{"run", "--url", target1, "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "--url", target1, "stray"}, `unexpected argument "stray"`},
		{[]string{"run", target1, "--only", "x"}, `unexpected argument "` + target1 + `": give the server as --url ` + target1},
		{[]string{"run", "--url", target1, "--cases", "/no/such/dir"}, "--cases /no/such/dir: "},
	} {
		f := newFake()
		r := runCLI(t, f, tc.args...)
		if r.code != cli.ExitUsage {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: stderr %q lacks %q", tc.args, r.stderr, tc.want)
		}
		if len(f.runs()) != 0 {
			t.Errorf("%q: ran cases despite the usage error", tc.args)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}} {
		r := runCLI(t, newFake(), args...)
		if r.code != 0 || strings.Count(r.stderr, "Commands:") != 1 || r.stdout != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, cmd := range []string{"run", "list", "matrix"} {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			r := runCLI(t, newFake(), args...)
			// Usage goes to stderr, once, like every siokit command's.
			if r.code != 0 || strings.Count(r.stderr, "Usage: sioconform "+cmd) != 1 ||
				!strings.Contains(r.stderr, "Options:") || !strings.Contains(r.stderr, "Examples:") || r.stdout != "" {
				t.Errorf("%q: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
			}
		}
	}
}

// TestHelpVerdicts: the overview names every verdict a report can hold
// (it left out warn), and matrix -h says that warns, like n/a and info,
// leave the exit status 0 (the matrix has no --strict).
func TestHelpVerdicts(t *testing.T) {
	r := runCLI(t, newFake(), "-h")
	for _, v := range []string{"pass", "fail", "warn", "must-ref", "n/a", "info", "error"} {
		if !strings.Contains(r.stderr, v) {
			t.Errorf("sioconform -h does not name the verdict %s:\n%s", v, r.stderr)
		}
	}
	r = runCLI(t, newFake(), "matrix", "-h")
	if !strings.Contains(r.stderr, "(warn, n/a and info\n     allowed") || !strings.Contains(r.stderr, "pass, FAIL, warn, n-a") {
		t.Errorf("matrix -h does not say warn cells and that they leave exit 0:\n%s", r.stderr)
	}
}

func TestRunBrokenCaseFile(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	f.dirErr = errors.New(dir + "/bad.yaml:12: cases[0].steps[1].http: unknown key \"methd\"")
	r := runCLI(t, f, "run", "--url", target1, "--cases", dir)
	if r.code != cli.ExitUsage || r.stderr != "sioconform: "+f.dirErr.Error()+"\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}

	// Ids must be unique across the built-in cases and every folder.
	f = newFake()
	f.dirs = map[string][]*conform.Case{dir: {{ID: "eio4.handshake.ws.ok", File: dir + "/mine.yaml", Line: 7}}}
	r = runCLI(t, f, "run", "--url", target1, "--cases", dir)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, dir+`/mine.yaml:7: id: duplicate id "eio4.handshake.ws.ok" (also defined at cases/x.yaml:1)`) {
		t.Errorf("duplicate: exit %d, stderr %q", r.code, r.stderr)
	}

	// A folder's cases join the built-in ones.
	f = newFake()
	f.dirs = map[string][]*conform.Case{dir: {{ID: "eio4.mine.polling.x", File: dir + "/mine.yaml", Line: 3}}}
	r = runCLI(t, f, "run", "--url", target1, "--cases", dir, "--only", "eio4.mine")
	if r.code != 0 || len(f.runs()) != 1 || len(f.runs()[0]) != 1 || f.runs()[0][0] != "eio4.mine.polling.x" {
		t.Errorf("folder case: exit %d, runs %v, stderr %q", r.code, f.runs(), r.stderr)
	}
}

func TestRunUnreachable(t *testing.T) {
	f := newFake()
	f.down[target1] = true
	out := filepath.Join(t.TempDir(), "r.xml")
	r := runCLI(t, f, "run", "--url", target1, "--format", "junit", "--out", out)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "unreachable") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out file left behind without a report: %v", err)
	}
}

// TestRunInterrupted cancels the run after two cases, as Ctrl-C would:
// the report still goes out, holding only the cases that finished, and in
// every format it says it was interrupted, never that the target conforms.
func TestRunInterrupted(t *testing.T) {
	for _, format := range []string{"json", "table", "markdown", "html", "junit"} {
		ctx, cancel := context.WithCancelCause(context.Background())
		f := newFake()
		f.afterCase = func(i int) {
			if i == 1 {
				cancel(cli.ErrInterrupted)
			}
		}
		out := filepath.Join(t.TempDir(), "partial")
		r := runCLIWith(t, ctx, f, nil, "run", "--url", target1, "--format", format, "--out", out)
		if r.code != cli.ExitFailed || r.stderr != "sioconform: interrupted: 2 of 4 cases finished\n" {
			t.Errorf("%s: exit %d, stderr %q", format, r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: no partial report: %v", format, err)
		}
		if strings.Contains(string(data), "context canceled") || strings.Contains(string(data), "conformant") {
			t.Errorf("%s: partial report judges the target:\n%s", format, data)
		}
		if format != "json" && !strings.Contains(string(data), "interrupted: 2 of 4 cases finished") {
			t.Errorf("%s: partial report does not say it was interrupted:\n%s", format, data)
		}
		switch format {
		case "table":
			if !strings.Contains(string(data), "2 cases: 2 pass, 0 fail") {
				t.Errorf("partial table:\n%s", data)
			}
		case "junit":
			if !strings.Contains(string(data), `errors="1"`) || !strings.Contains(string(data), `type="interrupted"`) {
				t.Errorf("partial junit is not red:\n%s", data)
			}
		case "json":
			var rep conform.Report
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != 2 || rep.Results[0].ID != "eio4.handshake.polling.ok" || rep.Results[1].ID != "eio4.handshake.ws.ok" {
				t.Errorf("partial report holds %+v", rep.Results)
			}
			if !rep.Interrupted || rep.CasesTotal != 4 || rep.Started.IsZero() {
				t.Errorf("partial report: interrupted %v, cases_total %d, started %v", rep.Interrupted, rep.CasesTotal, rep.Started)
			}
		}
	}
}

// A signal that arrives after the last case interrupts nothing.
func TestRunCancelledAfterLastCase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake()
	f.afterCase = func(i int) {
		if i == 3 {
			cancel()
		}
	}
	r := runCLIWith(t, ctx, f, nil, "run", "--url", target1)
	if r.code != 0 || !strings.Contains(r.stdout, "4 cases: 4 pass") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestRunProgressAndColor(t *testing.T) {
	f := newFake()
	f.verdicts["eio4.handshake.ws.ok"] = conform.Fail
	r := runCLIWith(t, context.Background(), f, terminal(true, true), "run", "--url", target1)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 5 || lines[0] != "[1/4] pass  eio4.handshake.polling.ok 1.0ms" || lines[1] != "[2/4] fail  eio4.handshake.ws.ok 2.0ms" {
		t.Errorf("progress:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("no colour on a terminal:\n%s", r.stdout)
	}

	r = runCLIWith(t, context.Background(), newFake(), func(st *cli.State) {
		terminal(true, false)(st)
		st.Env = func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		}
	}, "run", "--url", target1)
	if strings.Contains(r.stdout, "\x1b[") || r.stderr != "" {
		t.Errorf("NO_COLOR or non-terminal stderr ignored:\nstdout %q\nstderr %q", r.stdout, r.stderr)
	}
}

func TestRunVerbose(t *testing.T) {
	r := runCLI(t, newFake(), "run", "--url", target1, "-v")
	if r.code != 0 || !strings.Contains(r.stdout, "--- pass eio4.handshake.polling.ok") {
		t.Errorf("-v shows no passing details:\n%s", r.stdout)
	}
}

// nilEngine is an engine that breaks its contract: no report, no error.
type nilEngine struct{ *fakeEngine }

func (nilEngine) Run(context.Context, []*conform.Case, conform.Config) (*conform.Report, error) {
	return nil, nil
}

func TestRunNoReport(t *testing.T) {
	r := runCLI(t, nilEngine{newFake()}, "run", "--url", target1)
	if r.code != cli.ExitFailed || !strings.Contains(r.stderr, "internal error") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
