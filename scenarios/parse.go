package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied by Parse to fields the file leaves out.
const (
	DefaultPath       = "/socket.io/"
	DefaultEIO        = 4
	DefaultTransport  = TransportWebSocket
	DefaultMaxClients = 10000
	DefaultGrace      = 5 * time.Second
)

// LoadFile reads, parses and validates the scenario file at path. (It
// cannot be called Load: that name is the type of Scenario.Load.)
func LoadFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and validates a scenario; name is used in errors and as
// Scenario.File. Every problem found is reported, one
// "file:line: field: problem" per line, in one joined error.
func Parse(name string, data []byte) (*Scenario, error) {
	p := &parser{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1: scenario: empty file", name)
	}
	s := p.scenario(doc.Content[0])
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// FieldError is one problem of a scenario, located in its file.
type FieldError struct {
	File    string
	Line    int
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Problem)
}

type parser struct {
	file  string
	errs  []error
	lines map[string]int
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &FieldError{File: p.file, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
}

// fields walks a mapping, calling fn for every key; unknown keys are
// reported by fn returning false.
func (p *parser) fields(n *yaml.Node, field string, fn func(key string, v *yaml.Node) bool) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, field, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		if seen[k.Value] {
			p.errf(k, name, "duplicate key")
			continue
		}
		seen[k.Value] = true
		if !fn(k.Value, v) {
			p.errf(k, name, "unknown key")
		}
	}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "?"
}

func (p *parser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, field, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) text(n *yaml.Node, field string) string {
	s := p.str(n, field)
	if _, err := CompileText(s); err != nil {
		p.errf(n, field, "%v", err)
	}
	return s
}

func (p *parser) int(n *yaml.Node, field string) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errf(n, field, "want an integer, got %s", kindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errf(n, field, "bad integer %q", n.Value)
	}
	if v < 0 {
		p.errf(n, field, "must not be negative, got %d", v)
	}
	return v
}

func (p *parser) float(n *yaml.Node, field string) float64 {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		p.errf(n, field, "want a number, got %s", kindName(n))
		return 0
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		p.errf(n, field, "bad number %q", n.Value)
	}
	if v < 0 {
		p.errf(n, field, "must not be negative, got %v", v)
	}
	return v
}

func (p *parser) bool(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errf(n, field, "want true or false, got %s", kindName(n))
		return false
	}
	return n.Value == "true"
}

// dur parses a Go duration ("1.5s", "100ms"); a bare 0 is accepted.
func (p *parser) dur(n *yaml.Node, field string) time.Duration {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, field, "want a duration like 5s, got %s", kindName(n))
		return 0
	}
	if n.Value == "0" {
		return 0
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.errf(n, field, "bad duration %q (want e.g. 500ms, 5s, 1m)", n.Value)
		return 0
	}
	if d < 0 {
		p.errf(n, field, "must not be negative, got %s", n.Value)
	}
	return d
}

func (p *parser) strMap(n *yaml.Node, field string) map[string]string {
	m := map[string]string{}
	p.fields(n, field, func(k string, v *yaml.Node) bool {
		m[k] = p.text(v, join(field, k))
		return true
	})
	return m
}

func (p *parser) strList(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, field, "want a list, got %s", kindName(n))
		return nil
	}
	var out []string
	for i, e := range n.Content {
		out = append(out, p.str(e, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

// value decodes a free-form YAML value (args, auth, match) and compiles
// its templates.
func (p *parser) value(n *yaml.Node, field string) (any, *Value) {
	var x any
	if err := n.Decode(&x); err != nil {
		p.errf(n, field, "%v", err)
		return nil, nil
	}
	x = normalize(x)
	v, err := CompileValue(x)
	if err != nil {
		p.errf(n, field, "%v", err)
		return nil, nil
	}
	return x, v
}

func (p *parser) object(n *yaml.Node, field string) (map[string]any, *Value) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, field, "want a mapping, got %s", kindName(n))
		return nil, nil
	}
	x, v := p.value(n, field)
	m, _ := x.(map[string]any)
	return m, v
}

