package socketio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendArgs appends args to dst as a JSON array, the payload of an EVENT or
// ACK. Every []byte found at the top level or at any depth inside []any and
// map[string]any values becomes a placeholder {"_placeholder":true,"num":N},
// numbered depth-first with map keys in sorted order, and is returned in
// buffers at index N (the slices themselves, not copies); send the packet
// as BINARY_EVENT or BINARY_ACK when buffers is non-empty. json.RawMessage
// values are written verbatim after a validity check; everything else goes
// through encoding/json, so a []byte inside any other type becomes base64
// text as usual.
//
// Strings are written as JavaScript's JSON.stringify writes them: without
// the HTML escaping of encoding/json.
func AppendArgs(dst []byte, args []any) (data []byte, buffers [][]byte, err error) {
	w := argWriter{buf: dst}
	w.buf = append(w.buf, '[')
	for i, a := range args {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if err := w.value(a); err != nil {
			return dst, nil, err
		}
	}
	return append(w.buf, ']'), w.bins, nil
}

type argWriter struct {
	buf  []byte
	bins [][]byte
	enc  *json.Encoder // created on first use, writing into out
	out  bytes.Buffer
}

func (w *argWriter) value(a any) error {
	switch a := a.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case string:
		w.buf = appendQuoted(w.buf, a)
	case bool:
		w.buf = strconv.AppendBool(w.buf, a)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(a), 10)
	case int64:
		w.buf = strconv.AppendInt(w.buf, a, 10)
	case json.RawMessage:
		if a == nil {
			w.buf = append(w.buf, "null"...)
			break
		}
		if off, ok := validJSON(a); !ok {
			return newError(RuleBadJSON, off, "json.RawMessage argument is not valid JSON")
		}
		w.buf = append(w.buf, a...)
	case []byte:
		w.buf = append(w.buf, `{"_placeholder":true,"num":`...)
		w.buf = strconv.AppendInt(w.buf, int64(len(w.bins)), 10)
		w.buf = append(w.buf, '}')
		w.bins = append(w.bins, a)
	case []any:
		w.buf = append(w.buf, '[')
		for i, e := range a {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.value(e); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	case map[string]any:
		if a == nil {
			w.buf = append(w.buf, "null"...)
			break
		}
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.buf = append(w.buf, '{')
		for i, k := range keys {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = appendQuoted(w.buf, k)
			w.buf = append(w.buf, ':')
			if err := w.value(a[k]); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	default:
		if w.enc == nil {
			w.enc = json.NewEncoder(&w.out)
			w.enc.SetEscapeHTML(false)
		}
		w.out.Reset()
		if err := w.enc.Encode(a); err != nil {
			return err
		}
		w.buf = append(w.buf, bytes.TrimSuffix(w.out.Bytes(), []byte{'\n'})...)
	}
	return nil
}

// appendQuoted appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD so that the output is always valid JSON.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, r)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// EventName splits an EVENT payload into the event name and the remaining
// arguments, without decoding the arguments. A string name is unescaped; a
// numeric one is rendered as JavaScript renders the number (Node emits
// 42[1.0] as event "1"). rest is a new JSON array of the other elements,
// "[]" when there are none. data must be valid JSON; its shape is checked
// as for a received EVENT, except that reserved names are returned.
func EventName(data []byte) (name string, rest []byte, err error) {
	if off, ok := validJSON(data); !ok {
		return "", nil, newError(RuleBadJSON, off, "payload is not valid JSON")
	}
	i := skipSpace(data, 0)
	if data[i] != '[' {
		return "", nil, newError(RuleBadPayload, i, "EVENT payload must be an array")
	}
	i = skipSpace(data, i+1)
	end, _ := scanValue(data, i, 0)
	switch c := data[i]; {
	case c == '"':
		name = unquote(data[i:end])
	case c == '-' || isDigit(c):
		name = jsNumber(data[i:end])
	default:
		return "", nil, newError(RuleBadPayload, i, "EVENT payload must start with the event name, a string or a number")
	}
	end = skipSpace(data, end)
	if data[end] == ']' {
		return name, []byte("[]"), nil
	}
	// data[end] is ',': the rest of the array, reopened.
	rest = append(make([]byte, 0, len(data)-end), '[')
	return name, append(rest, data[end+1:]...), nil
}

