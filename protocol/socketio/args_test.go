package socketio

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestAppendArgs(t *testing.T) {
	type point struct {
		X, Y int
		Tag  string `json:"tag,omitempty"`
	}
	tests := []struct {
		args []any
		want string
		bufs [][]byte
	}{
		{nil, `[]`, nil},
		{[]any{"echo", 1, int64(-2), 1.5, true, nil}, `["echo",1,-2,1.5,true,null]`, nil},
		{[]any{"a\"\\\n\t\x01<>&é\u2028\xff"}, `["a\"\\\n\t\u0001<>&é` + "\u2028\ufffd" + `"]`, nil},
		{[]any{"m", point{1, 2, ""}, json.RawMessage(`{"raw" : 1}`), json.RawMessage(nil)}, `["m",{"X":1,"Y":2},{"raw" : 1},null]`, nil},
		{[]any{"b", []byte{1}, []any{[]byte{2}, map[string]any{"z": []byte{4}, "a": []byte{3}}}, []byte{}},
			`["b",` + ph0 + `,[` + ph1 + `,{"a":{"_placeholder":true,"num":2},"z":{"_placeholder":true,"num":3}}],{"_placeholder":true,"num":4}]`,
			[][]byte{{1}, {2}, {3}, {4}, {}}},
		{[]any{map[string]any(nil), []any(nil), struct{ B []byte }{[]byte{1}}}, `[null,[],{"B":"AQ=="}]`, nil},
	}
	for _, tt := range tests {
		data, bufs, err := AppendArgs([]byte("x"), tt.args)
		if err != nil || string(data) != "x"+tt.want || !reflect.DeepEqual(bufs, tt.bufs) {
			t.Errorf("AppendArgs(%#v) = %s, %v, %v\nwant %s, %v", tt.args, data, bufs, err, "x"+tt.want, tt.bufs)
		}
		if !json.Valid(data[1:]) {
			t.Errorf("AppendArgs(%#v) is not valid JSON: %s", tt.args, data[1:])
		}
	}

	if _, _, err := AppendArgs(nil, []any{json.RawMessage(`{`)}); ruleOf(err) != RuleBadJSON {
		t.Errorf("invalid RawMessage: %v", err)
	}
	if _, _, err := AppendArgs(nil, []any{func() {}}); err == nil {
		t.Error("unencodable value: no error")
	}
}

func TestArgsRoundTrip(t *testing.T) {
	args := []any{"upload", map[string]any{"name": "f", "parts": []any{[]byte("p0"), []byte("p1")}}, []byte("top"), 3}
	data, bufs, err := AppendArgs(nil, args)
	if err != nil {
		t.Fatal(err)
	}
	p := Packet{Type: BinaryEvent, ID: 7, Data: data, Buffers: bufs}
	header, err := AppendPacket(nil, V5, &p)
	if err != nil {
		t.Fatal(err)
	}

	d := Decoder{Version: V5}
	got, done, err := d.Add(header, false)
	for _, b := range bufs {
		got, done, err = d.Add(b, true)
	}
	if err != nil || !done {
		t.Fatalf("decode: %v, %v", done, err)
	}

	name, rest, err := EventName(got.Data)
	if err != nil || name != "upload" {
		t.Fatalf("EventName = %q, %v", name, err)
	}

	// Into generic values, attachments come back as []byte.
	var generic []any
	if err := Unmarshal(rest, got.Buffers, &generic); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"name": "f", "parts": []any{[]byte("p0"), []byte("p1")}}, []byte("top"), 3.0}
	if !reflect.DeepEqual(generic, want) {
		t.Errorf("Unmarshal into []any = %#v\nwant %#v", generic, want)
	}

	// Into typed values, []byte fields get the bytes and any fields the
	// attachment itself.
	type upload struct {
		Name  string
		Parts []any `json:"parts"`
	}
	var typed struct {
		Up  upload
		Top []byte
		N   *int
	}
	if err := Unmarshal(rest, got.Buffers, &[]any{&typed.Up, &typed.Top, &typed.N}); err != nil {
		t.Fatal(err)
	}
	if typed.Up.Name != "f" || !reflect.DeepEqual(typed.Up.Parts, []any{[]byte("p0"), []byte("p1")}) ||
		string(typed.Top) != "top" || *typed.N != 3 {
		t.Errorf("Unmarshal into typed values = %+v", typed)
	}
}

