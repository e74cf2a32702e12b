package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

// Canonical packets are those AppendPacket reproduces byte for byte: no
// leading zeros in counts or ids, no explicit "/" namespace, a ',' after
// every other namespace, no empty v4 query, and a payload (if any) starting
// right after the header. Whitespace before the payload is refused anyway.
var (
	canonicalRE          = regexp.MustCompile(`(?s)^(?:[0-4]|[56][1-9][0-9]*-)(?:/[^,]+,)?(?:0|[1-9][0-9]*)?(?:["\[{].*)?$`)
	canonicalV4ConnectRE = regexp.MustCompile(`(?s)^0(?:/(?:[^,?]+|[^,?]*\?[^,]+),)?(?:["\[{].*)?$`)
)

func isCanonical(v Version, in []byte) bool {
	if v == V4 && len(in) > 0 && in[0] == '0' {
		return canonicalV4ConnectRE.Match(in)
	}
	return canonicalRE.Match(in)
}

func version(v4 bool) Version {
	if v4 {
		return V4
	}
	return V5
}

func checkError(t *testing.T, err error, inputLen int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is not an *Error: %v", err)
	}
	if e.Rule == "" || e.Detail == "" || e.Offset < 0 || e.Offset > inputLen {
		t.Fatalf("malformed error %#v for input of %d bytes", e, inputLen)
	}
}

// encodeLenient encodes p, falling back to AllowIllegalWrites for exactly
// the packets the decoders accept and the encoder refuses (doc.go).
func encodeLenient(t *testing.T, v Version, p *Packet) []byte {
	t.Helper()
	out, err := AppendPacket(nil, v, p)
	if err == nil {
		return out
	}
	var e *Error
	errors.As(err, &e)
	lenient := false
	switch e.Rule {
	case RuleBadPayload:
		lenient = len(p.Data) == 0 || v == V5 && p.Type == ConnectError && p.Data[0] == '"'
	case RuleBadPlaceholder:
		lenient = p.Type.binary()
	}
	if !lenient {
		t.Fatalf("AppendPacket refused an accepted packet %+v: %v", p, err)
	}
	enc := Encoder{AllowIllegalWrites: true}
	out, _ = enc.Append(nil, p)
	return out
}

func FuzzParsePacket(f *testing.F) {
	for _, tt := range canonicalTests {
		f.Add([]byte(tt.in), tt.v == V4)
	}
	for _, s := range []string{`0/random`, `2 1["a"]`, `2012["a"]`, `4"x"`, `51-`, `2["\u0063onnect"]`, `0/admin?,`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, v4 bool) {
		v := version(v4)
		if len(in) <= maxDepth { // the scanner agrees with encoding/json
			if _, ok := validJSON(in); ok != json.Valid(in) {
				t.Fatalf("validJSON(%q) = %v, json.Valid disagrees", in, ok)
			}
		}
		p, err := ParsePacket(v, in)
		if err != nil {
			checkError(t, err, len(in))
			return
		}
		if p.Data != nil && (!json.Valid(p.Data) || !bytes.HasSuffix(in, p.Data)) {
			t.Fatalf("Data %q is not a valid JSON suffix of the input", p.Data)
		}
		out := encodeLenient(t, v, &p)
		if isCanonical(v, in) && !bytes.Equal(out, in) {
			t.Fatalf("canonical %q re-encoded as %q", in, out)
		}
		p2, err := ParsePacket(v, out)
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("%q → %+v → %q → %+v, %v", in, p, out, p2, err)
		}
	})
}

