package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// Vars are the variables a template sees. One Vars belongs to one client
// and is not safe for concurrent use.
type Vars struct {
	// Client is the client number, 0-based.
	Client int
	// Seq is the client's sequence number: the runner increments it
	// before each emit, so a wait after an emit sees the emit's value.
	Seq int64
	// SendTime is the intended send time in Unix microseconds.
	SendTime int64

	// bufs collects the attachments of {{.Binary N}} during one
	// rendering; Value.AppendJSON hands them out.
	bufs [][]byte
}

// payloadAlphabet has no digits, so a payload never looks like a number
// and always stays a JSON string.
const payloadAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Payload returns n random ASCII letters.
func (v *Vars) Payload(n int) string {
	if n <= 0 {
		return ""
	}
	return string(appendPayload(make([]byte, 0, n), n))
}

// appendPayload appends n random ASCII letters to dst.
func appendPayload(dst []byte, n int) []byte {
	// Eight letters per random number: one call per letter was a few
	// percent of a load run's CPU. (The letters are filler; the slight
	// bias of a byte modulo 52 does not matter.)
	var r uint64
	for i := range max(n, 0) {
		if i%8 == 0 {
			r = rand.Uint64()
		}
		dst = append(dst, payloadAlphabet[byte(r)%byte(len(payloadAlphabet))])
		r >>= 8
	}
	return dst
}

// binMarker starts the placeholder text that Binary returns; AppendJSON
// replaces a string leaf holding exactly such a marker by a Socket.IO
// attachment placeholder.
const binMarker = "\x00sioload-binary:"

// Binary returns a marker that becomes a binary attachment of n random
// bytes when it is a whole string leaf of the arguments.
func (v *Vars) Binary(n int) string {
	if n < 0 {
		n = 0
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	v.bufs = append(v.bufs, b)
	return binMarker + strconv.Itoa(len(v.bufs)-1)
}

// Text is a compiled string template. The zero Text renders "".
type Text struct {
	src string
	t   *template.Template // nil when src has no action
	// fast, when not nil, renders exactly what t does without
	// text/template, whose reflection-driven Execute cost a load run
	// about a seventh of its CPU on the usual arguments ("{{.Seq}}",
	// "{{.Payload 64}}"): set when the template is only text and such
	// plain actions.
	fast []part
}

// part is one piece of a fast template: literal text, or one of Vars'
// fields or methods with a constant argument.
type part struct {
	kind partKind
	text string
	n    int
}

type partKind uint8

const (
	partText partKind = iota
	partClient
	partSeq
	partSendTime
	partPayload
	partBinary
)

// fastParts returns the parts of a template made only of text and
// actions {{.Client}}, {{.Seq}}, {{.SendTime}}, {{.Payload N}} and
// {{.Binary N}} with N an integer literal; nil for anything else, which
// then goes through text/template.
func fastParts(root *parse.ListNode) []part {
	var parts []part
	for _, n := range root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, part{kind: partText, text: string(n.Text)})
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 {
				return nil
			}
			args := n.Pipe.Cmds[0].Args
			f, ok := args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 1 {
				return nil
			}
			var p part
			switch f.Ident[0] {
			case "Client":
				p.kind = partClient
			case "Seq":
				p.kind = partSeq
			case "SendTime":
				p.kind = partSendTime
			case "Payload", "Binary":
				p.kind = partPayload
				if f.Ident[0] == "Binary" {
					p.kind = partBinary
				}
				if len(args) != 2 {
					return nil
				}
				num, ok := args[1].(*parse.NumberNode)
				if !ok || !num.IsInt || num.Int64 != int64(int(num.Int64)) {
					return nil
				}
				p.n = int(num.Int64)
				args = args[:1]
			default:
				return nil
			}
			if len(args) != 1 {
				return nil
			}
			parts = append(parts, p)
		default:
			return nil
		}
	}
	return parts
}

// CompileText compiles src.
func CompileText(src string) (Text, error) {
	if !strings.Contains(src, "{{") {
		return Text{src: src}, nil
	}
	t, err := template.New("").Option("missingkey=error").Parse(src)
	if err != nil {
		// text/template prefixes "template: :1:"; keep the problem only.
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template:") {
			msg = msg[i+2:]
		}
		return Text{}, fmt.Errorf("bad template %q: %s", src, msg)
	}
	if err := checkNames(t.Tree.Root, true); err != nil {
		return Text{}, fmt.Errorf("bad template %q: %v", src, err)
	}
	return Text{src: src, t: t, fast: fastParts(t.Tree.Root)}, nil
}