func TestUnmarshal(t *testing.T) {
	bufs := [][]byte{[]byte("zero"), []byte("one")}
	type inner struct {
		Any any
	}
	type outer struct {
		inner
		Tagged any            `json:"t"`
		Map    map[string]any `json:"m"`
		Arr    [2]any
		Bytes  []byte
		Skip   any `json:"-"`
	}
	var o outer
	data := `{"Any":` + ph1 + `,"T":` + ph0 + `,"m":{"k":` + ph1 + `,"s":"x"},"arr":[1,` + ph0 + `],"bytes":` + ph1 + `}`
	if err := Unmarshal([]byte(data), bufs, &o); err != nil {
		t.Fatal(err)
	}
	want := outer{inner: inner{Any: []byte("one")}, Tagged: []byte("zero"),
		Map: map[string]any{"k": []byte("one"), "s": "x"}, Arr: [2]any{1.0, []byte("zero")}, Bytes: []byte("one")}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("Unmarshal = %#v\nwant %#v", o, want)
	}

	// Fields promoted from an unexported embedded pointer are set, as
	// json.Unmarshal sets them.
	type hidden struct {
		M map[string]any
		A any
	}
	var emb struct {
		*hidden `json:"h"`
		Plain   any
	}
	emb.hidden = &hidden{}
	err := Unmarshal([]byte(`{"h":{"M":{"k":`+ph0+`},"A":`+ph0+`},"Plain":`+ph1+`}`), bufs, &emb)
	if err != nil || !reflect.DeepEqual(*emb.hidden, hidden{M: map[string]any{"k": bufs[0]}, A: bufs[0]}) ||
		!reflect.DeepEqual(emb.Plain, bufs[1]) {
		t.Errorf("unexported embedded pointer: %+v %+v, %v", emb, emb.hidden, err)
	}

	// A later duplicate key wins, as in json.Unmarshal.
	var m map[string]any
	if err := Unmarshal([]byte(`{"a":`+ph0+`,"a":"x"}`), bufs, &m); err != nil || m["a"] != "x" {
		t.Errorf("duplicate key: %#v, %v", m, err)
	}

	// A placeholder the destination does not keep is harmless.
	var s struct{ Other int }
	if err := Unmarshal([]byte(`{"Gone":`+ph0+`,"Other":2}`), bufs, &s); err != nil || s.Other != 2 {
		t.Errorf("unknown field: %+v, %v", s, err)
	}

	for _, bad := range []struct{ data, rule string }{
		{`[` + `{"_placeholder":true,"num":2}]`, RuleBadPlaceholder},
		{`[{"_placeholder":true,"num":"0"}]`, RuleBadPlaceholder},
		{`[1,]`, RuleBadJSON},
	} {
		var v any
		if err := Unmarshal([]byte(bad.data), bufs, &v); ruleOf(err) != bad.rule {
			t.Errorf("Unmarshal(%s) = %v, want %s", bad.data, err, bad.rule)
		}
	}
	var v any
	if err := Unmarshal([]byte(`["a",1]`), nil, v); err == nil {
		t.Error("non-pointer destination: no error")
	}
}

func TestEventName(t *testing.T) {
	tests := []struct {
		data, name, rest string
	}{
		{`["foo"]`, "foo", `[]`},
		{`[ "foo" , 1, {"a":[2]} ] `, "foo", `[ 1, {"a":[2]} ] `},
		{`["a\"b\\c\u00e9\ud83d\ude00\/\n"]`, "a\"b\\cé😀/\n", `[]`},
		{`["\ud800x"]`, "\ufffdx", `[]`},
		{`["connect",1]`, "connect", `[1]`},
		{`[1,"x"]`, "1", `["x"]`},
		{`[-0]`, "0", `[]`},
		{`[1.0]`, "1", `[]`},
		{`[1.50]`, "1.5", `[]`},
		{`[1e2]`, "100", `[]`},
		{`[123e18]`, "123000000000000000000", `[]`},
		{`[1e21]`, "1e+21", `[]`},
		{`[1.5e300]`, "1.5e+300", `[]`},
		{`[0.000001]`, "0.000001", `[]`},
		{`[1e-7]`, "1e-7", `[]`},
		{`[-2.5e-8]`, "-2.5e-8", `[]`},
		{`[1e400]`, "Infinity", `[]`},
		{`[-1e400]`, "-Infinity", `[]`},
		{`[12345678901234567890]`, "12345678901234567000", `[]`},
	}
	for _, tt := range tests {
		name, rest, err := EventName([]byte(tt.data))
		if err != nil || name != tt.name || string(rest) != tt.rest {
			t.Errorf("EventName(%s) = %q, %s, %v; want %q, %s", tt.data, name, rest, err, tt.name, tt.rest)
		}
	}
	for _, bad := range []struct{ data, rule string }{
		{`[]`, RuleBadPayload},
		{`{}`, RuleBadPayload},
		{`[null]`, RuleBadPayload},
		{`[true,1]`, RuleBadPayload},
		{`"x"`, RuleBadPayload},
		{`["a"`, RuleBadJSON},
		{``, RuleBadJSON},
	} {
		if _, _, err := EventName([]byte(bad.data)); ruleOf(err) != bad.rule {
			t.Errorf("EventName(%s) = %v, want %s", bad.data, err, bad.rule)
		}
	}
}

func TestLastStringArg(t *testing.T) {
	tests := []struct {
		data string
		want string
		ok   bool
	}{
		{`["hello","Q8EgLbM"]`, "Q8EgLbM", true},
		{`["b",1,"Q8EgLeU.0"]`, "Q8EgLeU.0", true},
		{`[ "auth" , {} , "a\u0062" ]`, "ab", true},
		{`["hello"]`, "", false},
		{`["hello",1]`, "", false},
		{`["hello",["x"]]`, "", false},
		{`{"a":"b"}`, "", false},
		{`["a","b"`, "", false},
	}
	for _, tt := range tests {
		got, ok := LastStringArg([]byte(tt.data))
		if got != tt.want || ok != tt.ok {
			t.Errorf("LastStringArg(%s) = %q, %v; want %q, %v", tt.data, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`0`, `-0`, `-`, `01`, `1.`, `.5`, `1e`, `1e+`, `1E-2`, `+1`, `"\u12"`, `"\u12g4"`, `"\x"`, "\"\x7f\"", "\"\xff\"",
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `{1:1}`, `[`, `]`, `nul`, `truex`, ` [ ] `, "\t{}\n", `""`, `"`, `[[[]]]`, `{"":{"":[]}}`,
	} {
		_, ok := validJSON([]byte(s))
		if want := json.Valid([]byte(s)); ok != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", s, ok, want)
		}
	}
	deep := bytes.Repeat([]byte("["), maxDepth+1)
	deep = append(deep, bytes.Repeat([]byte("]"), maxDepth+1)...)
	if _, ok := validJSON(deep); ok {
		t.Error("nesting beyond maxDepth accepted")
	}
	if _, ok := validJSON(deep[1 : len(deep)-1]); !ok {
		t.Error("nesting at maxDepth refused")
	}
}
