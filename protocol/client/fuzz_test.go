package client

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplitEvent: the reader's fast path over server-sent EVENT payloads
// never panics, and on any valid JSON array it agrees with encoding/json
// about the arguments.
func FuzzSplitEvent(f *testing.F) {
	for _, s := range []string{`["echo",{"seq":1}]`, `["a\"b",7]`, `[1,"x"]`, `["only"]`, `[ "sp" , 1 ]`, `[`, `["x`, `[]`, `["x",`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		name, end, _, ok := eventToken(data)
		if !ok {
			return
		}
		if end >= len(data) || len(name) > len(data) {
			t.Fatalf("end %d out of range for %q", end, orig)
		}
		args := splitArgs(data, end)
		var all []json.RawMessage
		if json.Unmarshal(orig, &all) != nil || len(all) == 0 {
			return
		}
		var rest []json.RawMessage
		if err := json.Unmarshal(args, &rest); err != nil {
			t.Fatalf("args %q of valid payload %q do not parse: %v", args, orig, err)
		}
		if len(rest) != len(all)-1 {
			t.Fatalf("payload %q: %d args, want %d", orig, len(rest), len(all)-1)
		}
	})
}
