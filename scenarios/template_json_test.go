package scenarios

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// refIsJSONNumber is the definition isJSONNumber must agree with: what
// encoding/json reads back as the same number literal, and a float64
// holds.
func refIsJSONNumber(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && string(n) == s
}

// TestTextLeavesEncodeAsEncodingJSON: a text leaf renders, without
// encoding/json on the common path, to exactly the JSON encoding/json
// gives for the rendered string, or to the number itself when it is
// one.
func TestTextLeavesEncodeAsEncodingJSON(t *testing.T) {
	cases := []string{
		"", "0", "-0", "7", "-12", "007", "1.5", "1.", ".5", "-", "+1", "1e5", "1E+5", "1e-5", "1e", "1e+",
		"1e400", "-1e400", "1e-400", "0x10", "Inf", "NaN", "1_000", " 1", "1 ", "12345678901234567890",
		strings.Repeat("9", 320), "0." + strings.Repeat("0", 330) + "1", "1.5e3x",
		"plain text", `quote"d`, `back\slash`, "<b>&amp;</b>", "tab\there", "nl\n", "\x00", "\x7f",
		"héllo", "\u2028", "\xff\xfe", "emoji 🙂",
	}
	for _, c := range cases {
		if got, want := isJSONNumber([]byte(c)), refIsJSONNumber(c); got != want {
			t.Errorf("isJSONNumber(%q) = %v, encoding/json and ParseFloat say %v", c, got, want)
		}
		txt, err := CompileText("{{.Seq}}")
		if err != nil {
			t.Fatal(err)
		}
		// A fast template leaf and a text/template leaf, both rendering c
		// after a prefix already in the buffer.
		for _, leaf := range []*Value{{kind: valText, text: Text{src: c, t: txt.t, fast: []part{{kind: partText, text: c}}}}, literalLeaf(t, c)} {
			got, _, err := leaf.AppendJSON([]byte("[1,"), &Vars{})
			if err != nil {
				t.Fatalf("%q: %v", c, err)
			}
			want := []byte("[1,")
			if refIsJSONNumber(c) {
				want = append(want, c...)
			} else {
				raw, _ := json.Marshal(c)
				want = append(want, raw...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%q (fast %v) rendered %q, want %q", c, leaf.text.fast != nil, got, want)
			}
		}
	}
}

// literalLeaf is a text/template leaf that renders c: {{"..."}} with c
// quoted as a Go string.
func literalLeaf(t *testing.T, c string) *Value {
	t.Helper()
	txt, err := CompileText("{{" + strconv.Quote(c) + "}}")
	if err != nil {
		t.Fatalf("%q: %v", c, err)
	}
	if txt.fast != nil {
		t.Fatalf("%q: want a text/template leaf", c)
	}
	return &Value{kind: valText, text: txt}
}

// TestArgumentsRenderWithoutAllocating: the usual emit arguments render
// into a reused buffer with no allocation.
func TestArgumentsRenderWithoutAllocating(t *testing.T) {
	v, err := CompileValue([]any{"{{.Payload 64}}", map[string]any{"seq": "{{.Seq}}", "t": "{{.SendTime}}", "from": "c{{.Client}}"}})
	if err != nil {
		t.Fatal(err)
	}
	vars := &Vars{Client: 3}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(200, func() {
		vars.Seq++
		vars.SendTime = 1732600000000123
		buf, _, _ = v.AppendJSON(buf[:0], vars)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per rendering, want 0", allocs)
	}
	var got []any
	if err := json.Unmarshal(buf, &got); err != nil || len(got) != 2 {
		t.Fatalf("rendered %s: %v", buf, err)
	}
	if s, _ := got[0].(string); len(s) != 64 {
		t.Errorf("payload %q, want 64 letters", got[0])
	}
	if want := `{"from":"c3","seq":` + strconv.FormatInt(vars.Seq, 10) + `,"t":1732600000000123}`; !strings.HasSuffix(string(buf), want+"]") {
		t.Errorf("rendered %s, want it to end with %s]", buf, want)
	}
}
