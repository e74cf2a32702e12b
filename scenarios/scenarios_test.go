package scenarios

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedScenariosParse(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped scenarios: %v", err)
	}
	for _, f := range files {
		if _, err := LoadFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParseDefaultsAndSteps(t *testing.T) {
	s, err := LoadFile("echo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "/socket.io/" || s.EIO != 4 || s.Load.Model != "closed" || s.Load.MaxClients != DefaultMaxClients {
		t.Errorf("defaults: %+v", s)
	}
	if s.Load.Clients != 50 || s.Load.Ramp != 5*time.Second || s.Load.Hold != 20*time.Second {
		t.Errorf("load: %+v", s.Load)
	}
	if len(s.Flow) != 3 || s.Flow[1].Kind != StepLoop || s.Flow[1].For != 25*time.Second || len(s.Flow[1].Steps) != 3 {
		t.Fatalf("flow: %+v", s.Flow)
	}
	w := s.Flow[1].Steps[1]
	if w.Kind != StepWait || w.Event != "echo" || w.Timeout != 2*time.Second || w.MatchT == nil || w.Line != 19 {
		t.Errorf("wait step: %+v", w)
	}
	if th := s.Flow[1].Steps[2]; th.Think != 100*time.Millisecond {
		t.Errorf("think: %+v", th)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[0].Stat != "p99" || s.Thresholds[0].Metric != "event" || s.Thresholds[0].Value != 100 || s.Thresholds[0].Unit != "ms" {
		t.Errorf("thresholds: %+v", s.Thresholds)
	}
}

const good = `name: t
load: {clients: 1, hold: 1s}
flow:
  - connect: {}
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown key", good + "bogus: 1\n", "t.yaml:5: bogus: unknown key"},
		{"wrong type", "name: [a]\nload: {clients: 1, hold: 1s}\nflow: [{connect: {}}]\n", "t.yaml:1: name: want a string"},
		{"bad duration", "name: t\nload: {clients: 1, hold: 10 seconds}\nflow: [{connect: {}}]\n", `t.yaml:2: load.hold: bad duration "10 seconds"`},
		{"negative count", good + "  - loop: {count: -3, steps: [{think: 1s}]}\n", "t.yaml:5: flow[1].loop.count: must not be negative"},
		{"unknown step", good + "  - jump: {}\n", `t.yaml:5: flow[1]: unknown step "jump" (want connect, emit,`},
		{"mistyped step", good + "  - emitt: {event: e}\n", `t.yaml:5: flow[1]: unknown step "emitt": did you mean "emit"? (want connect,`},
		{"bad threshold", good + "thresholds: [p99(ack) lt 5ms]\n", "t.yaml:5: thresholds[0]: cannot parse threshold"},
		{"unknown metric", good + "thresholds: [p99(bogus) < 5ms]\n", `unknown metric "bogus"`},
		{"bad template", good + "  - emit: {event: e, args: [\"{{.Seq\"]}\n", "t.yaml:5: flow[1].emit.args: bad template"},
		{"missing name", "load: {clients: 1, hold: 1s}\nflow: [{connect: {}}]\n", "t.yaml:1: name: is required"},
		{"no clients", "name: t\nload: {hold: 1s}\nflow: [{connect: {}}]\n", "t.yaml:2: load.clients: the closed model needs clients > 0"},
		{"first step", "name: t\nload: {clients: 1, hold: 1s}\nflow:\n  - think: 1s\n", "t.yaml:4: flow[0]: the first step must be connect"},
		{"missing event", good + "  - emit_ack: {args: [1]}\n", "t.yaml:5: flow[1].emit_ack.event: is required"},
		{"bad transport", good + "transport: carrier-pigeon\n", `t.yaml:5: transport: want websocket, polling or upgrade`},
		{"timeout on emit", good + "  - emit: {event: e, timeout: 1s}\n", "t.yaml:5: flow[1].emit.timeout: unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	v, err := CompileValue([]any{map[string]any{"seq": "{{.Seq}}", "t": "{{.SendTime}}", "room": "r{{.Client}}", "n": 3}, "{{.Payload 8}}", "{{.Binary 4}}", "plain {{"[:5]})
	if err != nil {
		t.Fatal(err)
	}
	vars := &Vars{Client: 7, Seq: 42, SendTime: 1700000000000001}
	b, bufs, err := v.AppendJSON(nil, vars)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `[{"n":3,"room":"r7","seq":42,"t":1700000000000001},"`) {
		t.Errorf("got %s", s)
	}
	if !strings.HasSuffix(s, `",{"_placeholder":true,"num":0},"plain"]`) {
		t.Errorf("got %s", s)
	}
	if len(bufs) != 1 || len(bufs[0]) != 4 {
		t.Errorf("attachments %d", len(bufs))
	}
	if _, err := CompileText("{{.Nope"); err == nil {
		t.Error("bad template accepted")
	}
}

func TestParseThreshold(t *testing.T) {
	for _, src := range []string{"p99(ack) < 50ms", "p99.9(event) <= 1s", "errors < 0.1%", "rate(messages_received) > 1000", "max(connect) < 200us", "count(ack) > 10", "ack_timeouts == 0"} {
		if _, err := ParseThreshold(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	for _, src := range []string{"p99(ack) < 50", "rate(ack) > 1", "p99(acks) < 1ms", "acks < 5%", "ack < 1ms", "p101(ack) < 1ms"} {
		if _, err := ParseThreshold(src); err == nil {
			t.Errorf("%s accepted", src)
		}
	}
}

// TestTimeoutsAndMessageSize: the phase timeouts and the receive limit
// parse; unknown keys and bad values are refused with their line.
func TestTimeoutsAndMessageSize(t *testing.T) {
	base := "name: t\nload: {clients: 1, hold: 1s}\nflow:\n  - connect: {}\n"
	s, err := Parse("t.yaml", []byte(base+"timeouts: {handshake: 500ms, upgrade: 2s, connect: 3s}\nmax_message_size: 4000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Timeouts{Handshake: 500 * time.Millisecond, Upgrade: 2 * time.Second, Connect: 3 * time.Second}
	if s.Timeouts != want || s.MaxMessageSize != 4000000 {
		t.Errorf("timeouts %+v max_message_size %d", s.Timeouts, s.MaxMessageSize)
	}
	s, err = Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if s.Timeouts != (Timeouts{}) || s.MaxMessageSize != 0 {
		t.Errorf("defaults: timeouts %+v max_message_size %d, want zero (the client's defaults)", s.Timeouts, s.MaxMessageSize)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"timeouts: {handshake: 1s, open: 2s}\n", "t.yaml:5: timeouts.open: unknown key"},
		{"timeouts: {connect: soon}\n", `t.yaml:5: timeouts.connect: bad duration "soon"`},
		{"timeouts: {upgrade: -1s}\n", "t.yaml:5: timeouts.upgrade: must not be negative"},
		{"timeouts: 5s\n", "t.yaml:5: timeouts: want a mapping"},
		{"max_message_size: -1\n", "t.yaml:5: max_message_size: must not be negative"},
		{"max_message_size: 2MB\n", `t.yaml:5: max_message_size: want an integer, got "2MB"`},
	} {
		_, err := Parse("t.yaml", []byte(base+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
