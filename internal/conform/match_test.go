package conform

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

func compileJSON(t *testing.T, src string) *jsonMatcher {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	m := &jsonMatcher{}
	if err := decodeNode(n.Content[0], "json", m); err != nil {
		t.Fatal(err)
	}
	return m
}

// decodeNode decodes one node of a case file into v, as the loader does.
func decodeNode(n *yaml.Node, field string, v any) error {
	d := &yamldoc.Decoder{File: "t.yaml", Lines: map[string]int{}}
	d.Decode(n, field, v)
	return d.Err()
}

func noVars(s string) (string, error) { return s, nil }

func TestJSONMatcher(t *testing.T) {
	tests := []struct {
		matcher, actual string
		exact           bool
		wantErr         string
	}{
		{`{sid: {type: string}, n: 300}`, `{"sid":"x","n":300,"extra":1}`, false, ""},
		{`{sid: {type: string}, n: 300}`, `{"sid":"x","n":300,"extra":1}`, true, "unexpected keys extra"},
		{`{n: 300}`, `{"n":25000}`, false, "$.n: want 300, got 25000"},
		{`{n: {range: [1, 10]}}`, `{"n":11}`, false, "want a number in [1, 10]"},
		{`[a, {any: true}]`, `["a", {"x":1}]`, false, ""},
		{`[a]`, `["a","b"]`, false, "want 1 elements, got 2"},
		{`{unordered: [1, 2]}`, `[2,1]`, false, ""},
		{`{one_of: [1, "1"]}`, `"1"`, false, ""},
		{`{s: {pattern: '^ab'}}`, `{"s":"abc"}`, false, ""},
		{`{s: {pattern: '^ab'}}`, `{"s":"cab"}`, false, "want a string matching"},
		{`{a: null}`, `{"a":false}`, false, "want null, got false"},
		{`{a: "300"}`, `{"a":300}`, false, `want "300", got 300`},
		{`{sid: {not: "abc"}}`, `{"sid":"xyz"}`, false, ""},
		{`{sid: {not: "abc"}}`, `{"sid":"abc"}`, false, `$.sid: want not "abc", got "abc"`},
		{`{n: {not: {range: [1, 10]}}}`, `{"n":5}`, false, "want not"},
		{`{pingInterval: 300}`, `{"pingInterval":25000}`, false, "want 300, got 25000"},
	}
	for _, tt := range tests {
		err := matchJSONText(compileJSON(t, tt.matcher), []byte(tt.actual), tt.exact, noVars, caps{})
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s vs %s: err = %v, want %q", tt.matcher, tt.actual, err, tt.wantErr)
		}
	}
}

func TestCaptures(t *testing.T) {
	c := caps{}
	m := compileJSON(t, `{sid: {type: string, capture: sid}, o: {capture: obj}}`)
	if err := matchJSONText(m, []byte(`{"sid":"abc","o":{"x":[1]}}`), false, noVars, c); err != nil {
		t.Fatal(err)
	}
	if c["sid"] != "abc" || c["obj"] != `{"x":[1]}` {
		t.Errorf("captures %v", c)
	}
	sm := &strMatcher{kind: "pattern", val: `^0\{"sid":"([^"]+)"`, capture: "sid"}
	sm.re, _ = compileRE(sm.val)
	c = caps{}
	if err := sm.match(`0{"sid":"zz","x":1}`, true, noVars, c); err != nil || c["sid"] != "zz" {
		t.Errorf("pattern capture: %v %v", err, c)
	}
}

func TestStringMatcherAndVars(t *testing.T) {
	r := &runner{vars: map[string]string{"sid": "S1"}}
	m := &strMatcher{kind: "exact", val: "40${sid}"}
	if err := m.match("40S1", true, r.subst, caps{}); err != nil {
		t.Error(err)
	}
	err := m.match("40S2", true, r.subst, caps{})
	if mm, ok := err.(*mismatch); !ok || mm.diff() != "expected: \"40S1\"\n     got: \"40S2\"" {
		t.Errorf("mismatch = %#v", err)
	}
	if _, err := r.subst("${nope}"); err == nil {
		t.Error("undefined variable accepted")
	}
	abs := &strMatcher{kind: "absent"}
	if abs.match("x", true, noVars, caps{}) == nil || abs.match("", false, noVars, caps{}) != nil {
		t.Error("absent matcher")
	}
}

func TestPacketAndSIOMatchers(t *testing.T) {
	var n yaml.Node
	_ = yaml.Unmarshal([]byte(`{type: CONNECT, nsp: /custom, data: {sid: {type: string}}, exact_keys: true}`), &n)
	sm := &sioMatcher{}
	if err := decodeNode(n.Content[0], "sio", sm); err != nil {
		t.Fatal(err)
	}
	if err := sm.match([]byte(`0/custom,{"sid":"a"}`), 4, noVars, caps{}); err != nil {
		t.Error(err)
	}
	if err := sm.match([]byte(`0/custom,{"sid":"a","pid":"b"}`), 4, noVars, caps{}); err == nil {
		t.Error("extra pid accepted with exact_keys")
	}
	if err := sm.match([]byte(`0{"sid":"a"}`), 4, noVars, caps{}); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("wrong namespace: %v", err)
	}
	pkts, err := decodePayload(4, []byte("4hello\x1ebAQIDBA=="), false)
	if err != nil {
		t.Fatal(err)
	}
	list := []*pktMatcher{{typ: "message", data: &strMatcher{kind: "exact", val: "hello"}}, {hasBin: true, binHex: []byte{1, 2, 3, 4}}}
	if err := matchPackets(list, false, pkts, 4, noVars, caps{}); err != nil {
		t.Error(err)
	}
	if err := matchPackets([]*pktMatcher{list[1], list[0]}, true, pkts, 4, noVars, caps{}); err != nil {
		t.Errorf("unordered: %v", err)
	}
	if err := matchPackets(list[:1], false, pkts, 4, noVars, caps{}); err == nil || !strings.Contains(err.Error(), "want 1 packets, got 2") {
		t.Errorf("count: %v", err)
	}
}

// TestSettingLiteral: a handshake key's contract literal stands for the
// stated setting (${pingInterval}); other keys and values stay literal.
func TestSettingLiteral(t *testing.T) {
	vars := func(s string) (string, error) { return strings.ReplaceAll(s, "${pingInterval}", "25000"), nil }
	m := compileJSON(t, `{pingInterval: 300, n: 300}`)
	if err := matchJSONText(m, []byte(`{"pingInterval":25000,"n":300}`), false, vars, caps{}); err != nil {
		t.Error(err)
	}
	if err := matchJSONText(m, []byte(`{"pingInterval":300,"n":300}`), false, vars, caps{}); err == nil || !strings.Contains(err.Error(), "want 25000, got 300") {
		t.Errorf("err %v, want the stated 25000", err)
	}
}