// jsNumber formats the valid JSON number text as JavaScript's
// Number.prototype.toString does.
func jsNumber(text []byte) string {
	f, _ := strconv.ParseFloat(string(text), 64) // ±Inf on overflow, like JS
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also for -0
	}
	// Shortest round-trip digits d1.d2…dk and decimal exponent, as JS uses.
	e := strconv.AppendFloat(nil, math.Abs(f), 'e', -1, 64)
	mant, exp, _ := strings.Cut(string(e), "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // value = 0.digits × 10^n
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
	}
	switch {
	case k <= n && n <= 21:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", n-k))
	case 0 < n && n <= 21:
		b.WriteString(digits[:n])
		b.WriteByte('.')
		b.WriteString(digits[n:])
	case -6 < n && n <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -n))
		b.WriteString(digits)
	default:
		b.WriteString(digits[:1])
		if k > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if n-1 >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.Itoa(n - 1))
	}
	return b.String()
}

// LastStringArg returns the last argument of the EVENT payload data when it
// is a string. With connection state recovery on (socket.io lib/socket.ts) a server
// appends its offset that way to every EVENT without ack id, and a client
// remembers it to resume from; only the caller knows whether recovery is on.
// The event name is not an argument, so data needs at least two elements.
func LastStringArg(data []byte) (string, bool) {
	if _, ok := validJSON(data); !ok {
		return "", false
	}
	i := skipSpace(data, 0)
	if data[i] != '[' {
		return "", false
	}
	n, last, lastEnd := 0, 0, 0
	for i = skipSpace(data, i+1); data[i] != ']'; n++ {
		last = i
		lastEnd, _ = scanValue(data, i, 0)
		if i = skipSpace(data, lastEnd); data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if n < 2 || data[last] != '"' {
		return "", false
	}
	return unquote(data[last:lastEnd]), true
}

// Unmarshal decodes the JSON payload data into v as json.Unmarshal does,
// with each placeholder standing for its attachment in buffers: a []byte
// destination receives a copy of the attachment, and an interface
// destination (an any inside []any, map[string]any, struct fields, at any
// depth) receives the attachment itself, sharing its memory, where
// json.Unmarshal would have stored a map.
func Unmarshal(data []byte, buffers [][]byte, v any) error {
	if off, ok := validJSON(data); !ok {
		return newError(RuleBadJSON, off, "payload is not valid JSON")
	}
	phs, _ := appendPlaceholders(nil, data, 0)
	if len(phs) == 0 {
		return json.Unmarshal(data, v)
	}
	// json.Unmarshal decodes base64 strings into []byte destinations, so
	// placeholders become base64 first; interface slots, which receive the
	// string, are then fixed up by walking data alongside the result.
	var sub []byte
	prev := 0
	for _, ph := range phs {
		switch {
		case ph.num < 0:
			return newError(RuleBadPlaceholder, ph.start, "placeholder num is not a non-negative integer")
		case ph.num >= len(buffers):
			return newError(RuleBadPlaceholder, ph.start, "placeholder num out of range")
		}
		sub = append(sub, data[prev:ph.start]...)
		sub = append(sub, '"')
		sub = base64.StdEncoding.AppendEncode(sub, buffers[ph.num])
		sub = append(sub, '"')
		prev = ph.end
	}
	sub = append(sub, data[prev:]...)
	if err := json.Unmarshal(sub, v); err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil // json.Unmarshal has already refused these
	}
	f := filler{data: data, phs: phs, buffers: buffers}
	f.fill(0, rv)
	return nil
}

// filler walks a JSON payload and the value json.Unmarshal decoded from its
// placeholder-substituted form in step, replacing the base64 strings that
// interface slots received with the attachments themselves.
type filler struct {
	data    []byte
	phs     []placeholder // in document order, as the walk meets them
	buffers [][]byte
}

