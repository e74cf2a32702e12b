package conform

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// LoadError is a problem in a case file: "file:line: field: problem". Case
// files and scenarios share one error model, yamldoc's.
type LoadError = yamldoc.Error

// The value types below decode the shapes of case files that yamldoc's
// plain types do not: each is a field type of the decoding structs in
// load.go, step*.go, padding.go and match_load.go.

// duration is a Go duration ("500ms"); case files have always said "want a
// duration like 500ms" where scenarios say "bad duration".
type duration time.Duration

// UnmarshalYAMLDoc decodes a non-negative Go duration.
func (x *duration) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	if n.Kind != yaml.ScalarNode {
		d.Errorf(n, field, "want a duration like 500ms, got %s", yamldoc.Describe(n))
		return
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		d.Errorf(n, field, "want a duration like 500ms, got %q", n.Value)
		return
	}
	*x = duration(v)
}

// hexBytes is bytes written in hex, spaces allowed ("00 ff").
type hexBytes []byte

// UnmarshalYAMLDoc decodes hex text; "" gives empty, non-nil bytes.
func (h *hexBytes) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var s string
	d.Decode(n, field, &s)
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		d.Errorf(n, field, "bad hex: %v", err)
		return
	}
	*h = b
}

// kvList is a mapping of scalars kept in file order (query, headers).
type kvList []kv

// UnmarshalYAMLDoc decodes the mapping; a null value is "".
func (l *kvList) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	*l = kvList{}
	d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
		if v.Kind != yaml.ScalarNode {
			d.Errorf(v, yamldoc.Join(field, key), "want a string, got %s", yamldoc.Describe(v))
			return true
		}
		val := v.Value
		if v.Tag == "!!null" {
			val = ""
		}
		*l = append(*l, kv{key, val})
		return true
	})
}

// scalar converts a YAML scalar into the value encoding/json would produce
// for the equivalent JSON (numbers as float64).
func scalar(d *yamldoc.Decoder, n *yaml.Node, field string) (any, bool) {
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool":
		return n.Value == "true", true
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			d.Errorf(n, field, "bad number %q", n.Value)
			return nil, false
		}
		return f, true
	}
	return n.Value, true
}
