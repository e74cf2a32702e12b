package conform

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// step is one step of a case (docs/conformance.md §3): the header every
// step carries and its action, the typed value of its kind.
type step struct {
	kind   string // the action key
	line   int
	name   string
	async  bool
	onFail string // "", "na" or "info"
	act    action
}

// action is one step kind's value: it reads its own body from a case file
// and runs it. A kind is one type in one step_*.go file plus one line of
// stepKinds; the optional interfaces below say what else it accepts.
type action interface {
	// parse decodes the action's value v, named field in messages.
	parse(d *yamldoc.Decoder, v *yaml.Node, field string)
	// run carries the step out; s is its header (name, async).
	run(ctx context.Context, r *runner, s *step) error
}

// An expectTaker takes the step's expect key (http, ws_open).
type expectTaker interface{ setExpect(x *httpExpect) }

// An asyncer may run in the background (async: true, finished by wait).
type asyncer interface{ canAsync() }

// An awaiter names an earlier async step (wait, pending): checked at load.
type awaiter interface{ awaits() string }

// A group holds sub-steps (parallel).
type group interface{ subSteps() []*step }

// stepKinds is the registry: every step kind's key and a new zero value of
// its action, in the order messages list them. One table rather than
// init-time self-registration in each file, so that the order is written
// down once (init order would follow file names) and the list of kinds is
// read in one place. It is filled by init because parallel's parse decodes
// steps through it: an initializer naming it would depend on itself.
var stepKinds []stepKind

type stepKind struct {
	key string
	new func() action
}

func init() {
	stepKinds = []stepKind{
		{"http", func() action { return &httpStep{} }},
		{"http_slow", func() action { return &httpSlow{} }},
		{"ws_open", func() action { return &wsOpen{} }},
		{"ws_send", func() action { return &wsSend{} }},
		{"ws_expect", func() action { return &wsExpect{} }},
		{"ws_silent", func() action { return &wsSilent{} }},
		{"ws_close", func() action { return &wsClose{} }},
		{"sleep", func() action { return new(sleepStep) }},
		{"wait", func() action { return &waitStep{} }},
		{"pending", func() action { return &pendingStep{} }},
		{"parallel", func() action { return &parallelStep{} }},
		{"poll_until", func() action { return &pollUntil{} }},
		{"poll_heartbeat", func() action { return &pollHeartbeat{} }},
		{"eio_open_polling", func() action { return &openPolling{} }},
		{"eio_open_ws", func() action { return &openWS{} }},
		{"sio_connect_ws", func() action { return &sioConnect{} }},
		{"srv_accept", func() action { return &srvAccept{} }},
		{"srv_expect", func() action { return &srvExpect{} }},
		{"srv_send", func() action { return &srvSend{} }},
		{"srv_hold", func() action { return &srvHold{} }},
		{"srv_close", func() action { return &srvClose{} }},
		{"srv_silent", func() action { return &srvSilent{} }},
		{"srv_refuse", func() action { return &srvRefuse{} }},
		{"srv_alive", func() action { return &srvAlive{} }},
		{"srv_raw", func() action { return &srvRaw{} }},
		{"srv_post_delay", func() action { return &srvPostDelay{} }},
		{"srv_batch", func() action { return &srvBatch{} }},
	}
}

// findKind returns the registry entry of key, or nil.
func findKind(key string) *stepKind {
	for i := range stepKinds {
		if stepKinds[i].key == key {
			return &stepKinds[i]
		}
	}
	return nil
}

// kindKeys returns the keys of the kinds whose action passes keep.
func kindKeys(keep func(action) bool) []string {
	var out []string
	for _, k := range stepKinds {
		if keep(k.new()) {
			out = append(out, k.key)
		}
	}
	return out
}

// spoken joins names as prose: "a", "a and b", "a, b and c".
func spoken(names []string, and string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + and + " " + names[len(names)-1]
}

// exec runs one step.
func (r *runner) exec(ctx context.Context, s *step) error {
	if s.act == nil {
		return &brokenCase{"unknown step kind " + s.kind}
	}
	return s.act.run(ctx, r, s)
}

// stepKeys are the keys any step may carry besides its action.
var stepKeys = []string{"expect", "name", "async", "on_fail"}