// fill walks the value at data[i:] into rv and returns the offset past it.
func (f *filler) fill(i int, rv reflect.Value) int {
	i = skipSpace(f.data, i)
	for len(f.phs) > 0 && f.phs[0].start < i {
		f.phs = f.phs[1:] // inside a value the walk skipped
	}
	if len(f.phs) > 0 && f.phs[0].start == i {
		ph := f.phs[0]
		f.phs = f.phs[1:]
		f.setAttachment(rv, f.buffers[ph.num])
		return ph.end
	}
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			end, _ := scanValue(f.data, i, 0)
			return end
		}
		rv = rv.Elem()
	}
	switch f.data[i] {
	case '[':
		return f.fillArray(i, rv)
	case '{':
		return f.fillObject(i, rv)
	}
	end, _ := scanValue(f.data, i, 0)
	return end
}

// setAttachment stores buf into rv, or into what rv points to, when that is
// an interface slot holding buf's base64 stand-in. Comparing the string
// rather than trusting position keeps a later duplicate key's value.
func (f *filler) setAttachment(rv reflect.Value, buf []byte) {
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Interface || rv.NumMethod() != 0 || !rv.CanSet() {
		return
	}
	if s, ok := rv.Interface().(string); ok && s == base64.StdEncoding.EncodeToString(buf) {
		rv.Set(reflect.ValueOf(buf))
	}
}

func (f *filler) fillArray(i int, rv reflect.Value) int {
	indexable := rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array
	i = skipSpace(f.data, i+1)
	for n := 0; f.data[i] != ']'; n++ {
		var elem reflect.Value
		if indexable && n < rv.Len() {
			elem = rv.Index(n)
		}
		if i = skipSpace(f.data, f.fill(i, elem)); f.data[i] == ',' {
			i++
		}
	}
	return i + 1
}

func (f *filler) fillObject(i int, rv reflect.Value) int {
	i = skipSpace(f.data, i+1)
	for f.data[i] != '}' {
		keyEnd, _ := scanString(f.data, i)
		key := unquote(f.data[i:keyEnd])
		i = skipSpace(f.data, keyEnd) + 1 // past ':'
		switch {
		case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String && rv.CanInterface():
			k := reflect.ValueOf(key).Convert(rv.Type().Key())
			if old := rv.MapIndex(k); old.IsValid() {
				// Map elements are not addressable: fill a copy, store it back.
				elem := reflect.New(rv.Type().Elem()).Elem()
				elem.Set(old)
				i = f.fill(i, elem)
				rv.SetMapIndex(k, elem)
				break
			}
			i = f.fill(i, reflect.Value{})
		case rv.Kind() == reflect.Struct:
			i = f.fill(i, structField(rv, key))
		default:
			i = f.fill(i, reflect.Value{})
		}
		if i = skipSpace(f.data, i); f.data[i] == ',' {
			i = skipSpace(f.data, i+1)
		}
	}
	return i + 1
}

// structField finds the field json.Unmarshal stores the member key in, by
// json's rules short of its tie-breaking: tag name or field name, exact
// match first, then case-insensitive. It returns the zero Value when there
// is none.
func structField(rv reflect.Value, key string) reflect.Value {
	var index []int
	for _, sf := range reflect.VisibleFields(rv.Type()) {
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		embeddedStruct := sf.Anonymous && ft.Kind() == reflect.Struct
		switch {
		case tag == "-", !sf.IsExported() && !embeddedStruct:
			continue // json ignores these
		case embeddedStruct && name == "":
			continue // its fields are promoted and listed on their own
		case name == "":
			name = sf.Name
		}
		if name == key {
			index = sf.Index
			break
		}
		if index == nil && strings.EqualFold(name, key) {
			index = sf.Index
		}
	}
	if index == nil {
		return reflect.Value{}
	}
	fv, err := rv.FieldByIndexErr(index)
	if err != nil {
		return reflect.Value{}
	}
	return fv
}
