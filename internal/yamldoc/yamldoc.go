// Package yamldoc is the one YAML front end of siokit's input files
// (sioload scenarios, sioconform case files): it decodes a yaml.Node tree
// into Go values by their `yaml` struct tags, refusing unknown and repeated
// keys, and reports every problem as "file:line: field: problem".
//
// yaml's own struct decoding cannot do that: its errors carry a line but
// not the dotted field path, it accepts a string where a number belongs
// ("5" for clients) and it ignores unknown keys unless told, and then stops
// at the first. A person fixing a scenario wants every mistake at once,
// named the way the documentation names the field.
//
// Supported field types: string, bool, int, float64, time.Duration (Go
// syntax, "500ms", a bare 0 allowed), slices, map[string]T, structs and
// pointers to them, any (free-form: args, auth, match), *yaml.Node (left for
// the caller), and any type implementing [Unmarshaler] (unions such as a
// step whose kind is its only key).
//
// A struct field tagged `yaml:",inline"` lends its fields to the
// struct around it (settings a file and each of its entries share).
//
// Numbers are not negative unless the field's tag says `signed`
// (`yaml:"offset,signed"`): no count, duration or rate in these files can be.
package yamldoc

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem of an input file, located in it.
type Error struct {
	File    string
	Line    int
	Field   string
	Problem string
}

// Error formats the problem as file:line: field: problem.
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Problem)
}

// Unmarshaler is implemented by types that decode themselves from a node,
// for shapes struct tags cannot say (a union keyed by its only key, a
// scalar-or-mapping field). Problems go to d.Errorf, located at n.
type Unmarshaler interface {
	UnmarshalYAMLDoc(d *Decoder, n *yaml.Node, field string)
}

// Decoder decodes the nodes of one file and collects their problems.
type Decoder struct {
	// File names the input in errors.
	File string
	// Lines, when non-nil, receives the line of every field decoded,
	// keyed by its dotted path ("load.clients", "flow[2].emit.event"), so
	// that checks made after decoding can still point into the file.
	Lines map[string]int
	errs  []error
}

// Parse parses data as one YAML document and returns its root node. A
// syntax error or an empty document is returned as an *Error.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := syntaxError(err)
		// yaml's own line is where it began the block (sometimes a line
		// or two before it), so it is not repeated next to the culprit.
		if at := problemLine(data, line, msg); at > line {
			line = at
		}
		return nil, &Error{File: file, Line: line, Problem: msg}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{File: file, Line: 1, Problem: "empty file"}
	}
	return doc.Content[0], nil
}

// syntaxError splits yaml's "yaml: line N: problem" into N and problem.
func syntaxError(err error) (int, string) {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				return l, after
			}
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// problemLine finds the line a syntax error is on when yaml names only
// the start of the block it was parsing: a line indented one space too
// few on line 20 is "line 15: did not find expected key" for the mapping
// that starts there. The first prefix of the file that fails the same way
// ends at the culprit; prefixes shorter than it parse (a prefix cut at a
// line end is valid YAML in block style). It returns 0 when no prefix
// agrees, such as inside a flow list cut short.
func problemLine(data []byte, line int, msg string) int {
	if line <= 0 {
		return 0
	}
	ends := []int{} // ends[i] is the end of line i+1, past its newline
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	failsAlike := func(n int) bool {
		var doc yaml.Node
		err := yaml.Unmarshal(data[:ends[n-1]], &doc)
		if err == nil {
			return false
		}
		_, m := syntaxError(err)
		return m == msg
	}
	lo, hi := line, len(ends) // the answer is in [lo, hi]; hi fails alike
	if !failsAlike(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if failsAlike(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Errorf records a problem at node n (its line; 0 when n is nil).
func (d *Decoder) Errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.File, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
}

// Fieldf records a problem of the field at path, at the line Lines has for
// it: for checks made after decoding, when the node is gone.
func (d *Decoder) Fieldf(path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.File, Line: d.Lines[path], Field: path, Problem: fmt.Sprintf(format, args...)})
}

