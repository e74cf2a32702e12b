package socketio

import (
	"math"
	"reflect"
	"testing"
)

// msg is one Engine.IO message as fed to the Decoder.
type msg struct {
	data   string
	binary bool
}

func text(s string) msg { return msg{s, false} }
func blob(s string) msg { return msg{s, true} }

// feed adds msgs, expecting nothing back until the last, and returns what
// the last one produced.
func feed(t *testing.T, d *Decoder, msgs ...msg) (Packet, bool, error) {
	t.Helper()
	for i, m := range msgs {
		buf := []byte(m.data)
		p, done, err := d.Add(buf, m.binary)
		// The caller may reuse its buffer: the decoder must have copied.
		for j := range buf {
			buf[j] = '#'
		}
		if i == len(msgs)-1 {
			return p, done, err
		}
		if done || err != nil {
			t.Fatalf("Add(%q) = done %v, %v before the last message", m.data, done, err)
		}
	}
	panic("no messages")
}

func TestDecoderReassembly(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want Packet
	}{
		{"one attachment", []msg{text(`51-["baz",` + ph0 + `]`), blob("\x01\x02\x03\x04")},
			Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Attachments: 1,
				Data: []byte(`["baz",` + ph0 + `]`), Buffers: [][]byte{{1, 2, 3, 4}}}},
		{"two attachments with ack", []msg{text(`52-/admin,789["message-with-ack",` + ph0 + `,` + ph1 + `]`), blob("\x01\x02\x03"), blob("\x04\x05\x06")},
			Packet{Type: BinaryEvent, Namespace: "/admin", ID: 789, Attachments: 2,
				Data:    []byte(`["message-with-ack",` + ph0 + `,` + ph1 + `]`),
				Buffers: [][]byte{{1, 2, 3}, {4, 5, 6}}}},
		{"nested, out of order", []msg{text(`62-1[{"a":[` + ph1 + `],"b":` + ph0 + `}]`), blob("b"), blob("a")},
			Packet{Type: BinaryAck, Namespace: "/", ID: 1, Attachments: 2,
				Data: []byte(`[{"a":[` + ph1 + `],"b":` + ph0 + `}]`), Buffers: [][]byte{[]byte("b"), []byte("a")}}},
		{"empty attachment", []msg{text(`51-["e",` + ph0 + `]`), blob("")},
			Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Attachments: 1,
				Data: []byte(`["e",` + ph0 + `]`), Buffers: [][]byte{{}}}},
		{"placeholder inside a placeholder is not one", []msg{text(`51-["x",{"_placeholder":true,"num":0,"y":` + ph0 + `}]`), blob("z")},
			Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Attachments: 1,
				Data: []byte(`["x",{"_placeholder":true,"num":0,"y":` + ph0 + `}]`), Buffers: [][]byte{[]byte("z")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Version: V5}
			p, done, err := feed(t, &d, tt.msgs...)
			if err != nil || !done {
				t.Fatalf("last Add = done %v, %v", done, err)
			}
			if !reflect.DeepEqual(p, tt.want) {
				t.Fatalf("packet = %+v\nwant     %+v", p, tt.want)
			}
			if p.Buffers[0] == nil {
				t.Error("empty attachment decoded as nil")
			}
			// The decoder is waiting for the next header again.
			if _, _, err := d.Add([]byte("b"), true); ruleOf(err) != RuleUnexpectedBinary {
				t.Errorf("binary after a complete packet: %v", err)
			}
			if p, done, err := d.Add([]byte(`3["ok"]`), false); err != nil || !done || p.Type != Ack {
				t.Errorf("next Add = %+v, %v, %v", p, done, err)
			}
		})
	}
}

