//go:build !race

package socketio

import "testing"

// The race detector allocates on its own, hence the build tag.
func TestHotPathAllocs(t *testing.T) {
	in := []byte(`42["echo",{"seq":1,"t":1234567}]`)[1:] // without the Engine.IO type
	var p Packet
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if p, err = ParsePacket(V5, in); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParsePacket: %v allocations, want 0", n)
	}

	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := AppendPacket(buf, V5, &p); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendPacket: %v allocations, want 0", n)
	}

	d := Decoder{Version: V5}
	if n := testing.AllocsPerRun(100, func() {
		if _, done, err := d.Add(in, false); !done || err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Decoder.Add of a text packet: %v allocations, want 0", n)
	}

	// Reserved names and placeholder keys are compared unescaped.
	q := []byte(`"\u0063onn\u0065ct"`)
	if n := testing.AllocsPerRun(100, func() {
		if !stringIs(q, "connect") {
			t.Fatal("no match")
		}
	}); n != 0 {
		t.Errorf("stringIs with escapes: %v allocations, want 0", n)
	}
}