// normalize turns the map[any]any a YAML decoder may produce for odd keys
// into map[string]any, so that values marshal as JSON.
func normalize(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			x[k] = normalize(v)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = normalize(v)
		}
		return m
	case []any:
		for i, v := range x {
			x[i] = normalize(v)
		}
		return x
	}
	return x
}

func (p *parser) scenario(n *yaml.Node) *Scenario {
	s := &Scenario{File: p.file, Path: DefaultPath, EIO: DefaultEIO, Transport: DefaultTransport}
	s.Load.Model = ModelClosed
	s.Load.MaxClients = DefaultMaxClients
	s.Load.Grace = DefaultGrace
	s.lines = map[string]int{"": n.Line}
	p.lines = s.lines
	p.fields(n, "", func(k string, v *yaml.Node) bool {
		s.lines[k] = v.Line
		switch k {
		case "name":
			s.Name = p.str(v, k)
		case "description":
			s.Description = p.str(v, k)
		case "target":
			s.Target = p.str(v, k)
		case "path":
			s.Path = p.str(v, k)
		case "eio":
			s.EIO = p.int(v, k)
		case "transport":
			s.Transport = p.str(v, k)
		case "query":
			s.Query = p.strMap(v, k)
		case "headers":
			s.Headers = p.strMap(v, k)
		case "auth":
			s.Auth, s.AuthT = p.object(v, k)
		case "source_addrs":
			s.SourceAddrs = p.strList(v, k)
		case "load":
			p.load(v, &s.Load)
		case "flow":
			s.Flow = p.steps(v, "flow")
		case "thresholds":
			s.Thresholds = p.thresholds(v)
		case "faults":
			s.Faults = p.faults(v)
		case "timeouts":
			p.timeouts(v, &s.Timeouts)
		case "max_message_size":
			s.MaxMessageSize = int64(p.int(v, k))
		default:
			return false
		}
		return true
	})
	return s
}

func (p *parser) timeouts(n *yaml.Node, t *Timeouts) {
	p.fields(n, "timeouts", func(k string, v *yaml.Node) bool {
		f := "timeouts." + k
		p.lines[f] = v.Line
		switch k {
		case "handshake":
			t.Handshake = p.dur(v, f)
		case "upgrade":
			t.Upgrade = p.dur(v, f)
		case "connect":
			t.Connect = p.dur(v, f)
		default:
			return false
		}
		return true
	})
}

func (p *parser) load(n *yaml.Node, l *Load) {
	p.fields(n, "load", func(k string, v *yaml.Node) bool {
		f := "load." + k
		p.lines[f] = v.Line
		switch k {
		case "model":
			l.Model = p.str(v, f)
		case "clients":
			l.Clients = p.int(v, f)
		case "ramp":
			l.Ramp = p.dur(v, f)
		case "hold":
			l.Hold = p.dur(v, f)
		case "arrival_rate":
			l.ArrivalRate = p.float(v, f)
		case "duration":
			l.Duration = p.dur(v, f)
		case "max_clients":
			l.MaxClients = p.int(v, f)
		case "grace":
			l.Grace = p.dur(v, f)
		default:
			return false
		}
		return true
	})
}

func (p *parser) steps(n *yaml.Node, field string) []Step {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, field, "want a list of steps, got %s", kindName(n))
		return nil
	}
	var out []Step
	for i, e := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		if e.Kind != yaml.MappingNode || len(e.Content) != 2 {
			p.errf(e, f, "want one step such as {emit: {...}}, got %s", kindName(e))
			continue
		}
		if st, ok := p.step(e.Content[0], e.Content[1], f); ok {
			out = append(out, st)
		}
	}
	return out
}