// FuzzDecoder feeds a message sequence: the input split at 0x1e, each part
// starting with 'b' a binary message of the bytes after it, any other a
// text message (the framing of Engine.IO v4 polling, without base64). The
// decoder is checked against a model built on ParsePacket.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("51-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1eb\x01\x02"), false)
	f.Add([]byte("62-/x,1[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]\x1eb\x1eba\x1e2[\"after\"]"), true)
	f.Add([]byte("52-[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\x1eb1\x1e2[\"x\"]\x1eb2"), false)
	f.Add([]byte("b\x00\x1e1\x1e51-[{\"_placeholder\":true,\"num\":5}]\x1eb"), false)
	f.Fuzz(func(t *testing.T, in []byte, v4 bool) {
		v := version(v4)
		d := Decoder{Version: v}
		var header Packet // model: the binary packet being assembled
		var headerLen int
		var bufs [][]byte
		for _, m := range bytes.Split(in, []byte{0x1e}) {
			binary := len(m) > 0 && m[0] == 'b'
			if binary {
				m = m[1:]
			}
			p, done, err := d.Add(m, binary)
			if err != nil {
				checkError(t, err, max(len(m), headerLen))
			}
			switch {
			case header.Attachments > 0 && !binary:
				if ruleOf(err) != RuleUnexpectedText {
					t.Fatalf("text while waiting: %v", err)
				}
				header = Packet{}
			case header.Attachments > 0:
				bufs = append(bufs, bytes.Clone(m))
				if len(bufs) < header.Attachments {
					if done || err != nil {
						t.Fatalf("attachment %d of %d: done %v, %v", len(bufs), header.Attachments, done, err)
					}
					continue
				}
				want := header
				want.Buffers, header = bufs, Packet{}
				if err != nil {
					if ruleOf(err) != RuleBadPlaceholder {
						t.Fatalf("completion: %v", err)
					}
					continue
				}
				if !done || !reflect.DeepEqual(p, want) {
					t.Fatalf("completed %+v, %v; want %+v", p, done, want)
				}
				checkBinaryRoundTrip(t, v, p)
			case binary:
				if ruleOf(err) != RuleUnexpectedBinary {
					t.Fatalf("binary when not waiting: %v", err)
				}
			default:
				want, werr := ParsePacket(v, m)
				if ruleOf(err) != ruleOf(werr) {
					t.Fatalf("Add(%q): %v, ParsePacket: %v", m, err, werr)
				}
				if werr != nil {
					continue
				}
				if want.Type.binary() {
					if done {
						t.Fatalf("binary header %q completed at once", m)
					}
					header, headerLen, bufs = want, len(m), nil
					header.Data = bytes.Clone(want.Data)
					continue
				}
				if !done || !reflect.DeepEqual(p, want) {
					t.Fatalf("Add(%q) = %+v, %v; want %+v", m, p, done, want)
				}
			}
		}
	})
}

// checkBinaryRoundTrip re-encodes a completed binary packet, which the
// strict encoder must accept, and decodes it again.
func checkBinaryRoundTrip(t *testing.T, v Version, p Packet) {
	t.Helper()
	if len(p.Buffers) != p.Attachments {
		t.Fatalf("%d buffers for %d attachments", len(p.Buffers), p.Attachments)
	}
	out, err := AppendPacket(nil, v, &p)
	if err != nil {
		t.Fatalf("AppendPacket(%+v): %v", p, err)
	}
	d := Decoder{Version: v}
	got, done, err := d.Add(out, false)
	for _, b := range p.Buffers {
		got, done, err = d.Add(b, true)
	}
	if err != nil || !done || !reflect.DeepEqual(got, p) {
		t.Fatalf("re-decoded %q as %+v, %v, %v; want %+v", out, got, done, err, p)
	}
}

