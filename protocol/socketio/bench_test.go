package socketio

import "testing"

var (
	benchText   = []byte(`2["echo",{"seq":1,"t":1234567}]`)
	benchHeader = []byte(`52-/chat,["upload",{"name":"f","parts":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]}]`)
	benchBlob   = make([]byte, 1024)
)

func BenchmarkParsePacket(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		if _, err := ParsePacket(V5, benchText); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	p, err := ParsePacket(V5, benchText)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		if _, err := AppendPacket(buf, V5, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendArgs(b *testing.B) {
	args := []any{"upload", map[string]any{"name": "f", "seq": 1, "parts": []any{benchBlob, benchBlob}}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := AppendArgs(buf, args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderBinary(b *testing.B) {
	d := Decoder{Version: V5}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchHeader) + 2*len(benchBlob)))
	for b.Loop() {
		d.Add(benchHeader, false)
		d.Add(benchBlob, true)
		if _, done, err := d.Add(benchBlob, true); !done || err != nil {
			b.Fatal(err)
		}
	}
}
