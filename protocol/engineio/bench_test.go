package engineio

import (
	"strings"
	"testing"
)

var (
	benchEvent = []byte(`42["message",{"user":"alice","text":"hello, world","ts":1700000000000}]`)
	benchBin   = make([]byte, 1024)
)

func BenchmarkParseFrame(b *testing.B) {
	for _, bb := range []struct {
		name   string
		v      Version
		frame  []byte
		binary bool
	}{
		{"v4/text", V4, benchEvent, false},
		{"v4/binary", V4, benchBin, true},
		{"v3/binary", V3, append([]byte{4}, benchBin...), true},
		{"v4/base64", V4, AppendPayload(nil, V4, []Packet{bin(Message, benchBin...)}), false},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.frame)))
			for b.Loop() {
				if _, err := ParseFrame(bb.v, bb.frame, bb.binary); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	p := Packet{Type: Message, Data: benchEvent[1:]}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		buf, _ = AppendFrame(buf[:0], V4, p)
	}
}

func benchPackets() []Packet {
	var pkts []Packet
	for range 16 {
		pkts = append(pkts, Packet{Type: Message, Data: benchEvent[1:]})
	}
	return append(pkts, text(Ping, ""), Packet{Type: Message, Data: []byte(strings.Repeat("€😀", 20))})
}

func BenchmarkParsePayload(b *testing.B) {
	nop := func(Packet) error { return nil }
	for _, bb := range []struct {
		name       string
		v          Version
		binaryBody bool
		body       []byte
	}{
		{"v4", V4, false, AppendPayload(nil, V4, benchPackets())},
		{"v3", V3, false, AppendPayload(nil, V3, benchPackets())},
		{"v3/xhr2", V3, true, AppendBinaryPayload(nil, benchPackets())},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if err := ParsePayload(bb.v, bb.body, bb.binaryBody, nop); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	pkts := benchPackets()
	for _, v := range []Version{V4, V3} {
		b.Run("v"+v.String(), func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendPayload(buf[:0], v, pkts)
			}
		})
	}
}
