package socketio

import "testing"

var (
	benchText   = []byte(`2["echo",{"seq":1,"t":1234567}]`)
	benchHeader = []byte(`52-/chat,["upload",{"name":"f","parts":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]}]`)
	benchBlob   = make([]byte, 1024)
)

// benchParse measures ParsePacket on one v5 packet.
func benchParse(b *testing.B, in []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParsePacket(V5, in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAppend measures AppendPacket re-encoding the v5 packet in into a
// buffer of capacity bufCap, so that growing it is not measured.
func benchAppend(b *testing.B, in []byte, bufCap int) {
	p, err := ParsePacket(V5, in)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, bufCap)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := AppendPacket(buf, V5, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePacket(b *testing.B) { benchParse(b, benchText) }

func BenchmarkAppendPacket(b *testing.B) { benchAppend(b, benchText, 128) }

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

// benchAck is the ack bench/cost.sh's echo-ack round trip receives (Node
// echoes the 64-byte string and the sequence object), and benchEmit the
// emit it sends: most of either is one string the scanner walks.
var (
	benchAck  = []byte(`31234["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",{"seq":1234}]`)
	benchEmit = []byte(`21234["echo-ack","xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",{"seq":1234}]`)
)

// BenchmarkParseAck measures the receive side of one load round trip.
func BenchmarkParseAck(b *testing.B) { benchParse(b, benchAck) }

// BenchmarkAppendEmit measures the send side of one load round trip,
// validation included.
func BenchmarkAppendEmit(b *testing.B) { benchAppend(b, benchEmit, 256) }