func TestDecoderTextPacket(t *testing.T) {
	d := Decoder{Version: V5}
	in := []byte(`2/chat,["a"]`)
	p, done, err := d.Add(in, false)
	if err != nil || !done || !reflect.DeepEqual(p, pkt(Event, "/chat", NoID, `["a"]`)) {
		t.Fatalf("Add = %+v, %v, %v", p, done, err)
	}
	if &p.Data[0] != &in[7] {
		t.Error("Data of a text packet does not alias the message")
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		max  int
		msgs []msg
		rule string
		off  int // in the message, the header for placeholder errors
	}{
		// §6.9 X-B02..X-B06.
		{"text while waiting", 0, []msg{text(`52-["m",` + ph0 + `,` + ph1 + `]`), blob("a"), text(`2["m"]`)}, RuleUnexpectedText, 0},
		{"binary when not waiting", 0, []msg{blob("\x01")}, RuleUnexpectedBinary, 0},
		{"num out of range", 0, []msg{text(`51-["m",{"_placeholder":true,"num":5}]`), blob("a")}, RuleBadPlaceholder, 8},
		{"num is a string", 0, []msg{text(`51-["m",{"_placeholder":true,"num":"0"}]`), blob("a")}, RuleBadPlaceholder, 8},
		{"num missing", 0, []msg{text(`51-["m",{"_placeholder":true}]`), blob("a")}, RuleBadPlaceholder, 8},
		{"num negative", 0, []msg{text(`51-["m",{"_placeholder":true,"num":-1}]`), blob("a")}, RuleBadPlaceholder, 8},
		{"duplicate", 0, []msg{text(`52-["m",` + ph0 + `,` + ph0 + `]`), blob("a"), blob("b")}, RuleBadPlaceholder, 38},
		{"missing", 0, []msg{text(`52-["m",` + ph1 + `]`), blob("a"), blob("b")}, RuleBadPlaceholder, 3},
		{"no payload", 0, []msg{text(`51-`), blob("a")}, RuleBadPlaceholder, 3},
		{"too many", 0, []msg{text(`511-["m"` + placeholders(11) + `]`)}, RuleTooManyAttachments, 1},
		{"too many for a custom limit", 3, []msg{text(`54-["m"` + placeholders(4) + `]`)}, RuleTooManyAttachments, 1},
		{"zero", 0, []msg{text(`50-["message"]`)}, RuleBadAttachments, 1},
		{"header error", 0, []msg{text(`abc`)}, RuleBadType, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Version: V5, MaxAttachments: tt.max}
			_, done, err := feed(t, &d, tt.msgs...)
			if e, ok := err.(*Error); done || !ok || e.Rule != tt.rule || e.Offset != tt.off {
				t.Fatalf("last Add = done %v, %v; want %s at offset %d", done, err, tt.rule, tt.off)
			}
			// The decoder was reset: a binary message is unexpected again and
			// a text packet decodes.
			if _, _, err := d.Add([]byte{1}, true); ruleOf(err) != RuleUnexpectedBinary {
				t.Errorf("binary after reset: %v", err)
			}
			if _, done, err := d.Add([]byte("1"), false); !done || err != nil {
				t.Errorf("text after reset: %v, %v", done, err)
			}
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	d := Decoder{Version: V5}
	msgs := []msg{text(`510-["m"` + placeholders(10) + `]`)}
	for range 10 {
		msgs = append(msgs, blob("x"))
	}
	if p, done, err := feed(t, &d, msgs...); err != nil || !done || len(p.Buffers) != 10 {
		t.Fatalf("10 attachments: %d buffers, done %v, %v", len(p.Buffers), done, err)
	}

	d = Decoder{Version: V4, MaxAttachments: 20}
	msgs = []msg{text(`615-3[0` + placeholders(15) + `]`)}
	for range 15 {
		msgs = append(msgs, blob("x"))
	}
	if p, done, err := feed(t, &d, msgs...); err != nil || !done || p.ID != 3 {
		t.Fatalf("15 attachments under a limit of 20: %+v, done %v, %v", p, done, err)
	}

	d = Decoder{Version: V5, MaxAttachments: math.MaxInt}
	for _, tt := range []struct{ in, rule string }{
		{"59223372036854775807-[\"a\"]", ""},
		{"59223372036854775808-[]", RuleTooManyAttachments},
		{"599999999999999999999-[]", RuleTooManyAttachments},
	} {
		if _, done, err := d.Add([]byte(tt.in), false); done || ruleOf(err) != tt.rule {
			t.Errorf("Add(%q) under a limit of MaxInt: %v, %v; want %q", tt.in, done, err, tt.rule)
		}
		d.Reset()
	}

	d = Decoder{}
	if _, _, err := d.Add([]byte("0"), false); ruleOf(err) != RuleBadVersion {
		t.Errorf("zero Decoder: %v", err)
	}
}
