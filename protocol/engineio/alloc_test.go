//go:build !race

package engineio

import "testing"

// The WebSocket and polling hot paths must not allocate; the race detector
// adds allocations of its own, hence the build tag.
func TestZeroAllocs(t *testing.T) {
	frame := []byte(`42["message","hello"]`)
	binFrame := []byte{4, 1, 2, 3}
	body := []byte("4hello\x1e2\x1e4world\x1e" + `42["message","hello"]`)
	bodyV3 := []byte("6:4hello1:2" + `21:42["message","hello"]`)
	buf := make([]byte, 0, 64)
	pkt := text(Message, `2["message","hello"]`)
	nop := func(Packet) error { return nil }

	for _, tt := range []struct {
		name string
		fn   func()
	}{
		{"ParseFrame v4 text", func() { _, _ = ParseFrame(V4, frame, false) }},
		{"ParseFrame v4 binary", func() { _, _ = ParseFrame(V4, binFrame, true) }},
		{"ParseFrame v3 binary", func() { _, _ = ParseFrame(V3, binFrame, true) }},
		{"AppendFrame", func() { _, _ = AppendFrame(buf[:0], V4, pkt) }},
		{"AppendPayload v4", func() { _ = AppendPayload(buf[:0], V4, []Packet{pkt}) }},
		{"ParsePayload v4", func() { _ = ParsePayload(V4, body, false, nop) }},
		{"ParsePayload v3", func() { _ = ParsePayload(V3, bodyV3, false, nop) }},
	} {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}
