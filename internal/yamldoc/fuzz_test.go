package yamldoc

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: a file is user input, but a syntax error's line is now found
// by re-parsing prefixes, which must neither panic nor point past the
// file. Seed corpus: testdata/fuzz/FuzzParse and the table tests' inputs.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a: [1,\n", "", "a: b\nc d\n", "load:\n  clients: 2\n\thold: 1s\n",
		"name: x\nflow:\n  - emit:\n      event: e\n     args: [1]\n",
		"a: 1\nb: [1,\n  2\nc: 3\n", "a: |\n  x\n y\n", "a: 'x\n\nb: 1\n", "a: 1\r\nb:\t2\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("f.yaml", data)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		// yaml counts a lone CR as a line break too.
		if lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1; e.Line < 0 || e.Line > lines+1 {
			t.Fatalf("error %v: line %d, the file has %d", err, e.Line, lines)
		}
	})
}
