package conform

import (
	"encoding/json"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

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
	if !d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
		nodes[key] = v
		return stepActions[key].parse != nil || slices.Contains(stepKeys, key)
	}) {
		return
	}
	for _, a := range actions {
		if _, ok := nodes[a]; ok {
			if s.kind != "" {
				d.Errorf(n, field, "two actions in one step (%s and %s)", s.kind, a)
				return
			}
			s.kind = a
		}
	}
	if s.kind == "" {
		d.Errorf(n, field, "no action (one of: %v)", actions)
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
	s.name, s.async = b.Name, b.Async
	if s.async && (s.kind != "http" || s.name == "") {
		d.Fieldf(yamldoc.Join(field, "async"), "only a named http step can be async")
	}
	if b.OnFail != nil {
		if s.onFail = *b.OnFail; s.onFail != "na" && s.onFail != "info" {
			d.Fieldf(yamldoc.Join(field, "on_fail"), "want na or info, got %q", s.onFail)
		}
	}
	if b.Expect != nil {
		if s.kind != "http" && s.kind != "ws_open" {
			d.Errorf(b.Expect, yamldoc.Join(field, "expect"), "only http and ws_open steps take expect")
		} else {
			s.expect = &httpExpect{}
			d.Decode(b.Expect, yamldoc.Join(field, "expect"), s.expect)
		}
	}
	stepActions[s.kind].parse(d, nodes[s.kind], field, s)
}

func parseSleep(d *yamldoc.Decoder, v *yaml.Node, f string, s *step) {
	d.Decode(v, f, (*duration)(&s.sleep))
}

func parseWait(d *yamldoc.Decoder, v *yaml.Node, f string, s *step) { d.Decode(v, f, &s.wait) }

func parsePending(d *yamldoc.Decoder, v *yaml.Node, f string, s *step) { d.Decode(v, f, &s.pending) }

func parseParallel(d *yamldoc.Decoder, v *yaml.Node, field string, s *step) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.Errorf(v, field, "want a non-empty list of steps")
		return
	}
	s.parallel = decodeSteps(d, v, field)
}

// padded are the keys that grow a body or frame to an exact size.
type padded struct {
	Pad   *yaml.Node `yaml:"pad"`
	PadTo *int       `yaml:"pad_to,signed"`
}

// padding reads pad_to and pad (a text unit, or hex bytes for binary
// content; default "a" or 00) of the mapping n.
func (p padded) padding(d *yamldoc.Decoder, n *yaml.Node, field string, binary bool) padding {
	var pd padding
	if p.PadTo == nil {
		if p.Pad != nil {
			d.Errorf(n, yamldoc.Join(field, "pad"), "needs pad_to")
		}
		return pd
	}
	if pd.to = *p.PadTo; pd.to < 1 || pd.to > 64<<20 {
		d.Fieldf(yamldoc.Join(field, "pad_to"), "must be between 1 and 64 MiB")
		return padding{}
	}
	pd.unit = []byte("a")
	if binary {
		pd.unit = []byte{0}
	}
	if p.Pad != nil {
		f := yamldoc.Join(field, "pad")
		if binary {
			d.Decode(p.Pad, f, (*hexBytes)(&pd.unit))
		} else {
			var s string
			d.Decode(p.Pad, f, &s)
			pd.unit = []byte(s)
		}
		if len(pd.unit) == 0 {
			d.Errorf(p.Pad, f, "must not be empty")
			return padding{}
		}
	}
	return pd
}

func parseHTTPReq(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Method     *string   `yaml:"method"`
		Query      kvList    `yaml:"query"`
		Path       string    `yaml:"path"`
		Headers    kvList    `yaml:"headers"`
		Body       *string   `yaml:"body"`
		BodyHex    *hexBytes `yaml:"body_hex"`
		AbortAfter duration  `yaml:"abort_after"`
		Padded     padded    `yaml:",inline"`
	}
	d.Decode(n, field, &b)
	r := &httpReq{method: "GET", query: b.Query, path: b.Path, headers: b.Headers, abortAfter: time.Duration(b.AbortAfter)}
	if b.Method != nil {
		r.method = *b.Method
	}
	if b.Body != nil {
		r.body, r.hasBody = *b.Body, true
	}
	if b.BodyHex != nil {
		r.bodyBytes, r.hasBody = *b.BodyHex, true
	}
	if r.bodyBytes != nil && r.body != "" {
		d.Errorf(n, field, "body and body_hex are exclusive")
	}
	r.pad = b.Padded.padding(d, n, field, r.bodyBytes != nil)
	if r.pad.to > 0 {
		r.hasBody = true
	}
	s.http = r
}