// Source returns the template text.
func (t Text) Source() string { return t.src }

// IsTemplate reports whether the text has template actions.
func (t Text) IsTemplate() bool { return t.t != nil }

// Render executes the template with v.
func (t Text) Render(v *Vars) (string, error) {
	if t.t == nil {
		return t.src, nil
	}
	if t.fast != nil {
		return t.renderFast(v), nil
	}
	var b strings.Builder
	if err := t.t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// renderFast renders the parts of a fast template, formatting as
// text/template does (integers in decimal, strings as they are).
func (t Text) renderFast(v *Vars) string {
	if len(t.fast) == 1 {
		// One action alone: no builder to copy through.
		switch p := t.fast[0]; p.kind {
		case partSeq:
			return strconv.FormatInt(v.Seq, 10)
		case partPayload:
			return v.Payload(p.n)
		}
	}
	return string(t.appendFast(nil, v))
}

// appendFast appends what renderFast returns to dst, so that arguments
// render straight into the emit's buffer.
func (t Text) appendFast(dst []byte, v *Vars) []byte {
	for _, p := range t.fast {
		switch p.kind {
		case partText:
			dst = append(dst, p.text...)
		case partClient:
			dst = strconv.AppendInt(dst, int64(v.Client), 10)
		case partSeq:
			dst = strconv.AppendInt(dst, v.Seq, 10)
		case partSendTime:
			dst = strconv.AppendInt(dst, v.SendTime, 10)
		case partPayload:
			dst = appendPayload(dst, p.n)
		case partBinary:
			dst = append(dst, v.Binary(p.n)...)
		}
	}
	return dst
}

type valueKind uint8

const (
	valConst valueKind = iota
	valText
	valObject
	valArray
)

// Value is a compiled JSON value whose string leaves are templates: the
// arguments of an emit, an auth object, a wait's match.
type Value struct {
	kind valueKind
	raw  []byte // valConst: the JSON encoding
	text Text   // valText
	keys []string
	// keyJSON holds the keys JSON-encoded, once rather than per rendering.
	keyJSON [][]byte
	elems   []*Value
}

// CompileValue compiles a YAML-decoded value (maps, slices, strings,
// numbers, booleans, nil).
func CompileValue(x any) (*Value, error) {
	switch x := x.(type) {
	case string:
		t, err := CompileText(x)
		if err != nil {
			return nil, err
		}
		if !t.IsTemplate() {
			raw, _ := json.Marshal(x)
			return &Value{kind: valConst, raw: raw}, nil
		}
		return &Value{kind: valText, text: t}, nil
	case []any:
		v := &Value{kind: valArray}
		for _, e := range x {
			ev, err := CompileValue(e)
			if err != nil {
				return nil, err
			}
			v.elems = append(v.elems, ev)
		}
		return v, nil
	case map[string]any:
		v := &Value{kind: valObject}
		for k := range x {
			v.keys = append(v.keys, k)
		}
		sort.Strings(v.keys) // stable wire output
		for _, k := range v.keys {
			kj, _ := json.Marshal(k)
			v.keyJSON = append(v.keyJSON, kj)
			ev, err := CompileValue(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			v.elems = append(v.elems, ev)
		}
		return v, nil
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("value %v cannot be JSON: %w", x, err)
		}
		return &Value{kind: valConst, raw: raw}, nil
	}
}

// AppendJSON renders v with vars and appends its JSON encoding to dst.
// It returns the binary attachments that {{.Binary N}} produced, in
// placeholder order.
func (v *Value) AppendJSON(dst []byte, vars *Vars) ([]byte, [][]byte, error) {
	vars.bufs = vars.bufs[:0]
	dst, err := v.appendJSON(dst, vars)
	var bufs [][]byte
	if len(vars.bufs) > 0 {
		bufs = append(bufs, vars.bufs...)
	}
	return dst, bufs, err
}

func (v *Value) appendJSON(dst []byte, vars *Vars) ([]byte, error) {
	switch v.kind {
	case valConst:
		return append(dst, v.raw...), nil
	case valText:
		// Rendered in place, after an opening quote that stays if the
		// text is a plain string and goes if it is a number.
		dst = append(dst, '"')
		start := len(dst)
		if v.text.fast != nil {
			dst = v.text.appendFast(dst, vars)
		} else {
			s, err := v.text.Render(vars)
			if err != nil {
				return dst[:start-1], err
			}
			dst = append(dst, s...)
		}
		return quoteRendered(dst, start), nil
	case valArray:
		dst = append(dst, '[')
		for i, e := range v.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = e.appendJSON(dst, vars); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	default:
		dst = append(dst, '{')
		for i, e := range v.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(dst, v.keyJSON[i]...), ':')
			var err error
			if dst, err = e.appendJSON(dst, vars); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
}

// Eval renders v and decodes the result into plain Go values
// (map[string]any, []any, string, float64, bool, nil).
func (v *Value) Eval(vars *Vars) (any, error) {
	b, _, err := v.AppendJSON(nil, vars)
	if err != nil {
		return nil, err
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, err
	}
	return x, nil
}

// quoteRendered turns the text rendered at dst[start:], just after an
// opening quote, into its JSON value: an attachment placeholder for a
// {{.Binary N}} marker, the number itself for a JSON number ("{{.Seq}}"
// renders 7 rather than "7"), otherwise a JSON string exactly as
// encoding/json writes it.
func quoteRendered(dst []byte, start int) []byte {
	text := dst[start:]
	switch {
	case bytes.HasPrefix(text, []byte(binMarker)):
		num := string(text[len(binMarker):])
		return append(dst[:start-1], `{"_placeholder":true,"num":`+num+`}`...)
	case isJSONNumber(text):
		copy(dst[start-1:], text)
		return dst[:len(dst)-1]
	case plainJSONString(text):
		return append(dst, '"')
	}
	raw, _ := json.Marshal(string(text))
	return append(dst[:start-1], raw...)
}

// plainJSONString reports whether encoding/json writes s between quotes
// as it is: printable ASCII without a quote, a backslash or the HTML
// characters it escapes.
func plainJSONString(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether s is exactly one JSON number (RFC 8259
// grammar) that a float64 holds without overflow.
func isJSONNumber(s []byte) bool {
	i, n := 0, len(s)
	digits := func() int {
		j := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < n && s[i] == '-' {
		i++
	}
	switch {
	case i < n && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	// Only an exponent or hundreds of digits can overflow a float64.
	plain := n <= 300
	if i < n && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		plain = false
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	if i != n {
		return false
	}
	if plain {
		return true
	}
	_, err := strconv.ParseFloat(string(s), 64)
	return err == nil
}

// varNames lists what a template may name after the dot: the exported
// fields and methods of *Vars, found by reflection so that the check
// cannot drift from the type.
var varNames = func() map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeOf(&Vars{})
	for i := 0; i < t.NumMethod(); i++ {
		names[t.Method(i).Name] = true
	}
	for i := 0; i < t.Elem().NumField(); i++ {
		if f := t.Elem().Field(i); f.IsExported() {
			names[f.Name] = true
		}
	}
	return names
}()

// varList is varNames for error messages, in a fixed order.
func varList() string {
	var l []string
	for n := range varNames {
		l = append(l, "."+n)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// checkNames reports a field a template names that Vars does not have
// ({{.Sq}} for {{.Seq}}): text/template finds that only when it runs,
// which would turn a typo into an emit error in every client of the run.
// dot tells whether dot is still the Vars (inside range and with it is
// not, and their bodies are left alone).
func checkNames(n parse.Node, dot bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNames(c, dot); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkNames(n.Pipe, dot)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode, dot, dot)
	case *parse.RangeNode:
		return checkBranch(&n.BranchNode, dot, false)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode, dot, false)
	case *parse.TemplateNode:
		return checkNames(n.Pipe, dot)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				if err := checkNames(a, dot); err != nil {
					return err
				}
			}
		}
	case *parse.FieldNode:
		if dot && !varNames[n.Ident[0]] {
			return fmt.Errorf("unknown field .%s (want one of %s)", n.Ident[0], varList())
		}
	case *parse.VariableNode:
		// $ is always the Vars.
		if n.Ident[0] == "$" && len(n.Ident) > 1 && !varNames[n.Ident[1]] {
			return fmt.Errorf("unknown field $.%s (want one of %s)", n.Ident[1], varList())
		}
	}
	return nil
}

func checkBranch(b *parse.BranchNode, dot, inner bool) error {
	if err := checkNames(b.Pipe, dot); err != nil {
		return err
	}
	if err := checkNames(b.List, inner); err != nil {
		return err
	}
	return checkNames(b.ElseList, dot)
}
