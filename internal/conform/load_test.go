package conform

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadBuiltin(t *testing.T) {
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range cases {
		// Only the official-*.yaml files mirror the official suites; the
		// extra-*.yaml files are siokit's own cases (docs/conformance-cases.md).
		if !strings.HasPrefix(filepath.Base(c.File), "official-") {
			if c.Official != "" {
				t.Errorf("%s (%s): an extra case names an official test", c.ID, c.File)
			}
			continue
		}
		n[strings.SplitN(c.ID, ".", 2)[0]]++
		if c.Official == "" && !strings.Contains(c.ID, "in-time") {
			t.Errorf("%s: no official test name", c.ID)
		}
	}
	if n["eio4"] != 26 || n["eio3"] != 25 || n["sio5"] != 32 {
		t.Errorf("case counts %v", n)
	}
}

// caseHead and clientCaseHead begin the one-case files of the load tests
// (f.yaml): a server case and a client case, up to their steps.
const (
	caseHead       = "cases:\n  - id: eio4.a.b\n    description: d\n    spec: s\n"
	clientCaseHead = "side: client\ncases:\n  - id: client.eio4.a.b\n    description: d\n    spec: s\n    transport: polling\n"
)

// loadOne loads a case file f.yaml holding text and returns its first
// case.
func loadOne(t *testing.T, text string) *Case {
	t.Helper()
	cases, err := parseFile("f.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cases[0]
}

// wantLoadError checks that a case file f.yaml holding text is refused
// with an error that contains want (the case's name says which).
func wantLoadError(t *testing.T, name, text, want string) {
	t.Helper()
	_, err := parseFile("f.yaml", []byte(text))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: err = %v, want it to contain %q", name, err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	const head = caseHead
	tests := []struct{ name, yaml, want string }{
		{"unknown case key", head + "    colour: red\n    steps: [{sleep: 1ms}]\n", "f.yaml:5: cases[0].colour: unknown key"},
		{"unknown step key", head + "    steps:\n      - sleep: 1ms\n        colour: red\n", "f.yaml:7: eio4.a.b.steps[0].colour: unknown key"},
		{"bad duration", head + "    steps:\n      - sleep: soon\n", `f.yaml:6: eio4.a.b.steps[0].sleep: want a duration like 500ms, got "soon"`},
		{"bad within", head + "    steps:\n      - ws_expect: {text: x, within: 5}\n", `f.yaml:6: eio4.a.b.steps[0].ws_expect.within: want a duration`},
		{"two actions", head + "    steps:\n      - {sleep: 1ms, wait: x}\n", "f.yaml:6: eio4.a.b.steps[0]: two actions"},
		{"missing steps", head, "f.yaml:2: cases[0].steps: missing"},
		{"bad id", "cases:\n  - id: Foo\n    description: d\n    spec: s\n    steps: [{sleep: 1ms}]\n", `f.yaml:2: cases[0].id: "Foo" is not`},
		{"bad expect key", head + "    steps:\n      - http: {}\n        expect: {stat: 200}\n", "f.yaml:7: eio4.a.b.steps[0].http.expect.stat: unknown key"},
		{"bad json type", head + "    steps:\n      - http: {}\n        expect: {json: {a: {type: str}}}\n", `eio4.a.b.steps[0].http.expect.json.a.type: want string, number`},
		{"wait unknown", head + "    steps:\n      - wait: get1\n", `no earlier async step named "get1"`},
		{"syntax", "cases: [\n", "f.yaml:1: yaml: line 1"},
		{"bad pattern", head + "    steps:\n      - http: {}\n        expect: {body: {pattern: '('}}\n", "expect.body.pattern"},
	}
	for _, tt := range tests {
		wantLoadError(t, tt.name, tt.yaml, tt.want)
	}
	// A mistyped action is one line naming the action meant, not also
	// "no action".
	_, err := parseFile("f.yaml", []byte(head+"    steps:\n      - htp: {}\n"))
	if err == nil || err.Error() != `f.yaml:6: eio4.a.b.steps[0].htp: unknown key (did you mean "http"?)` {
		t.Errorf("mistyped action: err = %v", err)
	}
}

func TestLoadDirDuplicate(t *testing.T) {
	dir := t.TempDir()
	c := "cases:\n  - id: eio4.dup.x\n    description: d\n    spec: s\n    steps: [{sleep: 1ms}]\n"
	for _, f := range []string{"a.yaml", "sub/b.yaml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), `sub/b.yaml:2: id: duplicate id "eio4.dup.x" (first defined at `) {
		t.Fatalf("err = %v", err)
	}
}

func TestSelect(t *testing.T) {
	mk := func(ids ...string) []*Case {
		var out []*Case
		for _, id := range ids {
			out = append(out, &Case{ID: id})
		}
		return out
	}
	all := mk("sio5.b", "eio4.a.x", "eio3.a", "sio4.z", "eio4.b.y")
	ids := func(cs []*Case) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return strings.Join(s, " ")
	}
	for _, tt := range []struct {
		eio        int
		only, skip []string
		want       string
	}{
		{4, nil, nil, "eio4.a.x eio4.b.y sio5.b"},
		{3, nil, nil, "eio3.a sio4.z"},
		{4, []string{"eio4.*"}, nil, "eio4.a.x eio4.b.y"},
		{4, []string{"eio4.a"}, nil, "eio4.a.x"},
		{4, nil, []string{"*.y", "sio5.*"}, "eio4.a.x"},
	} {
		if got := ids(Select(all, tt.eio, tt.only, tt.skip)); got != tt.want {
			t.Errorf("Select(%d, %v, %v) = %q, want %q", tt.eio, tt.only, tt.skip, got, tt.want)
		}
	}
}

// Every problem of a file is reported at once, in file order, each as a
// yamldoc error naming its line and field.
func TestLoadErrorsAll(t *testing.T) {
	src := "cases:\n  - id: eio4.a.b\n    description: d\n    spec: s\n    steps:\n" +
		"      - sleep: soon\n      - http: {methd: GET}\n      - ws_expect: {text: a, within: 5}\n"
	_, err := parseFile("f.yaml", []byte(src))
	want := `f.yaml:6: eio4.a.b.steps[0].sleep: want a duration like 500ms, got "soon"` + "\n" +
		`f.yaml:7: eio4.a.b.steps[1].http.methd: unknown key (did you mean "method"? allowed: abort_after, body, body_hex, headers, method, pad, pad_to, path, query)` + "\n" +
		`f.yaml:8: eio4.a.b.steps[2].ws_expect.within: want a duration like 500ms, got "5"`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	var le *LoadError
	if !errors.As(err, &le) || le.Line != 6 || le.Field != "eio4.a.b.steps[0].sleep" {
		t.Errorf("first problem %+v, want line 6 of eio4.a.b.steps[0].sleep", le)
	}
}
