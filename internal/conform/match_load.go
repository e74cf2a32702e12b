package conform

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// strMatcher compiles a string matcher (§4.1); absent is allowed for
// headers only.
func (p *parser) strMatcher(n *yaml.Node, field string, header bool) (*strMatcher, error) {
	if n.Kind == yaml.ScalarNode {
		return &strMatcher{kind: "exact", val: n.Value}, nil
	}
	ents, _, err := p.mapping(n, field, "prefix", "contains", "pattern", "not", "any", "absent", "capture")
	if err != nil {
		return nil, err
	}
	m := &strMatcher{}
	for _, e := range ents {
		f := join(field, e.key)
		if e.key == "capture" {
			if m.capture, err = p.str(e.val, f); err != nil {
				return nil, err
			}
			continue
		}
		if m.kind != "" {
			return nil, p.errf(e.kn, f, "only one of prefix, contains, pattern, not, any, absent")
		}
		m.kind = e.key
		switch e.key {
		case "any", "absent":
			b, err := p.boolean(e.val, f)
			if err != nil {
				return nil, err
			}
			if !b {
				return nil, p.errf(e.val, f, "only true is meaningful")
			}
			if e.key == "absent" && !header {
				return nil, p.errf(e.kn, f, "absent is for headers only")
			}
		default:
			if m.val, err = p.str(e.val, f); err != nil {
				return nil, err
			}
		}
	}
	if m.kind == "" {
		m.kind = "any" // {capture: x} alone captures whatever is there
	}
	if m.kind == "pattern" {
		if m.re, err = compileRE(m.val); err != nil {
			return nil, p.errf(n, join(field, "pattern"), "%v", err)
		}
	}
	return m, nil
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
		if k == "capture" {
			return true
		}
		for _, w := range matcherWords {
			if k == w {
				return true
			}
		}
	}
	return false
}

var jsonTypes = map[string]bool{"string": true, "number": true, "boolean": true, "object": true, "array": true, "null": true}

// jsonMatcher compiles a JSON matcher (§4.2).
func (p *parser) jsonMatcher(n *yaml.Node, field string) (*jsonMatcher, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := p.scalar(n, field)
		if err != nil {
			return nil, err
		}
		return &jsonMatcher{kind: "literal", lit: v}, nil
	case yaml.SequenceNode:
		m := &jsonMatcher{kind: "array"}
		for i, e := range n.Content {
			sub, err := p.jsonMatcher(e, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			m.elems = append(m.elems, sub)
		}
		return m, nil
	case yaml.MappingNode:
		if isMatcherMap(n) {
			return p.jsonWordMatcher(n, field)
		}
		ents, _, err := p.mapping(n, field)
		if err != nil {
			return nil, err
		}
		m := &jsonMatcher{kind: "object"}
		for _, e := range ents {
			sub, err := p.jsonMatcher(e.val, join(field, e.key))
			if err != nil {
				return nil, err
			}
			m.keys = append(m.keys, e.key)
			m.fields = append(m.fields, sub)
		}
		return m, nil
	}
	return nil, p.errf(n, field, "unsupported value (%s)", kindName(n))
}

