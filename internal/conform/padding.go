package conform

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// padding grows a body or frame to an exact size, so that a case can
// send megabyte payloads (limit checks) without writing them out. The
// http and ws_send steps take it.
type padding struct {
	to   int    // target size in bytes; 0 = no padding
	unit []byte // repeated after the content
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

// apply grows b to exactly pd.to bytes with whole copies of the unit.
func (pd padding) apply(b []byte) ([]byte, error) {
	if pd.to == 0 {
		return b, nil
	}
	gap := pd.to - len(b)
	if gap < 0 || gap%len(pd.unit) != 0 {
		return nil, fmt.Errorf("cannot pad %d bytes to %d with %d-byte units", len(b), pd.to, len(pd.unit))
	}
	return append(b[:len(b):len(b)], bytes.Repeat(pd.unit, gap/len(pd.unit))...), nil
}