// UnmarshalYAMLDoc decodes the expect of an http or ws_open step.
func (x *httpExpect) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Status    statusCodes   `yaml:"status"`
		Headers   headerMatches `yaml:"headers"`
		Body      *strMatcher   `yaml:"body"`
		BodyHex   *hexBytes     `yaml:"body_hex"`
		Packets   *yaml.Node    `yaml:"packets"`
		Unordered bool          `yaml:"unordered"`
		JSON      *jsonMatcher  `yaml:"json"`
		ExactKeys bool          `yaml:"exact_keys"`
		Within    duration      `yaml:"within"`
		NotBefore duration      `yaml:"not_before"`
	}
	d.Decode(n, field, &b)
	*x = httpExpect{status: b.Status, headers: b.Headers, body: b.Body, unordered: b.Unordered, json: b.JSON,
		exactKeys: b.ExactKeys, within: time.Duration(b.Within), notBefore: time.Duration(b.NotBefore)}
	if b.BodyHex != nil {
		x.bodyHex, x.hasHex = *b.BodyHex, true
	}
	if b.Packets != nil {
		x.hasPkts = true
		f := yamldoc.Join(field, "packets")
		if b.Packets.Kind != yaml.SequenceNode {
			d.Errorf(b.Packets, f, "want a list of packet matchers")
			return
		}
		for i, pn := range b.Packets.Content {
			m := &pktMatcher{}
			d.Decode(pn, yamldoc.Index(f, i), m)
			x.packets = append(x.packets, m)
		}
	}
}

// statusCodes is one status code or a list of the codes allowed.
type statusCodes []int

// UnmarshalYAMLDoc decodes 200 or [200, 400].
func (l *statusCodes) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	if n.Kind == yaml.SequenceNode {
		d.Decode(n, field, (*[]int)(l))
		return
	}
	var st int
	d.Decode(n, field, &st)
	*l = statusCodes{st}
}

// headerMatches are the header matchers of an expect, in file order.
type headerMatches []headerMatch

// UnmarshalYAMLDoc decodes a mapping of header names to string matchers.
func (h *headerMatches) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
		*h = append(*h, headerMatch{key, parseStrMatcher(d, v, yamldoc.Join(field, key), true)})
		return true
	})
}

func parseWSOpen(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Name    *string `yaml:"name"`
		Query   kvList  `yaml:"query"`
		Path    string  `yaml:"path"`
		Headers kvList  `yaml:"headers"`
	}
	d.Decode(n, field, &b)
	s.wsOpen = &wsOpen{name: or(b.Name, "ws"), query: b.Query, path: b.Path, headers: b.Headers}
}

// or returns *p, or def when the key was left out.
func or(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func parseWSSend(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		WS        *string   `yaml:"ws"`
		Text      *string   `yaml:"text"`
		TextHex   *hexBytes `yaml:"text_hex"`
		BinaryHex *hexBytes `yaml:"binary_hex"`
		Padded    padded    `yaml:",inline"`
	}
	d.Decode(n, field, &b)
	w := &wsSend{ws: or(b.WS, "ws")}
	s.wsSend = w
	if b.TextHex != nil {
		// A text frame of exactly these bytes, valid UTF-8 or not (the
		// invalid-UTF-8 cases); YAML escapes can only write code points.
		if b.Text != nil {
			d.Errorf(n, field, "want exactly one of text, text_hex and binary_hex")
			return
		}
		w.rawText = *b.TextHex
	}
	w.pad = b.Padded.padding(d, n, field, b.BinaryHex != nil)
	hasText := b.Text != nil || b.TextHex != nil
	switch {
	case hasText == (b.BinaryHex != nil):
		d.Errorf(n, field, "want exactly one of text and binary_hex")
	case b.Text != nil:
		w.text = *b.Text
	case b.BinaryHex != nil:
		w.isBin, w.binary = true, *b.BinaryHex
	}
}