// decodeSteps decodes a list of steps.
func decodeSteps(d *yamldoc.Decoder, list *yaml.Node, field string) []*step {
	out := make([]*step, len(list.Content))
	for i, sn := range list.Content {
		out[i] = &step{}
		d.Decode(sn, yamldoc.Index(field, i), out[i])
	}
	return out
}

// UnmarshalYAMLDoc decodes one step: a mapping of exactly one action and
// the keys every step may carry, named under the action
// ("steps[2].http.name").
func (s *step) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	s.line = n.Line
	nodes := map[string]*yaml.Node{}
	unknown := false
	if !d.Fields(n, field, func(key string, k, v *yaml.Node) bool {
		nodes[key] = v
		if findKind(key) != nil || slices.Contains(stepKeys, key) {
			return true
		}
		// A mistyped action (htp) is named once, with the action meant;
		// "no action" after it would say the same again.
		unknown = true
		if near := yamldoc.Suggest(key, append(kindKeys(func(action) bool { return true }), stepKeys...)); near != "" {
			d.Errorf(k, yamldoc.Join(field, key), "unknown key (did you mean %q?)", near)
		} else {
			d.Errorf(k, yamldoc.Join(field, key), "unknown key")
		}
		return true
	}) {
		return
	}
	var kind *stepKind
	for i, k := range stepKinds {
		if _, ok := nodes[k.key]; ok {
			if kind != nil {
				d.Errorf(n, field, "two actions in one step (%s and %s)", s.kind, k.key)
				return
			}
			s.kind, kind = k.key, &stepKinds[i]
		}
	}
	if kind == nil {
		if !unknown {
			d.Errorf(n, field, "no action (one of: %v)", kindKeys(func(action) bool { return true }))
		}
		return
	}
	field = yamldoc.Join(field, s.kind)
	var b struct {
		Name   string     `yaml:"name"`
		Async  bool       `yaml:"async"`
		OnFail *string    `yaml:"on_fail"`
		Expect *yaml.Node `yaml:"expect"`
	}
	common := make([]*yaml.Node, 0, 8)
	for _, k := range stepKeys {
		if v := nodes[k]; v != nil {
			common = append(common, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: v.Line}, v)
		}
	}
	d.Decode(&yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Content: common}, field, &b)
	s.act = kind.new()
	s.name, s.async = b.Name, b.Async
	if _, ok := s.act.(asyncer); s.async && (!ok || s.name == "") {
		d.Fieldf(yamldoc.Join(field, "async"), "only a named %s step can be async",
			spoken(kindKeys(func(a action) bool { _, ok := a.(asyncer); return ok }), "or"))
	}
	if b.OnFail != nil {
		if s.onFail = *b.OnFail; s.onFail != "na" && s.onFail != "info" {
			d.Fieldf(yamldoc.Join(field, "on_fail"), "want na or info, got %q", s.onFail)
		}
	}
	if b.Expect != nil {
		if et, ok := s.act.(expectTaker); ok {
			x := &httpExpect{}
			d.Decode(b.Expect, yamldoc.Join(field, "expect"), x)
			et.setExpect(x)
		} else {
			d.Errorf(b.Expect, yamldoc.Join(field, "expect"), "only %s steps take expect",
				spoken(kindKeys(func(a action) bool { _, ok := a.(expectTaker); return ok }), "and"))
		}
	}
	s.act.parse(d, nodes[s.kind], field)
}

// subSteps returns the sub-steps of s (a parallel group's), or nil.
func subSteps(s *step) []*step {
	if g, ok := s.act.(group); ok {
		return g.subSteps()
	}
	return nil
}

// need returns the required duration key of a step's mapping n (decoded
// into v), saying it is missing when it is not there.
func need(d *yamldoc.Decoder, n *yaml.Node, field, key string, v *duration) (time.Duration, bool) {
	if v == nil {
		d.Errorf(n, yamldoc.Join(field, key), "missing")
		return 0, false
	}
	return time.Duration(*v), true
}

// settingsOrEmpty lets a step whose settings are all optional be written
// bare (srv_accept:, srv_accept: ~): an empty mapping at n's line.
func settingsOrEmpty(n *yaml.Node) *yaml.Node {
	if yamldoc.IsNull(n) || n.Kind == yaml.ScalarNode && n.Value == "" {
		return &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	}
	return n
}

// or returns *p, or def when the key was left out.
func or(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
