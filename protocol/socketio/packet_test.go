package socketio

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
)

const (
	ph0 = `{"_placeholder":true,"num":0}`
	ph1 = `{"_placeholder":true,"num":1}`
)

// placeholders returns ",ph0,ph1,…" for n attachments.
func placeholders(n int) string {
	var s string
	for i := range n {
		s += `,{"_placeholder":true,"num":` + strconv.Itoa(i) + `}`
	}
	return s
}

func pkt(t PacketType, nsp string, id int64, data string) Packet {
	p := Packet{Type: t, Namespace: nsp, ID: id}
	if data != "" {
		p.Data = []byte(data)
	}
	return p
}

func bin(t PacketType, n int, nsp string, id int64, data string) Packet {
	p := pkt(t, nsp, id, data)
	p.Attachments = n
	return p
}

// canonical packets decode to want and want encodes back to the same text.
var canonicalTests = []struct {
	v    Version
	in   string
	want Packet
}{
	// socket.io-protocol v5, "Packet encoding" examples.
	{V5, `0`, pkt(Connect, "/", NoID, "")},
	{V5, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, pkt(Connect, "/admin", NoID, `{"sid":"oSO0OpakMV_3jnilAAAA"}`)},
	{V5, `4{"message":"Not authorized"}`, pkt(ConnectError, "/", NoID, `{"message":"Not authorized"}`)},
	{V5, `2["foo"]`, pkt(Event, "/", NoID, `["foo"]`)},
	{V5, `2/admin,["bar"]`, pkt(Event, "/admin", NoID, `["bar"]`)},
	{V5, `212["foo"]`, pkt(Event, "/", 12, `["foo"]`)},
	{V5, `3/admin,13["bar"]`, pkt(Ack, "/admin", 13, `["bar"]`)},
	{V5, `51-["baz",` + ph0 + `]`, bin(BinaryEvent, 1, "/", NoID, `["baz",`+ph0+`]`)},
	{V5, `52-/admin,["baz",` + ph0 + `,` + ph1 + `]`, bin(BinaryEvent, 2, "/admin", NoID, `["baz",`+ph0+`,`+ph1+`]`)},
	{V5, `61-15["bar",` + ph0 + `]`, bin(BinaryAck, 1, "/", 15, `["bar",`+ph0+`]`)},
	{V5, `1`, pkt(Disconnect, "/", NoID, "")},
	{V5, `1/admin,`, pkt(Disconnect, "/admin", NoID, "")},
	// §3.4, §3.5, §5.6 and §6 strings a peer must accept.
	{V5, `0{"token":"123"}`, pkt(Connect, "/", NoID, `{"token":"123"}`)},
	{V5, `0/custom,{"token":"abc"}`, pkt(Connect, "/custom", NoID, `{"token":"abc"}`)},
	{V5, `0{}`, pkt(Connect, "/", NoID, `{}`)},
	{V5, `2[1,"x"]`, pkt(Event, "/", NoID, `[1,"x"]`)},
	{V5, `31[]`, pkt(Ack, "/", 1, `[]`)},
	{V5, `2456["message-with-ack",1,"2",{"3":[false]}]`, pkt(Event, "/", 456, `["message-with-ack",1,"2",{"3":[false]}]`)},
	{V5, `4/random,{"message":"Invalid namespace"}`, pkt(ConnectError, "/random", NoID, `{"message":"Invalid namespace"}`)},
	{V5, `29223372036854775807["a"]`, pkt(Event, "/", 1<<63-1, `["a"]`)},
	{V5, `510-["a"` + placeholders(10) + `]`, bin(BinaryEvent, 10, "/", NoID, `["a"`+placeholders(10)+`]`)},
	{V5, `2["a"] `, pkt(Event, "/", NoID, `["a"] `)}, // JSON.parse allows trailing space
	// A placeholder in a plain EVENT is plain data (§3.3).
	{V5, `2["a",` + ph0 + `]`, pkt(Event, "/", NoID, `["a",`+ph0+`]`)},
	// §4 v4 strings.
	{V4, `0/admin?token=1234&uid=abcd,`, Packet{Type: Connect, Namespace: "/admin", Query: "token=1234&uid=abcd", ID: NoID}},
	{V4, `0/?token=1,`, Packet{Type: Connect, Namespace: "/", Query: "token=1", ID: NoID}},
	{V4, `4/admin,"Not authorized"`, pkt(ConnectError, "/admin", NoID, `"Not authorized"`)},
	{V4, `4{"message":"Invalid namespace"}`, pkt(ConnectError, "/", NoID, `{"message":"Invalid namespace"}`)},
	{V4, `0/admin,`, pkt(Connect, "/admin", NoID, "")},
	{V4, `0`, pkt(Connect, "/", NoID, "")},
	{V4, `2["connect"]`, pkt(Event, "/", NoID, `["connect"]`)}, // no reserved names in v4
	{V4, `2/a?b,["x"]`, pkt(Event, "/a?b", NoID, `["x"]`)},     // only CONNECT has a query
	{V4, `61-1[` + ph0 + `]`, bin(BinaryAck, 1, "/", 1, `[`+ph0+`]`)},
}

