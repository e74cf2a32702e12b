package engineio

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add seeds below
// repeat the table tests so a fresh checkout fuzzes from the spec examples.

// checkError fails t unless err is an *Error pointing inside the input.
func checkError(t *testing.T, err error, inputLen int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Rule == "" || e.Offset < 0 || e.Offset > inputLen {
		t.Fatalf("error %v: bad rule or offset for input of %d bytes", err, inputLen)
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, tt := range frameCases {
		f.Add(tt.v == V3, []byte(tt.frame), tt.binary)
	}
	f.Add(false, []byte("bAQIDBA=="), false)
	f.Add(true, []byte("b4AQIDBA=="), false)
	f.Add(false, []byte("bAR=="), false)
	f.Add(true, []byte("\x07"), true)
	f.Fuzz(func(t *testing.T, v3 bool, frame []byte, binaryFrame bool) {
		v := V4
		if v3 {
			v = V3
		}
		p, err := ParseFrame(v, frame, binaryFrame)
		if err != nil {
			checkError(t, err, len(frame))
			return
		}
		var got []byte
		gotBinary := false
		if !binaryFrame && len(frame) > 0 && frame[0] == 'b' {
			got = appendText(nil, v, p) // base64 text frames (b64 mode)
		} else {
			got, gotBinary = AppendFrame(nil, v, p)
		}
		if !bytes.Equal(got, frame) || gotBinary != binaryFrame {
			t.Fatalf("v%d frame %q (binary=%v) decodes to %s, re-encodes as %q (binary=%v)",
				v, frame, binaryFrame, fmtPacket(p), got, gotBinary)
		}
	})
}

// fuzzPayload checks the payload invariants for one form: accepted bodies
// re-encode identically, and on error the packets already delivered are
// whole leading records of the body.
func fuzzPayload(t *testing.T, v Version, binaryBody bool, body []byte) {
	pkts, err := DecodePayload(v, body, binaryBody)
	enc := encodePayload(v, binaryBody, pkts)
	if err == nil {
		if !bytes.Equal(enc, body) {
			t.Fatalf("body %q decodes to %d packets, re-encodes as %q", body, len(pkts), enc)
		}
		return
	}
	checkError(t, err, len(body))
	if len(pkts) == 0 {
		return
	}
	if v == V4 {
		enc = append(enc, recordSeparator)
	}
	if !bytes.HasPrefix(body, enc) {
		t.Fatalf("body %q: packets delivered before %v re-encode as %q, not a prefix", body, err, enc)
	}
}

func FuzzParsePayloadV4(f *testing.F) {
	for _, tt := range payloadCases {
		if tt.v == V4 {
			f.Add([]byte(tt.body))
		}
	}
	f.Add([]byte("4a\x1e"))
	f.Add([]byte("4a\x1e7"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPayload(t, V4, false, body)
		if err := ParsePayload(V4, body, true, func(Packet) error { return nil }); err == nil {
			t.Fatal("v4 accepted a binary body")
		}
	})
}

func FuzzParsePayloadV3(f *testing.F) {
	for _, tt := range payloadCases {
		if tt.v == V3 && !tt.binaryBody {
			f.Add([]byte(tt.body))
		}
	}
	f.Add([]byte("2:4😀"))
	f.Add([]byte("4:4\xe2\x82A"))
	f.Add([]byte("01:2"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPayload(t, V3, false, body)
	})
}

func FuzzParseBinaryPayloadV3(f *testing.F) {
	for _, tt := range payloadCases {
		if tt.binaryBody {
			f.Add([]byte(tt.body))
		}
	}
	f.Add([]byte("\x00\x00\x01\xff4"))
	f.Add([]byte("\x00\x01\xffb"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPayload(t, V3, true, body)
	})
}

func FuzzParseHandshake(f *testing.F) {
	f.Add([]byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	f.Add([]byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}`))
	f.Add([]byte(`{"sid":"x","pingInterval":1,"pingTimeout":2}`))
	f.Add([]byte(`{"sid":"x","upgrades":[null],"pingInterval":1.5,"pingTimeout":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHandshake(data)
		if err != nil {
			checkError(t, err, len(data))
			return
		}
		if h.SID == "" || h.PingInterval <= 0 || h.PingTimeout <= 0 || h.MaxPayload < 0 ||
			h.PingIntervalDuration() <= 0 || h.PingTimeoutDuration() <= 0 {
			t.Fatalf("accepted invalid handshake %#v", h)
		}
		enc, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := ParseHandshake(enc)
		if err != nil {
			t.Fatalf("re-encoded handshake %s rejected: %v", enc, err)
		}
		if h2.SID != h.SID || h2.PingInterval != h.PingInterval || h2.PingTimeout != h.PingTimeout ||
			h2.MaxPayload != h.MaxPayload || !slices.Equal(h2.Upgrades, h.Upgrades) {
			t.Fatalf("%s round-trips as %#v, want %#v", data, h2, h)
		}
	})
}
