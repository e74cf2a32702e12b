package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
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

// FieldError is one problem of a scenario, located in its file.
type FieldError = yamldoc.Error

// Parse parses and validates a scenario; name is used in errors and as
// Scenario.File. Every problem found is reported, one
// "file:line: field: problem" per line, in one joined error.
func Parse(name string, data []byte) (*Scenario, error) {
	root, err := yamldoc.Parse(name, data)
	if err != nil {
		return nil, err
	}
	s := &Scenario{File: name, Path: DefaultPath, EIO: DefaultEIO, Transport: DefaultTransport}
	s.Load.Model = ModelClosed
	s.Load.MaxClients = DefaultMaxClients
	s.Load.Grace = DefaultGrace
	s.MaxErrorRate = DefaultMaxErrorRate
	s.lines = map[string]int{"": root.Line}
	d := &yamldoc.Decoder{File: name, Lines: s.lines}
	d.Decode(root, "", s)
	s.compile(d)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// compile checks and compiles what was decoded as plain values: templates
// in query, headers and auth, fault shares, the CA file's folder, and
// drops empty thresholds.
func (s *Scenario) compile(d *yamldoc.Decoder) {
	for _, m := range []struct {
		field string
		vals  map[string]string
	}{{"query", s.Query}, {"headers", s.Headers}} {
		for k, v := range m.vals {
			if _, err := CompileText(v); err != nil {
				d.Fieldf(yamldoc.Join(m.field, k), "%v", err)
			}
		}
	}
	if s.Auth != nil {
		s.AuthT = compileValue(d, "auth", s.Auth)
	}
	for i, f := range s.Faults {
		if f.Drop > 1 {
			d.Fieldf(yamldoc.Index("faults", i)+".drop", "is a share of clients, between 0 and 1, got %v", f.Drop)
		}
	}
	if s.TLS.CAFile != "" && !filepath.IsAbs(s.TLS.CAFile) {
		// Relative to the scenario, not to wherever sioload runs.
		s.TLS.CAFile = filepath.Join(filepath.Dir(s.File), s.TLS.CAFile)
	}
	s.Thresholds = slices.DeleteFunc(s.Thresholds, func(t Threshold) bool { return t.Source == "" })
}

func compileValue(d *yamldoc.Decoder, field string, x any) *Value {
	v, err := CompileValue(x)
	if err != nil {
		d.Fieldf(field, "%v", err)
		return nil
	}
	return v
}

// stepNames are the flow's step kinds, in the order errors list them.
var stepNames = []string{string(StepConnect), string(StepEmit), string(StepEmitAck), string(StepWait), string(StepThink),
	string(StepLoop), string(StepBroadcast), string(StepDisconnect), string(StepReconnect)}

// UnmarshalYAMLDoc decodes one flow step, a mapping with a single key that
// names the step's kind; the body's keys are those of that kind.
func (st *Step) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.Errorf(n, field, "want one step such as {emit: {...}}, got %s", yamldoc.Describe(n))
		return
	}
	k, v := n.Content[0], n.Content[1]
	st.Kind, st.Line = StepKind(k.Value), k.Line
	f := yamldoc.Join(field, k.Value)
	var args *yaml.Node
	switch st.Kind {
	case StepConnect:
		var b struct {
			Namespace string         `yaml:"namespace"`
			Auth      map[string]any `yaml:"auth"`
		}
		d.Decode(v, f, &b)
		st.Namespace, st.Auth = b.Namespace, b.Auth
		if b.Auth != nil {
			st.AuthT = compileValue(d, f+".auth", b.Auth)
		}
	case StepEmit:
		var b struct {
			Namespace string     `yaml:"namespace"`
			Event     string     `yaml:"event"`
			Args      *yaml.Node `yaml:"args"`
		}
		d.Decode(v, f, &b)
		st.Namespace, st.Event, args = b.Namespace, b.Event, b.Args
	case StepEmitAck:
		var b struct {
			Namespace string        `yaml:"namespace"`
			Event     string        `yaml:"event"`
			Args      *yaml.Node    `yaml:"args"`
			Timeout   time.Duration `yaml:"timeout"`
		}
		d.Decode(v, f, &b)
		st.Namespace, st.Event, args, st.Timeout = b.Namespace, b.Event, b.Args, b.Timeout
	case StepWait:
		var b struct {
			Namespace string         `yaml:"namespace"`
			Event     string         `yaml:"event"`
			Match     map[string]any `yaml:"match"`
			Timeout   time.Duration  `yaml:"timeout"`
		}
		d.Decode(v, f, &b)
		st.Namespace, st.Event, st.Timeout, st.Match = b.Namespace, b.Event, b.Timeout, b.Match
		if b.Match != nil {
			st.MatchT = compileValue(d, f+".match", b.Match)
		}
	case StepThink:
		if v.Kind == yaml.ScalarNode && !yamldoc.IsNull(v) {
			d.Decode(v, f, &st.Think)
			break
		}
		var b struct {
			Min time.Duration `yaml:"min"`
			Max time.Duration `yaml:"max"`
		}
		d.Decode(v, f, &b)
		st.Think, st.ThinkMax = b.Min, b.Max
	case StepLoop:
		var b struct {
			Count    int           `yaml:"count"`
			Duration time.Duration `yaml:"duration"`
			Rate     float64       `yaml:"rate"`
			Steps    []Step        `yaml:"steps"`
		}
		d.Decode(v, f, &b)
		st.Count, st.For, st.Rate, st.Steps = b.Count, b.Duration, b.Rate, b.Steps
	case StepBroadcast:
		var b struct {
			Namespace string        `yaml:"namespace"`
			Event     string        `yaml:"event"`
			Args      *yaml.Node    `yaml:"args"`
			Room      string        `yaml:"room"`
			Every     time.Duration `yaml:"every"`
		}
		d.Decode(v, f, &b)
		st.Namespace, st.Event, args, st.Room, st.Every = b.Namespace, b.Event, b.Args, b.Room, b.Every
	case StepDisconnect:
		var b struct {
			Namespace string `yaml:"namespace"`
		}
		d.Decode(v, f, &b)
		st.Namespace = b.Namespace
	case StepReconnect:
		var b struct {
			Timeout time.Duration `yaml:"timeout"`
		}
		d.Decode(v, f, &b)
		st.Timeout = b.Timeout
	default:
		want := strings.Join(stepNames[:len(stepNames)-1], ", ") + " or " + stepNames[len(stepNames)-1]
		if near := yamldoc.Suggest(k.Value, stepNames); near != "" {
			d.Errorf(k, field, "unknown step %q: did you mean %q? (want %s)", k.Value, near, want)
			return
		}
		d.Errorf(k, field, "unknown step %q (want %s)", k.Value, want)
		return
	}
	if args != nil {
		// A list of free-form values: decoded here rather than by tag so
		// that the list itself is checked before its templates compile.
		if args.Kind != yaml.SequenceNode {
			d.Errorf(args, f+".args", "want a list, got %s", yamldoc.Describe(args))
			return
		}
		var x any
		d.Decode(args, f+".args", &x)
		st.Args, _ = x.([]any)
		st.ArgsT = compileValue(d, f+".args", x)
	}
}

// UnmarshalYAMLDoc parses a threshold expression such as "p99(ack) < 50ms".
func (t *Threshold) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var src string
	d.Decode(n, field, &src)
	if src == "" {
		return
	}
	x, err := ParseThreshold(src)
	if err != nil {
		d.Errorf(n, field, "%v", err)
		return
	}
	*t = x
}