func TestParseCanonical(t *testing.T) {
	for _, tt := range canonicalTests {
		parsesTo(t, tt.v, tt.in, tt.want)
	}
}

// parsesTo checks that ParsePacket(v, in) succeeds and returns want,
// reporting a failure on t; it returns the packet and whether it parsed.
func parsesTo(t *testing.T, v Version, in string, want Packet) (Packet, bool) {
	t.Helper()
	got, err := ParsePacket(v, []byte(in))
	if err != nil {
		t.Errorf("v%d ParsePacket(%q): %v", v, in, err)
		return got, false
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v%d ParsePacket(%q) = %+v, want %+v", v, in, got, want)
	}
	return got, true
}

func TestAppendCanonical(t *testing.T) {
	for _, tt := range canonicalTests {
		p := tt.want
		out, err := AppendPacket([]byte("x"), tt.v, &p)
		if err != nil {
			t.Errorf("v%d AppendPacket(%q): %v", tt.v, tt.in, err)
			continue
		}
		if string(out) != "x"+tt.in {
			t.Errorf("v%d AppendPacket = %q, want %q", tt.v, out[1:], tt.in)
		}
	}
}

// Packets Node's parser accepts that are not canonical or that the encoder
// refuses: they decode to want, and want encodes to enc (or fails with encErr).
func TestParseLenient(t *testing.T) {
	tests := []struct {
		v      Version
		in     string
		want   Packet
		enc    string
		encErr string
	}{
		{V5, `0/random`, pkt(Connect, "/random", NoID, ""), `0/random,`, ""},
		{V5, `0/,`, pkt(Connect, "/", NoID, ""), `0`, ""},
		{V5, `2/,["a"]`, pkt(Event, "/", NoID, `["a"]`), `2["a"]`, ""},
		{V5, `2012["a"]`, pkt(Event, "/", 12, `["a"]`), `212["a"]`, ""},
		{V5, `501-["a",` + ph0 + `]`, bin(BinaryEvent, 1, "/", NoID, `["a",`+ph0+`]`), `51-["a",` + ph0 + `]`, ""},
		{V4, `0/admin?,`, pkt(Connect, "/admin", NoID, ""), `0/admin,`, ""},
		// §6.8 X-A02: no payload; Node accepts, the spec and the encoder do not.
		{V5, `2`, pkt(Event, "/", NoID, ""), "", RuleBadPayload},
		{V5, `21`, pkt(Event, "/", 1, ""), "", RuleBadPayload},
		{V5, `3`, pkt(Ack, "/", NoID, ""), "", RuleBadPayload},
		{V5, `4`, pkt(ConnectError, "/", NoID, ""), "", RuleBadPayload},
		{V5, `4"denied"`, pkt(ConnectError, "/", NoID, `"denied"`), "", RuleBadPayload},
		// Placeholders are the Decoder's business, not ParsePacket's.
		{V5, `51-["a"]`, bin(BinaryEvent, 1, "/", NoID, `["a"]`), "", RuleBadPlaceholder},
	}
	for _, tt := range tests {
		got, ok := parsesTo(t, tt.v, tt.in, tt.want)
		if !ok {
			continue
		}
		out, err := AppendPacket(nil, tt.v, &got)
		if rule := ruleOf(err); rule != tt.encErr || string(out) != tt.enc {
			t.Errorf("v%d AppendPacket(ParsePacket(%q)) = %q, %v; want %q, %q", tt.v, tt.in, out, err, tt.enc, tt.encErr)
		}
	}
}

func ruleOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	if err != nil {
		return "not an *Error: " + err.Error()
	}
	return ""
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		v    Version
		in   string
		rule string
		off  int
	}{
		// Node's test/parser.js "throw an error upon parsing error" (§3.2).
		{V5, `442["some","data"`, RuleBadJSON, 17},
		{V5, `0/admin,"invalid"`, RuleBadPayload, 8},
		{V5, `0[]`, RuleBadPayload, 1},
		{V5, `1/admin,{}`, RuleBadPayload, 8},
		{V5, `2/admin,"invalid`, RuleBadJSON, 16},
		{V5, `2/admin,{}`, RuleBadPayload, 8},
		{V5, `2[{"toString":"foo"}]`, RuleBadPayload, 2},
		{V5, `2[true,"foo"]`, RuleBadPayload, 2},
		{V5, `2[null,"bar"]`, RuleBadPayload, 2},
		{V5, `2["connect"]`, RuleReservedEvent, 2},
		{V5, `2["disconnect","123"]`, RuleReservedEvent, 2},
		{V5, `5`, RuleBadAttachments, 1},
		{V5, `51`, RuleBadAttachments, 2},
		{V5, `5a-`, RuleBadAttachments, 1},
		{V5, `51.23-`, RuleBadAttachments, 2},
		{V5, `999`, RuleBadType, 0},
		// §6.8 X-A01: event payload validation.
		{V5, `2[]`, RuleBadPayload, 2},
		{V5, `2{}`, RuleBadPayload, 1},
		{V5, `2"x"`, RuleBadPayload, 1},
		{V5, `2[null]`, RuleBadPayload, 2},
		{V5, `2[true]`, RuleBadPayload, 2},
		{V5, `2[{}]`, RuleBadPayload, 2},
		{V5, `2["connect"]`, RuleReservedEvent, 2},
		{V5, `2["disconnect"]`, RuleReservedEvent, 2},
		{V5, `2["disconnecting"]`, RuleReservedEvent, 2},
		{V5, `2["connect_error"]`, RuleReservedEvent, 2},
		{V5, `2["newListener"]`, RuleReservedEvent, 2},
		{V5, `2["removeListener"]`, RuleReservedEvent, 2},
		{V5, `2[ "\u0063onnect",1]`, RuleReservedEvent, 3},
		{V5, `51-["connect",` + ph0 + `]`, RuleReservedEvent, 4},
		// X-A03: malformed JSON.
		{V5, `2["a"`, RuleBadJSON, 5},
		{V5, `2["a"]]`, RuleBadJSON, 6},
		{V5, `2["a",01]`, RuleBadJSON, 7},
		{V5, "2[\"a\x01\"]", RuleBadJSON, 4},
		// X-A04: ack id forms.
		{V5, `2-1["a"]`, RuleBadJSON, 3},
		{V5, `2x1["a"]`, RuleBadJSON, 1},
		{V5, `2 1["a"]`, RuleBadID, 1},
		{V5, `2 ["a"]`, RuleBadID, 1},
		{V5, "21\t[\"a\"]", RuleBadID, 2},
		{V5, `2/admin, ["a"]`, RuleBadID, 8},
		{V5, `2abc["message-with-ack",1]`, RuleBadJSON, 1},
		{V5, `29223372036854775808["a"]`, RuleBadID, 1},
		// X-A05: ACK shape.
		{V5, `3{}`, RuleBadPayload, 1},
		{V5, `31"x"`, RuleBadPayload, 2},
		// X-B05, X-B06: attachment counts.
		{V5, `511-["a"` + placeholders(11) + `]`, RuleTooManyAttachments, 1},
		{V5, `599999999999999999999999-["a"]`, RuleTooManyAttachments, 1},
		{V5, `50-["message"]`, RuleBadAttachments, 1},
		{V4, `50-["message"]`, RuleBadAttachments, 1},
		{V5, `5-["message"]`, RuleBadAttachments, 1},
		// X-C03: CONNECT payload shapes.
		{V5, `0[]`, RuleBadPayload, 1},
		{V5, `0"x"`, RuleBadPayload, 1},
		{V5, `01`, RuleBadID, 1},
		{V5, `0null`, RuleBadPayload, 1},
		{V5, `0true`, RuleBadPayload, 1},
		{V5, `0/admin,1{}`, RuleBadID, 8},
		// X-C10: a namespace must start with '/'.
		{V5, `0custom,`, RuleBadJSON, 1},
		// X-C12: DISCONNECT with payload.
		{V5, `1{}`, RuleBadPayload, 1},
		{V5, `11`, RuleBadID, 1},
		// Packet types.
		{V5, ``, RuleBadType, 0},
		{V5, ` `, RuleBadType, 0},
		{V5, `abc`, RuleBadType, 0},
		{V5, `7`, RuleBadType, 0},
		{V4, `9`, RuleBadType, 0},
		{3, `0`, RuleBadVersion, 0},
		// §4: v4 CONNECT has no payload; its ERROR is a string or an object.
		{V4, `0{}`, RuleBadPayload, 1},
		{V4, `0/admin,{"token":"1"}`, RuleBadPayload, 8},
		{V4, `4[]`, RuleBadPayload, 1},
		{V4, `2[true]`, RuleBadPayload, 2},
	}
	for _, tt := range tests {
		p, err := ParsePacket(tt.v, []byte(tt.in))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("v%d ParsePacket(%q) = %+v, %v; want %s", tt.v, tt.in, p, err, tt.rule)
			continue
		}
		if e.Rule != tt.rule || e.Offset != tt.off {
			t.Errorf("v%d ParsePacket(%q): %v; want %s at offset %d", tt.v, tt.in, err, tt.rule, tt.off)
		}
	}
}

