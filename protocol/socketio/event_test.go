package socketio

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// Node's wire behaviour (JSON.stringify and the parser's event-name rule)
// is the reference for the helpers the client and server share.
func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"echo", `"echo"`},
		{"<a&b>", `"<a&b>"`}, // JSON.stringify does not HTML-escape
		{"a\"b\\c", `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x01", `"\u0001"`},
		{"é€😀", `"é€😀"`},
		{"\xff", "\"\uFFFD\""},
	} {
		if got := string(AppendString([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got[1:], tc.want)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	for _, tc := range []struct {
		name, args, want string
	}{
		{"e", "", `["e"]`},
		{"e", "[]", `["e"]`},
		{"e", "[ ]", `["e"]`},
		{"e", ` [1, {"a":2}] `, `["e",1, {"a":2}]`},
		{"<x>", `["s"]`, `["<x>","s"]`},
	} {
		got := AppendEvent(nil, tc.name, []byte(tc.args))
		if string(got) != tc.want {
			t.Errorf("AppendEvent(%q, %q) = %s, want %s", tc.name, tc.args, got, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("AppendEvent(%q, %q) = %s: not JSON", tc.name, tc.args, got)
		}
	}
}

func TestAppendHeader(t *testing.T) {
	for _, tc := range []struct {
		t    PacketType
		n    int
		nsp  string
		id   int64
		want string
	}{
		{Event, 0, "/", NoID, "2"},
		{Event, 0, "", 12, "212"},
		{Ack, 0, "/admin", 3, "3/admin,3"},
		{BinaryEvent, 2, "/a", NoID, "52-/a,"},
		{BinaryAck, 1, "/", 0, "61-0"},
	} {
		if got := string(AppendHeader(nil, tc.t, tc.n, tc.nsp, tc.id)); got != tc.want {
			t.Errorf("AppendHeader(%v,%d,%q,%d) = %q, want %q", tc.t, tc.n, tc.nsp, tc.id, got, tc.want)
		}
		// The same header as the checked encoder writes.
		p := Packet{Type: tc.t, Attachments: tc.n, Namespace: tc.nsp, ID: tc.id}
		if got := string(appendPacket(nil, &p)); got != tc.want {
			t.Errorf("appendPacket(%+v) = %q, AppendHeader %q", p, got, tc.want)
		}
	}
}

func TestSplitEvent(t *testing.T) {
	for _, tc := range []struct {
		in, name, args string
		ok             bool
	}{
		{`["echo",{"seq":1}]`, "echo", `[{"seq":1}]`, true},
		{`["only"]`, "only", `[]`, true},
		{` [ "sp" , 1 ] `, "sp", `[ 1 ] `, true}, // python-socketio writes ", "
		{`["a\"b",7]`, "", "", false},            // escapes: EventName
		{`[1.0,"x"]`, "", "", false},             // numeric: EventName gives "1"
		{`[]`, "", "", false},
		{`{}`, "", "", false},
		{``, "", "", false},
	} {
		data := []byte(tc.in)
		name, args, ok := SplitEvent(data)
		if ok != tc.ok || string(name) != tc.name || string(args) != tc.args {
			t.Errorf("SplitEvent(%s) = %q, %q, %v; want %q, %q, %v", tc.in, name, args, ok, tc.name, tc.args, tc.ok)
		}
		if !ok && string(data) != tc.in {
			t.Errorf("SplitEvent(%s) changed the payload it refused: %s", tc.in, data)
		}
	}
	if name, _, _ := EventName([]byte(`[1.0,"x"]`)); name != "1" {
		t.Errorf("EventName of [1.0] = %q, want 1 as Node gives", name)
	}
}

func TestSplitEventAllocs(t *testing.T) {
	src := []byte(`["echo",{"seq":1,"t":"abc"}]`)
	buf := make([]byte, len(src))
	n := testing.AllocsPerRun(100, func() {
		copy(buf, src)
		if _, _, ok := SplitEvent(buf); !ok {
			t.Fatal("not split")
		}
	})
	out := make([]byte, 0, 64)
	n += testing.AllocsPerRun(100, func() {
		out = AppendHeader(out[:0], Event, 0, "/chat", 7)
		out = AppendEvent(out, "echo", []byte(`[1,2]`))
	})
	if n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// FuzzSplitEvent: the fast path never panics, agrees with EventName about
// the name and with encoding/json about the arguments, and leaves what it
// refuses untouched.
func FuzzSplitEvent(f *testing.F) {
	for _, s := range []string{`["echo",{"seq":1}]`, `["a\"b",7]`, `[1,"x"]`, `["only"]`, `[ "sp" , 1 ]`, `[`, `["x`, `[]`, `["x",`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		name, args, ok := SplitEvent(data)
		if !ok {
			if !bytes.Equal(data, orig) {
				t.Fatalf("refused %q but changed it to %q", orig, data)
			}
			return
		}
		var all []json.RawMessage
		if json.Unmarshal(orig, &all) != nil || len(all) == 0 {
			return
		}
		want, rest, err := EventName(orig)
		if err != nil || want != string(name) {
			t.Fatalf("payload %q: name %q, EventName says %q (%v)", orig, name, want, err)
		}
		var got, exp []any
		if err := json.Unmarshal(args, &got); err != nil {
			t.Fatalf("args %q of valid payload %q do not parse: %v", args, orig, err)
		}
		_ = json.Unmarshal(rest, &exp)
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("payload %q: args %q, EventName rest %q", orig, args, rest)
		}
	})
}
