package yamldoc

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type load struct {
	Clients int           `yaml:"clients"`
	Rate    float64       `yaml:"rate"`
	Hold    time.Duration `yaml:"hold"`
	Offset  int           `yaml:"offset,signed"`
}

// step is a union keyed by its only key, as sioload's flow steps are.
type step struct {
	Kind  string
	Event string
}

func (s *step) UnmarshalYAMLDoc(d *Decoder, n *yaml.Node, field string) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.Errorf(n, field, "want one step such as {emit: {...}}, got %s", Describe(n))
		return
	}
	s.Kind = n.Content[0].Value
	var body struct {
		Event string `yaml:"event"`
	}
	d.Decode(n.Content[1], Join(field, s.Kind), &body)
	s.Event = body.Event
}

type doc struct {
	Name    string            `yaml:"name"`
	On      bool              `yaml:"on"`
	Load    load              `yaml:"load"`
	Opt     *load             `yaml:"opt"`
	Query   map[string]string `yaml:"query"`
	Addrs   []string          `yaml:"addrs"`
	Auth    any               `yaml:"auth"`
	Raw     *yaml.Node        `yaml:"raw"`
	Flow    []step            `yaml:"flow"`
	private string
}

func decode(t *testing.T, src string) (doc, *Decoder) {
	t.Helper()
	n, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := &Decoder{File: "s.yaml", Lines: map[string]int{}}
	var v doc
	d.Decode(n, "", &v)
	return v, d
}

func TestDecode(t *testing.T) {
	v, d := decode(t, `
name: echo
on: true
load: {clients: 5, rate: 2.5, hold: 30s, offset: -3}
opt:
  hold: 0
query: {token: x}
addrs: [127.0.0.2, 127.0.0.3]
auth: {user: {id: 1}, 2: two}
raw: [1, 2]
flow:
  - emit: {event: ping}
  - disconnect:
`)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	want := doc{Name: "echo", On: true, Load: load{5, 2.5, 30 * time.Second, -3}, Opt: &load{},
		Query: map[string]string{"token": "x"}, Addrs: []string{"127.0.0.2", "127.0.0.3"},
		Auth: map[string]any{"user": map[string]any{"id": 1}, "2": "two"},
		Flow: []step{{"emit", "ping"}, {"disconnect", ""}}}
	raw := v.Raw
	v.Raw = nil
	if !reflect.DeepEqual(v, want) {
		t.Errorf("decoded %+v\nwant    %+v", v, want)
	}
	if raw == nil || raw.Kind != yaml.SequenceNode || raw.Line != 10 {
		t.Errorf("raw node %+v, want the list at line 10", raw)
	}
	if d.Lines["load.clients"] != 4 || d.Lines["flow[1].disconnect"] != 0 && d.Lines["flow[1]"] != 13 {
		t.Errorf("lines %v", d.Lines)
	}
}

// Every problem is reported at once, each with its line and dotted path.
func TestErrors(t *testing.T) {
	_, d := decode(t, `
name: [x]
load:
  clients: "5"
  rate: -1
  hold: 5
  colour: red
  hodl: 1s
query: {a: 1, a: 2}
flow:
  - emit: {event: ping, extra: 1}
  - just-a-string
private: x
`)
	got := strings.Split(d.Err().Error(), "\n")
	want := []string{
		`s.yaml:2: name: want a string, got a list`,
		`s.yaml:4: load.clients: want an integer, got "5"`,
		`s.yaml:5: load.rate: must not be negative, got -1`,
		`s.yaml:6: load.hold: bad duration "5" (want e.g. 500ms, 5s, 1m)`,
		`s.yaml:7: load.colour: unknown key (allowed: clients, hold, offset, rate)`,
		`s.yaml:8: load.hodl: unknown key (did you mean "hold"? allowed: clients, hold, offset, rate)`,
		`s.yaml:9: query.a: repeated key`,
		`s.yaml:11: flow[0].emit.extra: unknown key (allowed: event)`,
		`s.yaml:12: flow[1]: want one step such as {emit: {...}}, got "just-a-string"`,
		`s.yaml:13: private: unknown key (allowed: addrs, auth, flow, load, name, on, opt, query, raw)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"a: [1,\n":    "s.yaml:",
		"":            "s.yaml:1: empty file",
		"a: b\nc d\n": "s.yaml:2: could not find expected ':'",
		// yaml names the block's first line; the culprit is line 9, one
		// space short.
		"name: x\nload:\n  clients: 2\n  hold: 1s\nflow:\n  - connect: {}\n  - emit:\n      event: echo\n     args: [1]\n  - think: 1s\n": "s.yaml:9: did not find expected key",
		"load:\n  clients: 2\n\thold: 1s\n": "s.yaml:3: found a tab character that violates indentation",
		// A flow list left open: yaml says line 1; the list's last line.
		"a: 1\nb: [1,\n  2\nc: 3\n": "s.yaml:3: did not find expected ',' or ']'",
	} {
		_, err := Parse("s.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want prefix %q", src, err, want)
		}
	}
}

// An inline struct's keys are the outer struct's own; ErrorAt names a
// field by another path than the one decoded.
func TestInline(t *testing.T) {
	type common struct {
		Path string `yaml:"path"`
		EIO  int    `yaml:"eio"`
	}
	var v struct {
		Common common `yaml:",inline"`
		ID     string `yaml:"id"`
	}
	n, err := Parse("c.yaml", []byte("id: x\npath: /p\neio: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Decoder{File: "c.yaml", Lines: map[string]int{}}
	d.Decode(n, "", &v)
	if err := d.Err(); err != nil || v.ID != "x" || v.Common != (common{"/p", 3}) {
		t.Fatalf("decoded %+v, %v", v, err)
	}
	n, _ = Parse("c.yaml", []byte("id: x\nCommon: {}\neio: -1\n"))
	d.Decode(n, "", &v)
	d.ErrorAt(d.Lines["id"], "case x", "named by its id")
	want := "c.yaml:1: case x: named by its id\nc.yaml:2: Common: unknown key (allowed: eio, id, path)\nc.yaml:3: eio: must not be negative, got -1"
	if err := d.Err(); err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
}

// A pointer to a type that decodes itself is handed even an empty value:
// the type says what null means.
func TestNullUnmarshaler(t *testing.T) {
	var v struct {
		Step *step `yaml:"step"`
		Load *load `yaml:"load"`
	}
	n, _ := Parse("n.yaml", []byte("step:\nload:\n"))
	d := &Decoder{File: "n.yaml"}
	d.Decode(n, "", &v)
	want := `n.yaml:1: step: want one step such as {emit: {...}}, got nothing`
	if err := d.Err(); err == nil || err.Error() != want || v.Load != nil || v.Step != nil {
		t.Errorf("err = %v, load = %v, step = %v; want %s and neither (the step was refused)", err, v.Load, v.Step, want)
	}
}
