package conform

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// UnmarshalYAMLDoc decodes a string matcher of a body, text or data.
func (m *strMatcher) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	*m = *parseStrMatcher(d, n, field, false)
}

// strWords are the kinds of a string matcher written as a mapping.
var strWords = []string{"prefix", "contains", "pattern", "not", "any", "absent"}

// parseStrMatcher compiles a string matcher (§4.1); absent is allowed for
// headers only.
func parseStrMatcher(d *yamldoc.Decoder, n *yaml.Node, field string, header bool) *strMatcher {
	if n.Kind == yaml.ScalarNode {
		return &strMatcher{kind: "exact", val: n.Value}
	}
	m := &strMatcher{}
	m.kind = oneWord(d, n, field, strWords, "only one of prefix, contains, pattern, not, any, absent", &m.capture,
		func(key, f string, k, v *yaml.Node) {
			switch key {
			case "any", "absent":
				onlyTrue(d, v, f)
				if key == "absent" && !header {
					d.Errorf(k, f, "absent is for headers only")
				}
			default:
				d.Decode(v, f, &m.val)
			}
		})
	if m.kind == "pattern" {
		var err error
		if m.re, err = compileRE(m.val); err != nil {
			d.Errorf(n, yamldoc.Join(field, "pattern"), "%v", err)
		}
	}
	return m
}

// onlyTrue decodes any: true and absent: true, where false means nothing.
func onlyTrue(d *yamldoc.Decoder, v *yaml.Node, field string) {
	var b bool
	d.Decode(v, field, &b)
	if v.Tag == "!!bool" && !b {
		d.Errorf(v, field, "only true is meaningful")
	}
}

// compileRE compiles a pattern now unless it holds a variable, in which
// case it is compiled after substitution at run time.
func compileRE(src string) (*regexp.Regexp, error) {
	if strings.Contains(src, "${") {
		return nil, nil
	}
	return regexp.Compile(src)
}

// matcherWords mark a mapping inside a JSON matcher as a matcher rather
// than a literal object (§4.2).
var matcherWords = []string{"type", "range", "pattern", "any", "one_of", "unordered", "not"}

func isMatcherMap(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if k == "capture" || slices.Contains(matcherWords, k) {
			return true
		}
	}
	return false
}

var jsonTypes = map[string]bool{"string": true, "number": true, "boolean": true, "object": true, "array": true, "null": true}

// UnmarshalYAMLDoc compiles a JSON matcher (§4.2): a literal scalar, an
// array or object of matchers, or a mapping of one matcher word.
func (m *jsonMatcher) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	switch n.Kind {
	case yaml.ScalarNode:
		v, _ := scalar(d, n, field)
		*m = jsonMatcher{kind: "literal", lit: v}
	case yaml.SequenceNode:
		*m = jsonMatcher{kind: "array", elems: jsonList(d, n, field)}
	case yaml.MappingNode:
		if isMatcherMap(n) {
			m.words(d, n, field)
			return
		}
		*m = jsonMatcher{kind: "object"}
		d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
			sub := &jsonMatcher{}
			d.Decode(v, yamldoc.Join(field, key), sub)
			m.keys, m.fields = append(m.keys, key), append(m.fields, sub)
			return true
		})
	default:
		d.Errorf(n, field, "unsupported value (%s)", yamldoc.Describe(n))
	}
}

// jsonList compiles a list of matchers; a null element is the literal
// null, not a missing matcher.
func jsonList(d *yamldoc.Decoder, n *yaml.Node, field string) []*jsonMatcher {
	var out []*jsonMatcher
	for i, e := range n.Content {
		sub := &jsonMatcher{}
		d.Decode(e, yamldoc.Index(field, i), sub)
		out = append(out, sub)
	}
	return out
}

// words compiles a mapping of one matcher word (and a capture).
func (m *jsonMatcher) words(d *yamldoc.Decoder, n *yaml.Node, field string) {
	m.kind = oneWord(d, n, field, matcherWords, "only one matcher word per value", &m.capture, func(key, f string, k, v *yaml.Node) {
		switch key {
		case "type":
			d.Decode(v, f, &m.typ)
			if !jsonTypes[m.typ] {
				d.Errorf(v, f, "want string, number, boolean, object, array or null, got %q", m.typ)
			}
		case "range":
			if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
				d.Errorf(v, f, "want [min, max]")
				break
			}
			lo, hi := rangeEnd(v.Content[0]), rangeEnd(v.Content[1])
			if lo == nil || hi == nil || *lo > *hi {
				d.Errorf(v, f, "want [min, max] numbers with min <= max")
				break
			}
			m.min, m.max = *lo, *hi
		case "pattern":
			d.Decode(v, f, &m.reSrc)
			var err error
			if m.re, err = compileRE(m.reSrc); err != nil {
				d.Errorf(v, f, "%v", err)
			}
		case "any":
			onlyTrue(d, v, f)
		case "not":
			// not: M matches any value M does not (the Socket.IO sid must
			// differ from the Engine.IO sid: sid: {not: "${sid}"}).
			sub := &jsonMatcher{}
			d.Decode(v, f, sub)
			m.elems = []*jsonMatcher{sub}
		case "one_of", "unordered":
			if v.Kind != yaml.SequenceNode {
				d.Errorf(v, f, "want a list")
				break
			}
			m.elems = jsonList(d, v, f)
		}
	})
}