// ErrorAt records a problem of field at line: for checks whose message
// names a field by another path than the one it was decoded at.
func (d *Decoder) ErrorAt(line int, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.File, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
}

// Err returns every problem recorded so far, one per line in file order,
// or nil.
func (d *Decoder) Err() error {
	slices.SortStableFunc(d.errs, func(a, b error) int { return a.(*Error).Line - b.(*Error).Line })
	return errors.Join(d.errs...)
}

// Failed reports whether any problem has been recorded.
func (d *Decoder) Failed() bool { return len(d.errs) > 0 }

// Join returns the dotted path of key under field.
func Join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// Index returns the path of element i of the list at field.
func Index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// Describe names what a node holds, for "want X, got Y" messages.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// IsNull reports an empty value ("disconnect:" with nothing after it).
func IsNull(n *yaml.Node) bool { return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

var (
	durationType    = reflect.TypeFor[time.Duration]()
	nodeType        = reflect.TypeFor[*yaml.Node]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
)

// Decode decodes n into the value v points to; field is n's path.
func (d *Decoder) Decode(n *yaml.Node, field string, v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("yamldoc: Decode needs a non-nil pointer")
	}
	d.value(n, field, rv.Elem(), false)
}

// Fields walks the mapping n, calling fn for every key in file order;
// repeated keys are refused, and so are keys for which fn returns false
// ("unknown key"). It reports whether n was a mapping.
func (d *Decoder) Fields(n *yaml.Node, field string, fn func(key string, k, v *yaml.Node) bool) bool {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, field, "want a mapping, got %s", Describe(n))
		return false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, field, "keys must be strings, got %s", Describe(k))
			continue
		}
		path := Join(field, k.Value)
		if seen[k.Value] {
			d.Errorf(k, path, "repeated key")
			continue
		}
		seen[k.Value] = true
		if !fn(k.Value, k, v) {
			d.Errorf(k, path, "unknown key")
		}
	}
	return true
}

func (d *Decoder) value(n *yaml.Node, field string, rv reflect.Value, signed bool) {
	if d.Lines != nil {
		d.Lines[field] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
		rv.Addr().Interface().(Unmarshaler).UnmarshalYAMLDoc(d, n, field)
		return
	}
	t := rv.Type()
	switch {
	case t == nodeType:
		rv.Set(reflect.ValueOf(n))
		return
	case t == durationType:
		if x, ok := d.duration(n, field, signed); ok {
			rv.SetInt(int64(x))
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.Errorf(n, field, "want a string, got %s", Describe(n))
			return
		}
		rv.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.Errorf(n, field, "want true or false, got %s", Describe(n))
			return
		}
		rv.SetBool(n.Value == "true")
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.Errorf(n, field, "want an integer, got %s", Describe(n))
			return
		}
		x, err := strconv.ParseInt(n.Value, 0, 64)
		if refuseNumber(d, n, field, "integer", x, err != nil || rv.OverflowInt(x), signed) {
			return
		}
		rv.SetInt(x)
	case reflect.Float64, reflect.Float32:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.Errorf(n, field, "want a number, got %s", Describe(n))
			return
		}
		x, err := strconv.ParseFloat(n.Value, 64)
		if refuseNumber(d, n, field, "number", x, err != nil, signed) {
			return
		}
		rv.SetFloat(x)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.Errorf(n, field, "want a list, got %s", Describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.value(e, Index(field, i), s.Index(i), signed)
		}
		rv.Set(s)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("yamldoc: map keys must be strings: " + t.String())
		}
		m := reflect.MakeMap(t)
		d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
			e := reflect.New(t.Elem()).Elem()
			d.value(v, Join(field, key), e, signed)
			m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), e)
			return true
		})
		rv.Set(m)
	case reflect.Pointer:
		if IsNull(n) && !reflect.PointerTo(t.Elem()).Implements(unmarshalerType) {
			return // left out; a type that decodes itself says what null means
		}
		// A refused value leaves the pointer nil, so that checks made
		// after decoding do not pile a second message on the first.
		p, before := reflect.New(t.Elem()), len(d.errs)
		d.value(n, field, p.Elem(), signed)
		if len(d.errs) == before {
			rv.Set(p)
		}
	case reflect.Struct:
		d.structure(n, field, rv)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.Errorf(n, field, "%v", err)
			return
		}
		rv.Set(reflect.ValueOf(Normalize(x)))
	default:
		panic("yamldoc: unsupported type " + t.String())
	}
}