// isNull reports an empty step body ("disconnect:"), which means {}.
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (p *parser) step(k, v *yaml.Node, field string) (Step, bool) {
	st := Step{Kind: StepKind(k.Value), Line: k.Line}
	f := field + "." + k.Value
	body := func(fn func(key string, v *yaml.Node) bool) {
		if isNull(v) {
			return
		}
		p.fields(v, f, fn)
	}
	common := func(key string, v *yaml.Node) bool {
		switch key {
		case "namespace":
			st.Namespace = p.str(v, f+".namespace")
		case "event":
			st.Event = p.str(v, f+".event")
		case "args":
			if v.Kind != yaml.SequenceNode {
				p.errf(v, f+".args", "want a list, got %s", kindName(v))
				return true
			}
			x, t := p.value(v, f+".args")
			st.Args, _ = x.([]any)
			st.ArgsT = t
		case "timeout":
			st.Timeout = p.dur(v, f+".timeout")
		default:
			return false
		}
		return true
	}
	switch st.Kind {
	case StepConnect:
		body(func(key string, v *yaml.Node) bool {
			switch key {
			case "namespace":
				st.Namespace = p.str(v, f+".namespace")
			case "auth":
				st.Auth, st.AuthT = p.object(v, f+".auth")
			default:
				return false
			}
			return true
		})
	case StepEmit, StepEmitAck:
		body(func(key string, v *yaml.Node) bool {
			if key == "timeout" && st.Kind == StepEmit {
				return false
			}
			return common(key, v)
		})
	case StepWait:
		body(func(key string, v *yaml.Node) bool {
			if key == "match" {
				st.Match, st.MatchT = p.object(v, f+".match")
				return true
			}
			if key == "args" {
				return false
			}
			return common(key, v)
		})
	case StepThink:
		if v.Kind == yaml.ScalarNode {
			st.Think = p.dur(v, f)
			break
		}
		body(func(key string, v *yaml.Node) bool {
			switch key {
			case "min":
				st.Think = p.dur(v, f+".min")
			case "max":
				st.ThinkMax = p.dur(v, f+".max")
			default:
				return false
			}
			return true
		})
	case StepLoop:
		body(func(key string, v *yaml.Node) bool {
			switch key {
			case "count":
				st.Count = p.int(v, f+".count")
			case "duration":
				st.For = p.dur(v, f+".duration")
			case "rate":
				st.Rate = p.float(v, f+".rate")
			case "steps":
				st.Steps = p.steps(v, f+".steps")
			default:
				return false
			}
			return true
		})
	case StepBroadcast:
		body(func(key string, v *yaml.Node) bool {
			switch key {
			case "room":
				st.Room = p.str(v, f+".room")
			case "every":
				st.Every = p.dur(v, f+".every")
			case "timeout":
				return false
			default:
				return common(key, v)
			}
			return true
		})
	case StepDisconnect:
		body(func(key string, v *yaml.Node) bool {
			if key == "namespace" {
				st.Namespace = p.str(v, f+".namespace")
				return true
			}
			return false
		})
	case StepReconnect:
		body(func(key string, v *yaml.Node) bool {
			if key == "timeout" {
				st.Timeout = p.dur(v, f+".timeout")
				return true
			}
			return false
		})
	default:
		p.errf(k, field, "unknown step %q (want connect, emit, emit_ack, wait, think, loop, broadcast, disconnect or reconnect)", k.Value)
		return st, false
	}
	return st, true
}

func (p *parser) thresholds(n *yaml.Node) []Threshold {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "thresholds", "want a list, got %s", kindName(n))
		return nil
	}
	var out []Threshold
	for i, e := range n.Content {
		f := fmt.Sprintf("thresholds[%d]", i)
		src := p.str(e, f)
		if src == "" {
			continue
		}
		t, err := ParseThreshold(src)
		if err != nil {
			p.errf(e, f, "%v", err)
			continue
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) faults(n *yaml.Node) []Fault {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "faults", "want a list, got %s", kindName(n))
		return nil
	}
	var out []Fault
	for i, e := range n.Content {
		f := fmt.Sprintf("faults[%d]", i)
		var fl Fault
		p.fields(e, f, func(k string, v *yaml.Node) bool {
			switch k {
			case "at":
				fl.At = p.dur(v, f+".at")
			case "drop":
				fl.Drop = p.float(v, f+".drop")
				if fl.Drop > 1 {
					p.errf(v, f+".drop", "is a share of clients, between 0 and 1, got %v", fl.Drop)
				}
			case "restart_target":
				fl.RestartTarget = p.bool(v, f+".restart_target")
			case "down":
				fl.Down = p.dur(v, f+".down")
			default:
				return false
			}
			return true
		})
		out = append(out, fl)
	}
	return out
}