func (p *parser) jsonWordMatcher(n *yaml.Node, field string) (*jsonMatcher, error) {
	ents, _, err := p.mapping(n, field, append([]string{"capture"}, matcherWords...)...)
	if err != nil {
		return nil, err
	}
	m := &jsonMatcher{}
	for _, e := range ents {
		f := join(field, e.key)
		if e.key == "capture" {
			if m.capture, err = p.str(e.val, f); err != nil {
				return nil, err
			}
			continue
		}
		if m.kind != "" {
			return nil, p.errf(e.kn, f, "only one matcher word per value")
		}
		m.kind = e.key
		switch e.key {
		case "type":
			if m.typ, err = p.str(e.val, f); err != nil {
				return nil, err
			}
			if !jsonTypes[m.typ] {
				return nil, p.errf(e.val, f, "want string, number, boolean, object, array or null, got %q", m.typ)
			}
		case "range":
			if e.val.Kind != yaml.SequenceNode || len(e.val.Content) != 2 {
				return nil, p.errf(e.val, f, "want [min, max]")
			}
			lo, err1 := p.scalar(e.val.Content[0], f)
			hi, err2 := p.scalar(e.val.Content[1], f)
			a, ok1 := lo.(float64)
			b, ok2 := hi.(float64)
			if err1 != nil || err2 != nil || !ok1 || !ok2 || a > b {
				return nil, p.errf(e.val, f, "want [min, max] numbers with min <= max")
			}
			m.min, m.max = a, b
		case "pattern":
			if m.reSrc, err = p.str(e.val, f); err != nil {
				return nil, err
			}
			if m.re, err = compileRE(m.reSrc); err != nil {
				return nil, p.errf(e.val, f, "%v", err)
			}
		case "any":
			b, err := p.boolean(e.val, f)
			if err != nil {
				return nil, err
			}
			if !b {
				return nil, p.errf(e.val, f, "only true is meaningful")
			}
		case "not":
			// not: M matches any value M does not (the Socket.IO sid must
			// differ from the Engine.IO sid: sid: {not: "${sid}"}).
			sub, err := p.jsonMatcher(e.val, f)
			if err != nil {
				return nil, err
			}
			m.elems = []*jsonMatcher{sub}
		case "one_of", "unordered":
			if e.val.Kind != yaml.SequenceNode {
				return nil, p.errf(e.val, f, "want a list")
			}
			for i, en := range e.val.Content {
				sub, err := p.jsonMatcher(en, fmt.Sprintf("%s[%d]", f, i))
				if err != nil {
					return nil, err
				}
				m.elems = append(m.elems, sub)
			}
		}
	}
	if m.kind == "" {
		m.kind = "any"
	}
	return m, nil
}

var eioTypes = map[string]bool{"open": true, "close": true, "ping": true, "pong": true, "message": true, "upgrade": true, "noop": true}

// pktMatcher compiles an Engine.IO packet matcher (§4.3).
func (p *parser) pktMatcher(n *yaml.Node, field string) (*pktMatcher, error) {
	ents, _, err := p.mapping(n, field, "type", "data", "binary_hex", "json", "exact_keys", "sio")
	if err != nil {
		return nil, err
	}
	m := &pktMatcher{}
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "type":
			if m.typ, err = p.str(e.val, f); err == nil && !eioTypes[m.typ] {
				err = p.errf(e.val, f, "unknown packet type %q", m.typ)
			}
		case "data":
			m.data, err = p.strMatcher(e.val, f, false)
		case "binary_hex":
			m.binHex, err = p.hexBytes(e.val, f)
			m.hasBin = true
		case "json":
			m.json, err = p.jsonMatcher(e.val, f)
		case "exact_keys":
			m.exactKeys, err = p.boolean(e.val, f)
		case "sio":
			m.sio, err = p.sioMatcher(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

var sioTypes = map[string]bool{"CONNECT": true, "DISCONNECT": true, "EVENT": true, "ACK": true,
	"CONNECT_ERROR": true, "BINARY_EVENT": true, "BINARY_ACK": true}

// sioMatcher compiles a Socket.IO packet matcher (§4.4).
func (p *parser) sioMatcher(n *yaml.Node, field string) (*sioMatcher, error) {
	ents, _, err := p.mapping(n, field, "type", "nsp", "id", "attachments", "data", "exact_keys")
	if err != nil {
		return nil, err
	}
	m := &sioMatcher{}
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "type":
			if m.typ, err = p.str(e.val, f); err == nil && !sioTypes[m.typ] {
				err = p.errf(e.val, f, "unknown Socket.IO packet type %q", m.typ)
			}
		case "nsp":
			var s string
			s, err = p.str(e.val, f)
			m.nsp = &s
		case "id":
			if e.val.Tag == "!!null" || e.val.Value == "none" {
				m.noID = true // id: none asserts that the packet carries no ack id
				continue
			}
			var v int
			v, err = p.integer(e.val, f)
			id := int64(v)
			m.id = &id
		case "attachments":
			var v int
			v, err = p.integer(e.val, f)
			m.attachments = &v
		case "data":
			m.data, err = p.jsonMatcher(e.val, f)
		case "exact_keys":
			m.exactKeys, err = p.boolean(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}