// refuseNumber says at n what is wrong with x, parsed from n's value (bad:
// it did not parse, or does not fit): what names the kind of number in the
// message. A negative x is wrong too unless signed. It reports whether it
// refused x, so that integers and floats are refused in the same words.
func refuseNumber[T int64 | float64](d *Decoder, n *yaml.Node, field, what string, x T, bad, signed bool) bool {
	switch {
	case bad:
		d.Errorf(n, field, "bad %s %q", what, n.Value)
	case x < 0 && !signed:
		d.Errorf(n, field, "must not be negative, got %v", x)
	default:
		return false
	}
	return true
}

// structure decodes a mapping into a struct by its `yaml` tags; fields
// without a tag (or tagged "-") are not read from the file.
func (d *Decoder) structure(n *yaml.Node, field string, rv reflect.Value) {
	if IsNull(n) {
		return // "connect:" with an empty body: every field defaults
	}
	slots := map[string]slot{}
	addSlots(rv.Type(), nil, slots)
	d.Fields(n, field, func(key string, k, v *yaml.Node) bool {
		s, ok := slots[key]
		if !ok {
			// Name the keys that would do: a typo is then one look away.
			names := make([]string, 0, len(slots))
			for name := range slots {
				names = append(names, name)
			}
			slices.Sort(names)
			if near := Suggest(key, names); near != "" {
				d.Errorf(k, Join(field, key), "unknown key (did you mean %q? allowed: %s)", near, strings.Join(names, ", "))
				return true
			}
			d.Errorf(k, Join(field, key), "unknown key (allowed: %s)", strings.Join(names, ", "))
			return true
		}
		d.value(v, Join(field, key), rv.FieldByIndex(s.index), s.signed)
		return true
	})
}

// slot is where a key of a mapping goes in a struct.
type slot struct {
	index  []int
	signed bool
}

// addSlots maps the keys of struct t, and of the structs it embeds inline,
// to their fields.
func addSlots(t reflect.Type, prefix []int, slots map[string]slot) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(slices.Clip(prefix), i)
		if name == "" && opts == "inline" {
			if f.Type.Kind() != reflect.Struct {
				panic("yamldoc: inline needs a struct field: " + f.Name)
			}
			addSlots(f.Type, index, slots)
			continue
		}
		slots[name] = slot{index, strings.Contains(opts, "signed")}
	}
}

// duration parses a Go duration ("1.5s", "100ms"); a bare 0 is accepted.
func (d *Decoder) duration(n *yaml.Node, field string, signed bool) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.Errorf(n, field, "want a duration like 5s, got %s", Describe(n))
		return 0, false
	}
	if n.Value == "0" {
		return 0, true
	}
	x, err := time.ParseDuration(n.Value)
	if err != nil {
		d.Errorf(n, field, "bad duration %q (want e.g. 500ms, 5s, 1m)", n.Value)
		return 0, false
	}
	if x < 0 && !signed {
		d.Errorf(n, field, "must not be negative, got %s", n.Value)
		return 0, false
	}
	return x, true
}

// Normalize turns the map[any]any a YAML decoder may produce for odd keys
// into map[string]any, at any depth, so that free-form values marshal as
// JSON.
func Normalize(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			x[k] = Normalize(v)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = Normalize(v)
		}
		return m
	case []any:
		for i, v := range x {
			x[i] = Normalize(v)
		}
		return x
	}
	return x
}
