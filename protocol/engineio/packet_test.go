package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func text(t PacketType, data string) Packet { return Packet{Type: t, Data: []byte(data)} }
func bin(t PacketType, data ...byte) Packet { return Packet{Type: t, Binary: true, Data: data} }

func samePacket(a, b Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

func fmtPacket(p Packet) string {
	if p.Binary {
		return fmt.Sprintf("{%v binary % x}", p.Type, p.Data)
	}
	return fmt.Sprintf("{%v %q}", p.Type, p.Data)
}

// wantRule fails t unless err is an *Error with the given rule and, unless
// offset is negative, the given offset.
func wantRule(t *testing.T, err error, rule string, offset int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error %s", err, rule)
	}
	if e.Rule != rule || (offset >= 0 && e.Offset != offset) {
		t.Fatalf("err = %v, want rule %s at offset %d", err, rule, offset)
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{V3.String(), "3"},
		{V4.String(), "4"},
		{Open.String(), "open"},
		{Close.String(), "close"},
		{Ping.String(), "ping"},
		{Pong.String(), "pong"},
		{Message.String(), "message"},
		{Upgrade.String(), "upgrade"},
		{Noop.String(), "noop"},
		{PacketType(7).String(), "unknown(7)"},
		{(&Error{Rule: RuleBadType, Offset: 3, Detail: "type 'x'"}).Error(), "engineio: eio_bad_type: type 'x' (offset 3)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// frameCases are WebSocket frames that decode and re-encode exactly.
var frameCases = []struct {
	name   string
	v      Version
	frame  string
	binary bool
	want   Packet
}{
	{"v4 message", V4, "4hello", false, text(Message, "hello")},
	{"v4 empty message", V4, "4", false, text(Message, "")},
	{"v4 ping", V4, "2", false, text(Ping, "")},
	{"v4 probe", V4, "2probe", false, text(Ping, "probe")},
	{"v4 pong probe", V4, "3probe", false, text(Pong, "probe")},
	{"v4 open", V4, `0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, false,
		text(Open, `{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
	{"v4 close", V4, "1", false, text(Close, "")},
	{"v4 upgrade", V4, "5", false, text(Upgrade, "")},
	{"v4 noop", V4, "6", false, text(Noop, "")},
	{"v4 no splitting in a frame", V4, "4a\x1e4b", false, text(Message, "a\x1e4b")},
	{"v4 utf-8", V4, "4€😀", false, text(Message, "€😀")},
	{"v4 binary", V4, "\x01\x02\x03\x04", true, bin(Message, 1, 2, 3, 4)},
	{"v4 empty binary", V4, "", true, bin(Message)},
	{"v4 binary looks like text", V4, "4hi", true, bin(Message, '4', 'h', 'i')},
	{"v3 message", V3, "4hello", false, text(Message, "hello")},
	{"v3 binary", V3, "\x04\x01\x02\x03\x04", true, bin(Message, 1, 2, 3, 4)},
	{"v3 binary empty message", V3, "\x04", true, bin(Message)},
	{"v3 binary ping", V3, "\x02", true, bin(Ping)},
}

func TestParseFrame(t *testing.T) {
	for _, tt := range frameCases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseFrame(tt.v, []byte(tt.frame), tt.binary)
			if err != nil {
				t.Fatal(err)
			}
			if !samePacket(p, tt.want) {
				t.Fatalf("got %s, want %s", fmtPacket(p), fmtPacket(tt.want))
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	for _, tt := range frameCases {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			got, binary := AppendFrame(prefix, tt.v, tt.want)
			if string(got) != "keep"+tt.frame || binary != tt.binary {
				t.Fatalf("got %q binary=%v, want %q binary=%v", got, binary, "keep"+tt.frame, tt.binary)
			}
		})
	}
}

func TestAppendFrameBinaryNonMessageV4(t *testing.T) {
	// v4 binary frames have no type, so Binary only applies to messages.
	got, binary := AppendFrame(nil, V4, bin(Ping, 'x'))
	if string(got) != "2x" || binary {
		t.Fatalf("got %q binary=%v, want \"2x\" text", got, binary)
	}
}

// Text frames starting with 'b' carry base64 binary data (b64 mode).
func TestParseFrameBase64(t *testing.T) {
	for _, tt := range []struct {
		v     Version
		frame string
		want  Packet
	}{
		{V4, "bAQIDBA==", bin(Message, 1, 2, 3, 4)},
		{V4, "bAQID", bin(Message, 1, 2, 3)},
		{V4, "b", bin(Message)},
		{V3, "b4AQIDBA==", bin(Message, 1, 2, 3, 4)},
		{V3, "b4", bin(Message)},
		{V3, "b2AA==", bin(Ping, 0)},
	} {
		p, err := ParseFrame(tt.v, []byte(tt.frame), false)
		if err != nil {
			t.Fatalf("%q: %v", tt.frame, err)
		}
		if !samePacket(p, tt.want) {
			t.Fatalf("%q: got %s, want %s", tt.frame, fmtPacket(p), fmtPacket(tt.want))
		}
		if got := appendText(nil, tt.v, p); string(got) != tt.frame {
			t.Fatalf("%q: text form re-encodes as %q", tt.frame, got)
		}
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, tt := range []struct {
		v      Version
		frame  string
		binary bool
		rule   string
		offset int
	}{
		{V4, "", false, RuleEmptyPacket, 0},
		{V4, "7", false, RuleBadType, 0},
		{V4, "x", false, RuleBadType, 0},
		{V4, "/", false, RuleBadType, 0},
		{V4, "\x04hi", false, RuleBadType, 0},
		{V4, "bAQI", false, RuleBadBase64, 1},  // unpadded "AQI=" is required
		{V4, "bAR==", false, RuleBadBase64, 3}, // non-zero trailing bits
		{V4, "bAQ-D", false, RuleBadBase64, 3}, // URL-safe alphabet
		{V4, "bAQ\nID", false, RuleBadBase64, 3},
		{V4, "bAQID\r", false, RuleBadBase64, 5},
		{V3, "", true, RuleEmptyPacket, 0},
		{V3, "\x07", true, RuleBadType, 0},
		{V3, "4", true, RuleBadType, 0},
		{V3, "b", false, RuleBadType, 1},
		{V3, "bAQIDBA==", false, RuleBadType, 1},
		{V3, "b9AA==", false, RuleBadType, 1},
		{V3, "b4AQI", false, RuleBadBase64, 2},
		{5, "4hello", false, RuleBadVersion, 0},
		{0, "\x01", true, RuleBadVersion, 0},
	} {
		_, err := ParseFrame(tt.v, []byte(tt.frame), tt.binary)
		t.Run(fmt.Sprintf("v%d %q", tt.v, tt.frame), func(t *testing.T) { wantRule(t, err, tt.rule, tt.offset) })
	}
}

// ParseFrame must alias the frame, not copy it.
func TestParseFrameAliases(t *testing.T) {
	frame := []byte("4hello")
	p, _ := ParseFrame(V4, frame, false)
	frame[1] = 'j'
	if string(p.Data) != "jello" {
		t.Fatalf("Data = %q, want it to alias the frame", p.Data)
	}
}
