package engineio

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// payloadCases decode to pkts and re-encode to exactly body.
var payloadCases = []struct {
	name       string
	v          Version
	binaryBody bool
	body       string
	pkts       []Packet
}{
	{"v4 three", V4, false, "4hello\x1e2\x1e4world", []Packet{text(Message, "hello"), text(Ping, ""), text(Message, "world")}},
	{"v4 binary", V4, false, "4hello\x1ebAQIDBA==", []Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}},
	{"v4 close after noop", V4, false, "6\x1e1", []Packet{text(Noop, ""), text(Close, "")}},
	{"v4 one", V4, false, "4", []Packet{text(Message, "")}},
	{"v4 empty binary", V4, false, "b", []Packet{bin(Message)}},
	{"v4 utf-8", V4, false, "4€\x1e4😀", []Packet{text(Message, "€"), text(Message, "😀")}},
	{"v4 socket.io binary event", V4, false, `451-["message",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
		[]Packet{text(Message, `51-["message",{"_placeholder":true,"num":0}]`), bin(Message, 1, 2, 3)}},
	{"v3 two", V3, false, "6:4hello2:4€", []Packet{text(Message, "hello"), text(Message, "€")}},
	{"v3 binary", V3, false, "10:b4AQIDBA==", []Packet{bin(Message, 1, 2, 3, 4)}},
	{"v3 text and binary", V3, false, "6:4hello10:b4AQIDBA==", []Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}},
	{"v3 ping", V3, false, "1:2", []Packet{text(Ping, "")}},
	{"v3 noop", V3, false, "1:6", []Packet{text(Noop, "")}},
	{"v3 close", V3, false, "1:1", []Packet{text(Close, "")}},
	{"v3 astral counts two", V3, false, "3:4😀", []Packet{text(Message, "😀")}},
	{"v3 socket.io event", V3, false, `24:42["message-back","€😀"]`, []Packet{text(Message, `2["message-back","€😀"]`)}},
	{"v3 empty binary", V3, false, "2:b4", []Packet{bin(Message)}},
	{"v3 empty list", V3, false, "0:", nil},
	{"v3 handshake socket.io 2", V3, false,
		`93:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}2:40`,
		[]Packet{text(Open, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}`), text(Message, "0")}},
	{"v3 handshake allowEIO3", V3, false,
		`114:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`,
		[]Packet{text(Open, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`)}},
	{"v3 xhr2 canonical", V3, true, "\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04",
		[]Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}},
	{"v3 xhr2 two-digit length", V3, true, "\x00\x01\x01\xff4abcdefghij", []Packet{text(Message, "abcdefghij")}},
	{"v3 xhr2 utf-8 counts bytes", V3, true, "\x00\x04\xff4€", []Packet{text(Message, "€")}},
	{"v3 xhr2 binary ping", V3, true, "\x01\x01\xff\x02", []Packet{bin(Ping)}},
}

func encodePayload(v Version, binaryBody bool, pkts []Packet) []byte {
	if binaryBody {
		return AppendBinaryPayload(nil, pkts)
	}
	return AppendPayload(nil, v, pkts)
}

func TestDecodePayload(t *testing.T) {
	for _, tt := range payloadCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload(tt.v, []byte(tt.body), tt.binaryBody)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.pkts) {
				t.Fatalf("got %d packets, want %d", len(got), len(tt.pkts))
			}
			for i := range got {
				if !samePacket(got[i], tt.pkts[i]) {
					t.Errorf("packet %d: got %s, want %s", i, fmtPacket(got[i]), fmtPacket(tt.pkts[i]))
				}
			}
		})
	}
}

func TestAppendPayload(t *testing.T) {
	for _, tt := range payloadCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodePayload(tt.v, tt.binaryBody, tt.pkts); string(got) != tt.body {
				t.Fatalf("got %q, want %q", got, tt.body)
			}
		})
	}
	if got := AppendPayload([]byte("x"), V4, nil); string(got) != "x" {
		t.Fatalf("v4 empty list: got %q", got)
	}
	if got := AppendBinaryPayload([]byte("x"), nil); string(got) != "x" {
		t.Fatalf("xhr2 empty list: got %q", got)
	}
}

func TestParsePayloadErrors(t *testing.T) {
	for _, tt := range []struct {
		v          Version
		binaryBody bool
		body       string
		rule       string
		offset     int
		delivered  int // packets passed to fn before the error
	}{
		{V4, false, "", RuleEmptyPayload, 0, 0},
		{V4, false, "4a\x1e", RuleEmptyPacket, 3, 1},
		{V4, false, "\x1e4a", RuleEmptyPacket, 0, 0},
		{V4, false, "4a\x1e\x1e4b", RuleEmptyPacket, 3, 1},
		{V4, false, "\x1e", RuleEmptyPacket, 0, 0},
		{V4, false, "4a\x1e7", RuleBadType, 3, 1},
		{V4, false, "abc", RuleBadType, 0, 0},
		{V4, false, "4a\x1ebAQI", RuleBadBase64, 4, 1},
		{V4, true, "4hello", RuleBinaryPayloadV4, 0, 0},
		{V3, false, "", RuleEmptyPayload, 0, 0},
		{V3, false, "5:4ab", RuleLengthMismatch, 0, 0},
		{V3, false, "2:4ab", RuleBadLength, 4, 1},
		{V3, false, "x:4", RuleBadLength, 0, 0},
		{V3, false, ":4", RuleBadLength, 0, 0},
		{V3, false, "01:2", RuleBadLength, 0, 0},
		{V3, false, "-1:2", RuleBadLength, 0, 0},
		{V3, false, " 1:2", RuleBadLength, 0, 0},
		{V3, false, "1:7", RuleBadType, 2, 0},
		{V3, false, "1:2 ", RuleBadLength, 3, 1},
		{V3, false, "1:", RuleLengthMismatch, 0, 0},
		{V3, false, "1", RuleBadLength, 0, 0},
		{V3, false, "1:21", RuleBadLength, 3, 1},
		{V3, false, "0:1:2", RuleEmptyPacket, 0, 0},
		{V3, false, "1:20:", RuleEmptyPacket, 3, 1},
		{V3, false, "0:0:", RuleEmptyPacket, 0, 0},
		{V3, false, "2:4😀", RuleLengthMismatch, 0, 0}, // ends inside the surrogate pair
		{V3, false, "2:😀", RuleBadType, 2, 0},
		{V3, false, "99999999999999999999999999:4", RuleLengthMismatch, 0, 0},
		{V3, false, "3:b4A", RuleBadBase64, 4, 0},
		{V3, false, "4:4\xe2\x82A", RuleBadUTF8, 3, 0},
		{V3, false, "1:2\xff:4", RuleBadLength, 3, 1},
		{V3, false, "2:4\xe2", RuleBadUTF8, 3, 0},
		{V3, false, "2:4\xed\xa0\x80", RuleBadUTF8, 3, 0}, // an encoded surrogate
		{V3, false, "1:b", RuleBadType, 3, 0},
		{V3, false, "6:4hello1:2\x1e", RuleBadLength, 11, 2},
		{V3, true, "", RuleEmptyPayload, 0, 0},
		{V3, true, "\x02\x01\xff4", RuleBadKind, 0, 0},
		{V3, true, "\x00\xff4", RuleBadLength, 1, 0},
		{V3, true, "\x00\x0a\xff4", RuleBadLength, 1, 0},
		{V3, true, "\x00\x00\xff", RuleEmptyPacket, 0, 0},
		{V3, true, "\x00\x00\x01\xff4", RuleBadLength, 1, 0},
		{V3, true, "\x00\x06\xff4hel", RuleLengthMismatch, 0, 0},
		{V3, true, "\x00\x06", RuleBadLength, 1, 0},
		{V3, true, "\x00", RuleBadLength, 1, 0},
		{V3, true, "\x00\x01\xffb", RuleBadType, 3, 0},
		{V3, true, "\x00\x01\xff7", RuleBadType, 3, 0},
		{V3, true, "\x01\x01\xff\x07", RuleBadType, 3, 0},
		{V3, true, "\x01\x01\xff\x04\x00\x01\xff", RuleLengthMismatch, 4, 1},
		{V3, true, "\x00" + strings.Repeat("\x09", 40) + "\xff4", RuleLengthMismatch, 1, 0},
		{0, false, "4a", RuleBadVersion, 0, 0},
	} {
		t.Run(fmt.Sprintf("v%d binary=%v %q", tt.v, tt.binaryBody, tt.body), func(t *testing.T) {
			got, err := DecodePayload(tt.v, []byte(tt.body), tt.binaryBody)
			wantRule(t, err, tt.rule, tt.offset)
			if len(got) != tt.delivered {
				t.Fatalf("delivered %d packets before the error, want %d", len(got), tt.delivered)
			}
		})
	}
}

// The encoder cannot refuse invalid UTF-8; it counts each stray byte as one
// unit and the decoder rejects the result.
func TestAppendPayloadInvalidUTF8V3(t *testing.T) {
	body := AppendPayload(nil, V3, []Packet{text(Message, "\xe2\x82A")})
	if string(body) != "4:4\xe2\x82A" {
		t.Fatalf("got %q", body)
	}
	_, err := DecodePayload(V3, body, false)
	wantRule(t, err, RuleBadUTF8, 3)
}

func TestParsePayloadStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	for _, tt := range payloadCases {
		if len(tt.pkts) < 2 {
			continue
		}
		calls := 0
		err := ParsePayload(tt.v, []byte(tt.body), tt.binaryBody, func(Packet) error {
			calls++
			return stop
		})
		if err != stop || calls != 1 {
			t.Errorf("%s: err=%v after %d calls, want stop after 1", tt.name, err, calls)
		}
	}
}

// Polling bodies arrive whole, so instead of chunked reads every prefix of a
// valid body is decoded: it must never panic, and whatever it yields must
// agree with the full decode. In the v3 length forms every packet yielded,
// even before an error, must be a whole packet of the full body; in v4 only
// the last record can be cut short, since RS framing has no lengths.
func TestParsePayloadPrefixes(t *testing.T) {
	for _, tt := range payloadCases {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i <= len(tt.body); i++ {
				got, err := DecodePayload(tt.v, []byte(tt.body[:i]), tt.binaryBody)
				if len(got) > len(tt.pkts) {
					t.Fatalf("prefix %d: %d packets, full body has %d", i, len(got), len(tt.pkts))
				}
				for j, p := range got {
					if samePacket(p, tt.pkts[j]) {
						continue
					}
					cut := tt.v == V4 && j == len(got)-1 && err == nil && p.Binary == tt.pkts[j].Binary &&
						p.Type == tt.pkts[j].Type && strings.HasPrefix(string(tt.pkts[j].Data), string(p.Data))
					if !cut {
						t.Fatalf("prefix %q: packet %d is %s, want %s", tt.body[:i], j, fmtPacket(p), fmtPacket(tt.pkts[j]))
					}
				}
				if tt.v == V3 && err == nil && i < len(tt.body) && len(got) == len(tt.pkts) {
					t.Fatalf("prefix %q accepted with every packet of the full body", tt.body[:i])
				}
			}
		})
	}
}

func TestUTF16Len(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"€", 1},
		{"😀", 2},
		{"a€😀b", 5},
		{"0123456789abcdef€0123456789😀x", 30},
		{"01234567€", 9},
		{"0123456€", 8},
		{"\xff", 1},
		{"\xe2\x82", 2},
		{"\xed\xa0\x80", 3}, // an encoded surrogate is not valid UTF-8
		{"\xef\xbf\xbd", 1}, // a real U+FFFD
	} {
		if got := utf16Len([]byte(tt.s)); got != tt.want {
			t.Errorf("utf16Len(%q) = %d, want %d", tt.s, got, tt.want)
		}
		if !utf8.ValidString(tt.s) {
			continue
		}
		if end, rule := skipUTF16([]byte(tt.s), 0, tt.want); rule != "" || end != len(tt.s) {
			t.Errorf("skipUTF16(%q, %d) = %d, %q", tt.s, tt.want, end, rule)
		}
	}
}