func FuzzEventName(f *testing.F) {
	for _, s := range []string{`["foo"]`, `[ "a\u0062" , 1, {"x":[2]} ]`, `[1e21,"x"]`, `[-0.0]`, `[]`, `{}`, `["\ud800"]`, "[\"\xff\"]", `[12345678901234567890]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, rest, err := EventName(data)
		if err != nil {
			checkError(t, err, len(data))
			return
		}
		if !json.Valid(data) || !json.Valid(rest) {
			t.Fatalf("EventName(%q) accepted invalid JSON or returned invalid rest %q", data, rest)
		}
		var all []any
		if json.Unmarshal(data, &all) != nil {
			return // a number float64 cannot hold, such as 1e400
		}
		switch first := all[0].(type) {
		case string:
			if name != first {
				t.Fatalf("name %q, json.Unmarshal says %q", name, first)
			}
		case float64:
			if f, err := strconv.ParseFloat(name, 64); err != nil || f != first && !(f == 0 && first == 0) {
				t.Fatalf("name %q for number %v", name, first)
			}
		default:
			t.Fatalf("name %q for %T", name, first)
		}
		var others []any
		if err := json.Unmarshal(rest, &others); err != nil || !reflect.DeepEqual(others, all[1:]) {
			t.Fatalf("rest %q = %v, want %v (%v)", rest, others, all[1:], err)
		}
	})
}

// FuzzUnmarshal decodes into generic and typed destinations against a model:
// json.Unmarshal into any, with placeholder maps swapped for their buffers.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`["a",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]}]`), uint8(2))
	f.Add([]byte(`{"A":{"_placeholder":true,"num":0},"b":{"_placeholder":true,"num":0},"C":[1,{"_placeholder":true,"num":1}]}`), uint8(2))
	f.Add([]byte(`{"_placeholder":true,"num":0,"y":{"_placeholder":true,"num":9}}`), uint8(1))
	f.Add([]byte(`[{"_placeholder":true,"num":3}]`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		buffers := make([][]byte, n%8)
		for i := range buffers {
			buffers[i] = bytes.Repeat([]byte{byte(i)}, i)
		}
		var got any
		err := Unmarshal(data, buffers, &got)
		var plain any
		if json.Unmarshal(data, &plain) != nil {
			if err == nil {
				t.Fatalf("Unmarshal accepted %q, json.Unmarshal did not", data)
			}
			return
		}
		if err != nil {
			if rule := ruleOf(err); rule != RuleBadPlaceholder && (rule != RuleBadJSON || len(data) <= maxDepth) {
				t.Fatalf("Unmarshal(%q): %v", data, err)
			}
			return
		}
		if want := substitute(plain, buffers); !reflect.DeepEqual(got, want) {
			t.Fatalf("Unmarshal(%q) = %#v, want %#v", data, got, want)
		}

		type embedded struct {
			E any
			M map[string]any
		}
		var typed struct {
			A []byte
			B any `json:"b"`
			C []any
			D map[string][]any
			P *any
			R [2]any
			embedded
		}
		if err := Unmarshal(data, buffers, &typed); err != nil {
			var e *Error
			if errors.As(err, &e) {
				t.Fatalf("typed Unmarshal(%q): %v", data, err)
			}
		}
	})
}

// substitute replaces placeholder maps in a json.Unmarshal result.
func substitute(v any, buffers [][]byte) any {
	switch v := v.(type) {
	case map[string]any:
		if v["_placeholder"] == true {
			return buffers[int(v["num"].(float64))]
		}
		for k, e := range v {
			v[k] = substitute(e, buffers)
		}
	case []any:
		for i, e := range v {
			v[i] = substitute(e, buffers)
		}
	}
	return v
}

// The canonical predicate must not be vacuous: it holds for the canonical
// table and fails for every non-canonical form the decoder accepts.
func TestIsCanonical(t *testing.T) {
	for _, tt := range canonicalTests {
		if !isCanonical(tt.v, []byte(tt.in)) {
			t.Errorf("v%d %q not canonical", tt.v, tt.in)
		}
	}
	for _, tt := range []struct {
		v  Version
		in string
	}{
		{V5, `0/random`}, {V5, `0/,`}, {V5, `2/,["a"]`}, {V5, `2012["a"]`}, {V5, `501-["a"]`}, {V5, `2/a`},
		{V4, `0/admin?,`}, {V4, `0/?,`}, {V4, `0/,`},
	} {
		if isCanonical(tt.v, []byte(tt.in)) {
			t.Errorf("v%d %q canonical", tt.v, tt.in)
		}
	}
}
