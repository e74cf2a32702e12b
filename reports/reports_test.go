package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
)

// update rewrites the golden files from the current output:
//
//	go test ./reports -update
//
// Review the diff before committing it: the golden files are the
// specification of what users see.
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

var started = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// fixture is a hand-built report that exercises every renderer path: each
// verdict, a multi-line diff, traces over HTTP and WebSocket, control
// characters from a polling payload, and ids, messages and a target full
// of characters XML must escape.
func fixture() *conform.Report {
	return &conform.Report{
		Target:   "http://127.0.0.1:3000/?a=1&b=<2>",
		EIO:      4,
		Started:  started,
		Duration: 4217 * time.Millisecond,
		Results: []conform.Result{
			{
				ID:          "eio4.handshake.polling.ok",
				Description: "a GET handshake over polling opens a session with the contract's settings",
				Spec:        `engine.io-protocol v4, "Handshake"`,
				Official:    "Engine.IO v4 › handshake › HTTP long-polling › successfully opens a session",
				Verdict:     conform.Pass,
				Duration:    12300 * time.Microsecond,
				Step:        -1,
				Trace: []conform.TraceEntry{
					{At: 0, Dir: "send", Kind: "http", Conn: "http", Summary: "GET /engine.io/?EIO=4&transport=polling"},
					{At: 12300 * time.Microsecond, Dir: "recv", Kind: "http", Conn: "http", Summary: `200 0{"sid":"abc","upgrades":["websocket"]}`},
				},
			},
			{
				ID:          "eio4.message.polling.batch",
				Description: "two packets in one POST arrive as two messages",
				Spec:        `engine.io-protocol v4, "Payload"`,
				Verdict:     conform.Fail,
				Duration:    1234500 * time.Microsecond,
				Step:        2,
				Message:     `step 2 (http, line 14): body: expected "4hello\x1e4world", got "4hello" & more <truncated> {"a_long_json_payload_without_spaces":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`,
				Diff:        "- 4hello\x1e4world\n+ 4hello\n  (1 packet instead of 2)\n",
				Trace: []conform.TraceEntry{
					{At: 0, Dir: "send", Kind: "http", Conn: "http", Summary: "GET /engine.io/?EIO=4&transport=polling"},
					{At: 3100 * time.Microsecond, Dir: "recv", Kind: "http", Conn: "http", Summary: `200 0{"sid":"abc"}`},
					{At: 3500 * time.Microsecond, Dir: "send", Kind: "http", Conn: "http", Summary: "POST /engine.io/?EIO=4&transport=polling&sid=abc 4hello\x1e4world"},
					{At: 5 * time.Millisecond, Dir: "recv", Kind: "http", Conn: "http", Summary: "200 ok"},
					{At: 1234 * time.Millisecond, Dir: "recv", Kind: "http", Conn: "http", Summary: "200 4hello"},
				},
			},
			{
				ID:          "sio5.admin.ws.refused",
				Description: "the admin namespace refuses a wrong token",
				Spec:        `socket.io-protocol v5, "CONNECT_ERROR"`,
				Verdict:     conform.NA,
				Duration:    800 * time.Microsecond,
				Step:        1,
				Message:     "optional feature absent: step 1 (ws_expect, line 30): 44/admin,{\"message\":\"Invalid namespace\"}",
				Trace: []conform.TraceEntry{
					{At: 0, Dir: "send", Kind: "ws-open", Conn: "ws", Summary: "GET /socket.io/?EIO=4&transport=websocket"},
					{At: 400 * time.Microsecond, Dir: "recv", Kind: "ws-open", Conn: "ws", Summary: "101"},
					{At: 500 * time.Microsecond, Dir: "send", Kind: "text", Conn: "ws", Summary: "text 40/admin,"},
					{At: 800 * time.Microsecond, Dir: "recv", Kind: "text", Conn: "ws", Summary: `text 44/admin,{"message":"Invalid namespace"}`},
				},
			},
			{
				ID:          "eio4.heartbeat.ws.timing",
				Description: "the first ping comes after pingInterval",
				Spec:        `engine.io-protocol v4, "Heartbeat"`,
				Verdict:     conform.Info,
				Duration:    351 * time.Millisecond,
				Step:        3,
				Message:     "step 3 (ws_expect, line 52): ping after 351ms, reference sends it after 300ms (+/- 50ms)",
				Trace: []conform.TraceEntry{
					{At: 0, Dir: "send", Kind: "ws-open", Conn: "ws2", Summary: "GET /engine.io/?EIO=4&transport=websocket"},
					{At: 351 * time.Millisecond, Dir: "recv", Kind: "text", Conn: "ws2", Summary: "text 2"},
				},
			},
			{
				ID:          `sio5.event.ws.<ünïcode>&"quotes"`,
				Description: "an event with an exotic name & arguments <round-trips>",
				Spec:        `socket.io-protocol v5, "EVENT"`,
				Verdict:     conform.Error,
				Duration:    5 * time.Second,
				Step:        0,
				Message:     "broken case: step 0 (http, line 61): undefined variable ${sid}: the case must capture it first, e.g. eio_open_polling: {capture: sid}, before using it in a query",
				Diff:        "- 42[\"x\",\"]]>\"]\n+ (nothing)",
				Trace: []conform.TraceEntry{
					{At: 0, Dir: "send", Kind: "binary", Conn: "ws", Summary: "binary \xff\xfe\x00 \u0085 \ufffe"},
					{At: 2 * time.Millisecond, Dir: "recv", Kind: "close", Conn: "ws", Summary: "close 1009 \"message ]]> too big\""},
				},
			},
		},
	}
}

func TestConformTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    TableOptions
	}{
		{"conform_table.golden", TableOptions{}},
		{"conform_table_verbose.golden", TableOptions{Verbose: true}},
		{"conform_table_color.golden", TableOptions{Color: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ConformTable(&buf, fixture(), tc.o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

func TestConformJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := ConformJSON(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "conform.json.golden", buf.Bytes())
}

func TestConformJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := ConformJUnit(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "conform_junit.xml.golden", buf.Bytes())
}

// matrixFixture is three targets: the full fixture, a second one that
// passes what the first failed and lacks a case, and one with a case of
// its own.
func matrixFixture() ([]string, []*conform.Report) {
	a := fixture()
	b := fixture()
	b.Results = b.Results[:3]
	b.Results[1].Verdict = conform.Pass
	c := &conform.Report{Target: "http://127.0.0.1:3002", EIO: 3, Results: []conform.Result{
		{ID: "eio3.handshake.polling.ok", Verdict: conform.Pass},
		{ID: "eio4.handshake.polling.ok", Verdict: conform.Fail},
		{ID: "eio3.odd.polling.a|pipe", Verdict: conform.Info},
	}}
	return []string{"node4 <4.8.4>", "go|fast & co", "node2"}, []*conform.Report{a, b, c}
}

func TestConformMatrix(t *testing.T) {
	names, reps := matrixFixture()
	for _, tc := range []struct {
		name     string
		markdown bool
	}{
		{"conform_matrix.golden", false},
		{"conform_matrix.md.golden", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ConformMatrix(&buf, names, reps, tc.markdown); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

// TestConformJUnitParses reads the JUnit output back with encoding/xml, as
// a CI parser would, and checks that nothing was lost or mangled on the way:
// escaped names, counts, CDATA split around "]]>", multi-line text.
func TestConformJUnitParses(t *testing.T) {
	var buf bytes.Buffer
	if err := ConformJUnit(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Name     string   `xml:"name,attr"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name       string `xml:"name,attr"`
			Tests      int    `xml:"tests,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Classname string   `xml:"classname,attr"`
				Name      string   `xml:"name,attr"`
				Time      float64  `xml:"time,attr"`
				Failure   *outcome `xml:"failure"`
				Error     *outcome `xml:"error"`
				Skipped   *outcome `xml:"skipped"`
				SystemOut *string  `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(&buf)
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}

	if doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 {
		t.Errorf("root counts tests=%d failures=%d errors=%d skipped=%d, want 5 1 1 1",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	if want := "sioconform http://127.0.0.1:3000/?a=1&b=<2>"; doc.Name != want {
		t.Errorf("root name %q, want %q", doc.Name, want)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "eio4" || doc.Suites[1].Name != "sio5" {
		t.Fatalf("suites %+v, want eio4 and sio5", doc.Suites)
	}
	if p := doc.Suites[0].Properties; len(p) != 2 || p[0].Value != "http://127.0.0.1:3000/?a=1&b=<2>" || p[1].Value != "4" {
		t.Errorf("properties %+v", p)
	}

	byName := map[string]int{}
	for si, s := range doc.Suites {
		for ci, c := range s.Cases {
			if c.Classname != s.Name {
				t.Errorf("case %s: classname %q in suite %q", c.Name, c.Classname, s.Name)
			}
			byName[c.Name] = si*100 + ci
		}
	}
	for _, res := range fixture().Results {
		if _, ok := byName[res.ID]; !ok {
			t.Errorf("case %q missing from the parsed output", res.ID)
		}
	}

	fail := doc.Suites[0].Cases[1]
	if fail.Failure == nil || fail.Failure.Type != "fail" {
		t.Fatalf("fail case: %+v", fail)
	}
	if want := `step 2 (http, line 14): body: expected "4hello\x1e4world", got "4hello" & more <truncated> {"a_long_json_payload_without_spaces":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`; fail.Failure.Message != want {
		t.Errorf("failure message %q, want %q", fail.Failure.Message, want)
	}
	for _, want := range []string{"    - 4hello\\x1e4world\n    + 4hello\n", "+1234.0ms  recv  http  200 4hello"} {
		if !strings.Contains(fail.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, fail.Failure.Text)
		}
	}
	if fail.Time != 1.234 {
		t.Errorf("time %v, want 1.234", fail.Time)
	}

	info := doc.Suites[0].Cases[2]
	if info.SystemOut == nil || !strings.Contains(*info.SystemOut, "ping after 351ms") || info.Failure != nil {
		t.Errorf("info case: %+v", info)
	}
	na := doc.Suites[1].Cases[0]
	if na.Skipped == nil || na.Skipped.Message != "not applicable" {
		t.Errorf("n/a case: %+v", na)
	}
	errCase := doc.Suites[1].Cases[1]
	if errCase.Name != `sio5.event.ws.<ünïcode>&"quotes"` || errCase.Error == nil {
		t.Fatalf("error case: %+v", errCase)
	}
	if !strings.Contains(errCase.Error.Text, `- 42["x","]]>"]`) || !strings.Contains(errCase.Error.Text, `close 1009 "message ]]> too big"`) {
		t.Errorf("]]> did not survive the CDATA split:\n%s", errCase.Error.Text)
	}
	if !strings.Contains(errCase.Error.Text, `binary \xff\xfe\x00 \u0085 \ufffe`) {
		t.Errorf("control characters not made visible:\n%s", errCase.Error.Text)
	}
}

func TestConformMatrixLengthMismatch(t *testing.T) {
	if err := ConformMatrix(io.Discard, []string{"a"}, nil, false); err == nil {
		t.Fatal("no error for 1 name and 0 reports")
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"plain ascii":         "plain ascii",
		"ünïcode ok ›":        "ünïcode ok ›",
		"a\x1eb":              `a\x1eb`,
		"line\nnext\ttab":     "line\nnext\ttab",
		"\x00\x7f":            `\x00\x7f`,
		"bad \xff byte":       `bad \xff byte`,
		"c1 \u0085 \uffff":    `c1 \u0085 \uffff`,
		"real \ufffd is kept": "real \ufffd is kept",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := oneLine("a\nb\tc\x1e"), `a\nb\tc\x1e`; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"two words here", 9, "two words\nhere"},
		{"a 0123456789abcdef b", 6, "a\n012345\n6789ab\ncdef b"},
		{"ünï cödé wörds", 8, "ünï cödé\nwörds"},
		{"  spaces   collapse  when   wrapping ", 16, "spaces collapse\nwhen wrapping"},
	} {
		if got := wrap(tc.in, tc.width); got != tc.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestSummaryUnknownVerdictAndSingular(t *testing.T) {
	r := &conform.Report{Duration: 1500 * time.Millisecond, Results: []conform.Result{{ID: "x.y", Verdict: "weird"}}}
	if got, want := summary(r, false), "1 case: 0 pass, 0 fail, 0 warn, 0 n/a, 0 info, 0 error, 1 weird in 1.5s"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	r.Duration = 2345 * time.Microsecond
	if got, want := summary(r, false), "1 case: 0 pass, 0 fail, 0 warn, 0 n/a, 0 info, 0 error, 1 weird in 2.3ms"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

// errWriter fails every write, to check that renderers report write errors.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	names, reps := matrixFixture()
	for name, render := range map[string]func(io.Writer) error{
		"table":  func(w io.Writer) error { return ConformTable(w, fixture(), TableOptions{}) },
		"json":   func(w io.Writer) error { return ConformJSON(w, fixture()) },
		"junit":  func(w io.Writer) error { return ConformJUnit(w, fixture()) },
		"matrix": func(w io.Writer) error { return ConformMatrix(w, names, reps, false) },
		"list":   func(w io.Writer) error { return ConformList(w, listFixture()) },
		"list-j": func(w io.Writer) error { return ConformListJSON(w, listFixture()) },
	} {
		if err := render(errWriter{}); err == nil {
			t.Errorf("%s: no error from a failing writer", name)
		}
	}
}

func TestConformJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := ConformJSON(&buf, &conform.Report{Target: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"results": []`) {
		t.Errorf("empty report:\n%s", buf.String())
	}
}

// listFixture is a small catalogue: a built-in case with an official name,
// and a user case with a long description, an on_fail and no official name.
func listFixture() []*conform.Case {
	return []*conform.Case{
		{
			ID: "eio4.handshake.polling.ok", Description: "a GET handshake over polling opens a session with the contract's settings",
			Spec: `engine.io-protocol v4, "Handshake"`, Strength: conform.Must, Rule: "the server MUST respond with an open packet", Official: "Engine.IO v4 › handshake › HTTP long-polling › successfully opens a session",
			Server: "engineio", EIO: 4, Path: "/engine.io/", Timeout: 5 * time.Second, File: "cases/eio4/handshake.yaml", Line: 3,
		},
		{
			ID: "sio5.custom.ws.<mine>", Description: "a user case & its description, which is long enough to wrap in the table at least once or twice",
			Spec: `socket.io-protocol v5, "EVENT"`, Server: "socketio", EIO: 4, Path: "/socket.io/", Serial: true,
			Timeout: 2 * time.Second, Strength: conform.Open, Rule: "r", File: "my-cases/x.yaml", Line: 12,
		},
	}
}

func TestConformList(t *testing.T) {
	var buf bytes.Buffer
	if err := ConformList(&buf, listFixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "conform_list.golden", buf.Bytes())

	buf.Reset()
	if err := ConformListJSON(&buf, listFixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "conform_list.json.golden", buf.Bytes())

	buf.Reset()
	if err := ConformListJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "[]\n" {
		t.Errorf("empty list JSON = %q, want []", got)
	}
}