// oneWord decodes a matcher written as a mapping: one of words, whose
// value fn decodes, and an optional capture. A mapping of a capture alone
// is the word "any": it captures whatever is there.
func oneWord(d *yamldoc.Decoder, n *yaml.Node, field string, words []string, tooMany string, capture *string,
	fn func(key, f string, k, v *yaml.Node)) string {
	kind := ""
	d.Fields(n, field, func(key string, k, v *yaml.Node) bool {
		f := yamldoc.Join(field, key)
		switch {
		case key == "capture":
			d.Decode(v, f, capture)
		case !slices.Contains(words, key):
			return false
		case kind != "":
			d.Errorf(k, f, "%s", tooMany)
		default:
			kind = key
			fn(key, f, k, v)
		}
		return true
	})
	if kind == "" {
		return "any"
	}
	return kind
}

// rangeEnd is one end of a range: a number, or nil.
func rangeEnd(n *yaml.Node) *float64 {
	v, ok := scalar(&yamldoc.Decoder{}, n, "")
	if f, isNum := v.(float64); ok && isNum {
		return &f
	}
	return nil
}

var eioTypes = map[string]bool{"open": true, "close": true, "ping": true, "pong": true, "message": true, "upgrade": true, "noop": true}

// UnmarshalYAMLDoc compiles an Engine.IO packet matcher (§4.3).
func (m *pktMatcher) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Type      string       `yaml:"type"`
		Data      *strMatcher  `yaml:"data"`
		BinaryHex *hexBytes    `yaml:"binary_hex"`
		JSON      *jsonMatcher `yaml:"json"`
		ExactKeys bool         `yaml:"exact_keys"`
		SIO       *sioMatcher  `yaml:"sio"`
	}
	if !mapping(d, n, field) {
		return
	}
	d.Decode(n, field, &b)
	*m = pktMatcher{typ: b.Type, data: b.Data, json: b.JSON, exactKeys: b.ExactKeys, sio: b.SIO}
	if b.Type != "" && !eioTypes[b.Type] {
		d.Fieldf(yamldoc.Join(field, "type"), "unknown packet type %q", b.Type)
	}
	if b.BinaryHex != nil {
		m.binHex, m.hasBin = *b.BinaryHex, true
	}
}

// mapping refuses anything but a mapping, even an empty value: a matcher
// left empty by mistake would match anything.
func mapping(d *yamldoc.Decoder, n *yaml.Node, field string) bool {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, field, "want a mapping, got %s", yamldoc.Describe(n))
		return false
	}
	return true
}

var sioTypes = map[string]bool{"CONNECT": true, "DISCONNECT": true, "EVENT": true, "ACK": true,
	"CONNECT_ERROR": true, "BINARY_EVENT": true, "BINARY_ACK": true}

// UnmarshalYAMLDoc compiles a Socket.IO packet matcher (§4.4).
func (m *sioMatcher) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Type        string       `yaml:"type"`
		NSP         *string      `yaml:"nsp"`
		ID          *yaml.Node   `yaml:"id"`
		Attachments *int         `yaml:"attachments,signed"`
		Data        *jsonMatcher `yaml:"data"`
		ExactKeys   bool         `yaml:"exact_keys"`
	}
	if !mapping(d, n, field) {
		return
	}
	d.Decode(n, field, &b)
	*m = sioMatcher{typ: b.Type, nsp: b.NSP, attachments: b.Attachments, data: b.Data, exactKeys: b.ExactKeys}
	if b.Type != "" && !sioTypes[b.Type] {
		d.Fieldf(yamldoc.Join(field, "type"), "unknown Socket.IO packet type %q", b.Type)
	}
	switch {
	case b.ID == nil:
	case b.ID.Tag == "!!null" || b.ID.Value == "none":
		m.noID = true // id: none asserts that the packet carries no ack id
	default:
		var id int64
		d.Decode(b.ID, yamldoc.Join(field, "id"), &id)
		m.id = &id
	}
}