func parseWSExpect(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		WS        *string     `yaml:"ws"`
		Text      *strMatcher `yaml:"text"`
		BinaryHex *hexBytes   `yaml:"binary_hex"`
		Packet    *pktMatcher `yaml:"packet"`
		SIO       *sioMatcher `yaml:"sio"`
		Close     *bool       `yaml:"close"`
		Code      int         `yaml:"code,signed"`
		Within    duration    `yaml:"within"`
		NotBefore duration    `yaml:"not_before"`
		Skip      []string    `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	x := &wsExpect{ws: or(b.WS, "ws"), within: time.Duration(b.Within), notBefore: time.Duration(b.NotBefore), skip: b.Skip}
	x.match = frameMatch{text: b.Text, packet: b.Packet, sio: b.SIO, code: b.Code}
	kinds := 0
	for _, k := range []string{"text", "binary_hex", "packet", "sio", "close"} {
		if lookup(n, k) != nil { // present, even if refused: one message is enough
			kinds++
		}
	}
	if b.BinaryHex != nil {
		x.match.binHex, x.match.hasBin = *b.BinaryHex, true
	}
	if b.Close != nil {
		x.match.close, x.match.hasClose = *b.Close, true
	}
	if kinds != 1 {
		d.Errorf(n, field, "want exactly one of text, binary_hex, packet, sio, close")
	} else if x.match.code != 0 && !x.match.close {
		d.Errorf(n, yamldoc.Join(field, "code"), "code needs close: true")
	}
	s.wsExpect = x
}

func parseWSSilent(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		WS   *string   `yaml:"ws"`
		For  *duration `yaml:"for"`
		Skip []string  `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	s.wsSilent = &wsSilent{ws: or(b.WS, "ws"), skip: b.Skip}
	if b.For == nil {
		d.Errorf(n, yamldoc.Join(field, "for"), "missing")
		return
	}
	s.wsSilent.dur = time.Duration(*b.For)
}

func parseWSClose(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		WS    *string `yaml:"ws"`
		Abort bool    `yaml:"abort"`
	}
	d.Decode(n, field, &b)
	s.wsClose = &wsClose{ws: or(b.WS, "ws"), abort: b.Abort}
}

func parsePollUntil(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Query kvList      `yaml:"query"`
		Path  string      `yaml:"path"`
		Body  *strMatcher `yaml:"body"`
		Max   *int        `yaml:"max,signed"`
	}
	d.Decode(n, field, &b)
	u := &pollUntil{query: b.Query, path: b.Path, body: b.Body, max: 5}
	s.pollUntil = u
	if b.Body == nil {
		d.Errorf(n, yamldoc.Join(field, "body"), "missing")
	}
	if b.Max != nil {
		if u.max = *b.Max; u.max < 1 {
			d.Fieldf(yamldoc.Join(field, "max"), "must be at least 1")
		}
	}
}

func parseOpenPolling(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Capture *string `yaml:"capture"`
		Query   kvList  `yaml:"query"`
	}
	d.Decode(n, field, &b)
	s.openPoll = &openPolling{capture: or(b.Capture, "sid"), query: b.Query}
}

func parseOpenWS(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Name    *string `yaml:"name"`
		Capture string  `yaml:"capture"`
		Query   kvList  `yaml:"query"`
	}
	d.Decode(n, field, &b)
	s.openWS = &openWS{name: or(b.Name, "ws"), capture: b.Capture, query: b.Query}
}

func parseSIOConnect(d *yamldoc.Decoder, n *yaml.Node, field string, s *step) {
	var b struct {
		Name  *string    `yaml:"name"`
		NSP   *string    `yaml:"nsp"`
		Auth  *yaml.Node `yaml:"auth"`
		Query kvList     `yaml:"query"`
	}
	d.Decode(n, field, &b)
	c := &sioConnect{name: or(b.Name, "ws"), nsp: or(b.NSP, "/"), query: b.Query}
	s.sioConnect = c
	if b.Auth != nil {
		f := yamldoc.Join(field, "auth")
		var val any
		d.Decode(b.Auth, f, &val)
		if _, isObj := val.(map[string]any); !isObj {
			d.Errorf(b.Auth, f, "want a mapping")
			return
		}
		j, _ := json.Marshal(val)
		c.auth, c.hasAuth = string(j), true
	}
}
