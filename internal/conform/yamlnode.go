package conform

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadError is a problem in a case file: "file:line: field: problem".
type LoadError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as file:line: field: problem.
func (e *LoadError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// parser decodes one file's yaml.Node tree; every error names the node's
// line and the dotted field path, which yaml's own struct decoding cannot.
type parser struct {
	file string
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &LoadError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// entry is one key of a mapping, in file order.
type entry struct {
	key string
	kn  *yaml.Node
	val *yaml.Node
}

// mapping checks that n is a mapping with only allowed keys (none repeated)
// and returns its entries in order plus a lookup table.
func (p *parser) mapping(n *yaml.Node, field string, allowed ...string) ([]entry, map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, p.errf(n, field, "want a mapping, got %s", kindName(n))
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var out []entry
	idx := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, p.errf(k, field, "keys must be strings")
		}
		if allowed != nil && !ok[k.Value] {
			return nil, nil, p.errf(k, join(field, k.Value), "unknown key (allowed: %s)", strings.Join(allowed, ", "))
		}
		if _, dup := idx[k.Value]; dup {
			return nil, nil, p.errf(k, join(field, k.Value), "repeated key")
		}
		idx[k.Value] = v
		out = append(out, entry{k.Value, k, v})
	}
	return out, idx, nil
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
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (p *parser) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, field, "want a string, got %s", kindName(n))
	}
	return n.Value, nil
}

func (p *parser) integer(n *yaml.Node, field string) (int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, p.errf(n, field, "want a number, got %s", kindName(n))
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, p.errf(n, field, "want an integer, got %q", n.Value)
	}
	return v, nil
}

func (p *parser) boolean(n *yaml.Node, field string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, p.errf(n, field, "want true or false, got %s", kindName(n))
	}
	return n.Value == "true", nil
}

func (p *parser) duration(n *yaml.Node, field string) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, p.errf(n, field, "want a duration like 500ms, got %s", kindName(n))
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || d < 0 {
		return 0, p.errf(n, field, "want a duration like 500ms, got %q", n.Value)
	}
	return d, nil
}

func (p *parser) hexBytes(n *yaml.Node, field string) ([]byte, error) {
	s, err := p.str(n, field)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, p.errf(n, field, "bad hex: %v", err)
	}
	return b, nil
}

func (p *parser) strList(n *yaml.Node, field string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, field, "want a list, got %s", kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := p.str(e, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// kvs decodes a mapping of scalars in file order (query, headers).
func (p *parser) kvs(n *yaml.Node, field string) ([]kv, error) {
	ents, _, err := p.mapping(n, field)
	if err != nil {
		return nil, err
	}
	out := make([]kv, 0, len(ents))
	for _, e := range ents {
		if e.val.Kind != yaml.ScalarNode {
			return nil, p.errf(e.val, join(field, e.key), "want a string, got %s", kindName(e.val))
		}
		v := e.val.Value
		if e.val.Tag == "!!null" {
			v = ""
		}
		out = append(out, kv{e.key, v})
	}
	return out, nil
}

// toJSONValue converts a YAML node into the value encoding/json would
// produce for the equivalent JSON (numbers as float64).
func (p *parser) toJSONValue(n *yaml.Node, field string) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return p.scalar(n, field)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			v, err := p.toJSONValue(e, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		ents, _, err := p.mapping(n, field)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(ents))
		for _, e := range ents {
			v, err := p.toJSONValue(e.val, join(field, e.key))
			if err != nil {
				return nil, err
			}
			out[e.key] = v
		}
		return out, nil
	}
	return nil, p.errf(n, field, "unsupported YAML value (%s)", kindName(n))
}

func (p *parser) scalar(n *yaml.Node, field string) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true", nil
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			return nil, p.errf(n, field, "bad number %q", n.Value)
		}
		return f, nil
	}
	return n.Value, nil
}