func TestAppendInvalid(t *testing.T) {
	bufs := [][]byte{{1}}
	tests := []struct {
		v    Version
		p    Packet
		rule string
	}{
		{6, pkt(Connect, "/", NoID, ""), RuleBadVersion},
		{V5, pkt(7, "/", NoID, ""), RuleBadType},
		{V5, pkt(Event, "admin", NoID, `["a"]`), RuleBadNamespace},
		{V5, pkt(Event, "/a,b", NoID, `["a"]`), RuleBadNamespace},
		{V5, Packet{Type: Connect, Namespace: "/", Query: "a=1", ID: NoID}, RuleBadNamespace},
		{V4, Packet{Type: Event, Namespace: "/", Query: "a=1", ID: NoID, Data: []byte(`["a"]`)}, RuleBadNamespace},
		{V4, Packet{Type: Connect, Namespace: "/a", Query: "a,b", ID: NoID}, RuleBadNamespace},
		{V4, pkt(Connect, "/a?b", NoID, ""), RuleBadNamespace},
		{V5, pkt(Event, "/", -2, `["a"]`), RuleBadID},
		{V5, pkt(Connect, "/", 1, ""), RuleBadID},
		{V5, pkt(ConnectError, "/", 1, `{}`), RuleBadID},
		{V5, bin(Event, 1, "/", NoID, `["a"]`), RuleBadAttachments},
		{V5, bin(BinaryEvent, 0, "/", NoID, `["a"]`), RuleBadAttachments},
		{V5, Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Attachments: 1, Buffers: [][]byte{}, Data: []byte(`["a",` + ph0 + `]`)}, RuleBadAttachments},
		{V5, Packet{Type: Event, Namespace: "/", ID: NoID, Buffers: bufs, Data: []byte(`["a"]`)}, RuleBadAttachments},
		{V5, pkt(Event, "/", NoID, `["a"`), RuleBadJSON},
		{V5, pkt(Event, "/", NoID, ` ["a"]`), RuleBadJSON},
		{V5, pkt(Event, "/", NoID, `[]`), RuleBadPayload},
		{V5, pkt(Event, "/", NoID, `["connect"]`), RuleReservedEvent},
		{V5, pkt(Ack, "/", 1, `{}`), RuleBadPayload},
		{V5, pkt(Ack, "/", 1, ""), RuleBadPayload},
		{V5, pkt(Connect, "/", NoID, `[]`), RuleBadPayload},
		{V4, pkt(Connect, "/", NoID, `{}`), RuleBadPayload},
		{V5, pkt(Disconnect, "/", NoID, `{}`), RuleBadPayload},
		{V5, pkt(ConnectError, "/", NoID, `"no"`), RuleBadPayload},
		{V4, pkt(ConnectError, "/", NoID, `1`), RuleBadPayload},
		{V5, bin(BinaryEvent, 1, "/", NoID, `["a"]`), RuleBadPlaceholder},
		{V5, bin(BinaryEvent, 1, "/", NoID, `["a",`+ph1+`]`), RuleBadPlaceholder},
		{V5, bin(BinaryEvent, 2, "/", NoID, `["a",`+ph0+`,`+ph0+`]`), RuleBadPlaceholder},
		{V5, bin(BinaryEvent, 1, "/", NoID, `["a",{"_placeholder":true,"num":"0"}]`), RuleBadPlaceholder},
		{V5, bin(BinaryEvent, 1, "/", NoID, `["a",{"_placeholder":true,"num":0.0}]`), RuleBadPlaceholder},
		{V5, bin(BinaryEvent, 1<<50, "/", NoID, `["a",`+ph0+`]`), RuleBadPlaceholder},
	}
	for _, tt := range tests {
		out, err := AppendPacket([]byte("keep"), tt.v, &tt.p)
		if ruleOf(err) != tt.rule || string(out) != "keep" {
			t.Errorf("v%d AppendPacket(%+v) = %q, %v; want %s", tt.v, tt.p, out, err, tt.rule)
		}
	}
}

func TestAppendBuffersCount(t *testing.T) {
	p := Packet{Type: BinaryAck, Namespace: "/admin", ID: 3, Attachments: 7,
		Data: []byte(`[` + ph1 + `,` + ph0 + `]`), Buffers: [][]byte{{1}, {}}}
	out, err := AppendPacket(nil, V5, &p)
	if want := `62-/admin,3[` + ph1 + `,` + ph0 + `]`; err != nil || string(out) != want {
		t.Fatalf("AppendPacket = %q, %v; want %q", out, err, want)
	}
}

func TestIllegalWrites(t *testing.T) {
	enc := Encoder{Version: V5, AllowIllegalWrites: true}
	tests := []struct {
		p    Packet
		want string
	}{
		{pkt(Connect, "custom", NoID, ""), `0custom,`},
		{bin(BinaryEvent, 0, "/", NoID, `["message"]`), `50-["message"]`},
		{bin(BinaryEvent, 2, "/", NoID, `["m",`+ph0+`]`), `52-["m",` + ph0 + `]`},
		{bin(Event, 1, "/", NoID, `["m"]`), `21-["m"]`},
		{pkt(Event, "/", -5, `{}`), `2-5{}`},
		{pkt(Event, "", NoID, `["a"`), `2["a"`},
		{pkt(12, "/", NoID, ""), `12`},
		{pkt(Disconnect, "/", NoID, `{}`), `1{}`},
	}
	for _, tt := range tests {
		out, err := enc.Append(nil, &tt.p)
		if err != nil || string(out) != tt.want {
			t.Errorf("Append(%+v) = %q, %v; want %q", tt.p, out, err, tt.want)
		}
	}
	strict := Encoder{Version: V5}
	if _, err := strict.Append(nil, &tests[0].p); ruleOf(err) != RuleBadNamespace {
		t.Errorf("strict Append of a bad namespace: %v", err)
	}
}

func TestPacketTypeString(t *testing.T) {
	for typ, want := range map[PacketType]string{
		Connect: "CONNECT", Disconnect: "DISCONNECT", Event: "EVENT", Ack: "ACK",
		ConnectError: "CONNECT_ERROR", BinaryEvent: "BINARY_EVENT", BinaryAck: "BINARY_ACK",
		7: "UNKNOWN(7)", 255: "UNKNOWN(255)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("PacketType(%d).String() = %q, want %q", typ, got, want)
		}
	}
}

func TestErrorString(t *testing.T) {
	_, err := ParsePacket(V5, []byte(`2{}`))
	if want := "socketio: sio_bad_payload: EVENT payload must be an array (offset 1)"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}
