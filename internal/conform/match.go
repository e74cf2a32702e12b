package conform

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// mismatch is a failed expectation: a one-line message and the two sides
// for the Diff.
type mismatch struct {
	msg      string
	expected string
	got      string
}

func (m *mismatch) Error() string { return m.msg }

// diff renders expected vs got for Result.Diff.
func (m *mismatch) diff() string {
	if m.expected == "" && m.got == "" {
		return ""
	}
	return "expected: " + m.expected + "\n     got: " + m.got
}

func mis(expected, got, format string, args ...any) *mismatch {
	return &mismatch{msg: fmt.Sprintf(format, args...), expected: expected, got: got}
}

// subster replaces ${name} in a string; an undefined name is an error that
// makes the case's verdict error (a broken case, not a server fault).
type subster func(string) (string, error)

// caps collects the captures of one step; they are committed only when the
// whole step passed.
type caps map[string]string

// describe renders a string matcher for messages.
func (m *strMatcher) describe() string {
	switch m.kind {
	case "exact":
		return strconv.Quote(m.val)
	case "any":
		return "anything"
	case "absent":
		return "absent"
	}
	return m.kind + " " + strconv.Quote(m.val)
}

// match checks s (present=false: no such header) against m.
func (m *strMatcher) match(s string, present bool, sub subster, c caps) error {
	if m.kind == "absent" {
		if present {
			return mis("absent", strconv.Quote(s), "want absent, got %s", quoteShort(s))
		}
		return nil
	}
	if !present {
		return mis(m.describe(), "absent", "want %s, got nothing", m.describe())
	}
	val, err := sub(m.val)
	if err != nil {
		return err
	}
	ok := true
	group := s
	switch m.kind {
	case "exact":
		ok = s == val
	case "prefix":
		ok = strings.HasPrefix(s, val)
	case "contains":
		ok = strings.Contains(s, val)
	case "pattern":
		re := m.re
		if re == nil {
			if re, err = regexp.Compile(val); err != nil {
				return &brokenCase{fmt.Sprintf("pattern %q after substitution: %v", val, err)}
			}
		}
		sm := re.FindStringSubmatch(s)
		ok = sm != nil
		if ok && len(sm) > 1 {
			group = sm[1]
		}
	}
	if !ok {
		d := m.describe()
		if m.kind == "exact" {
			d = strconv.Quote(val)
		}
		return mis(d, strconv.Quote(s), "want %s, got %s", shorten(d), quoteShort(s))
	}
	if m.capture != "" {
		c[m.capture] = group
	}
	return nil
}

// quoteShort quotes s, shortened for one-line messages.
func quoteShort(s string) string { return shorten(strconv.Quote(s)) }

func shorten(s string) string {
	if len(s) <= traceMax {
		return s
	}
	return s[:traceMax] + "…"
}

// traceMax is the length shorten keeps.
const traceMax = 120

// describe renders a JSON matcher (roughly as JSON) for diffs.
func (m *jsonMatcher) describe() string {
	switch m.kind {
	case "literal":
		b, _ := json.Marshal(m.lit)
		return string(b)
	case "object":
		parts := make([]string, len(m.keys))
		for i, k := range m.keys {
			parts[i] = strconv.Quote(k) + ":" + m.fields[i].describe()
		}
		return "{" + strings.Join(parts, ",") + "}"
	case "array":
		parts := make([]string, len(m.elems))
		for i, e := range m.elems {
			parts[i] = e.describe()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case "type":
		return "<" + m.typ + ">"
	case "range":
		return fmt.Sprintf("<number in [%g, %g]>", m.min, m.max)
	case "pattern":
		return "<string matching " + strconv.Quote(m.reSrc) + ">"
	case "any":
		return "<any>"
	case "one_of", "unordered":
		parts := make([]string, len(m.elems))
		for i, e := range m.elems {
			parts[i] = e.describe()
		}
		return "<" + m.kind + " " + strings.Join(parts, " | ") + ">"
	}
	return "?"
}

// jsonText renders an actual value compactly.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// matchJSONText parses text as JSON and matches it; exact forbids extra
// keys in the top-level object.
func matchJSONText(m *jsonMatcher, text []byte, exact bool, sub subster, c caps) error {
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		return mis(m.describe(), strconv.Quote(string(text)), "want JSON, got %s (%v)", quoteShort(string(text)), err)
	}
	if err := m.match(v, "$", exact, sub, c); err != nil {
		if mm, ok := err.(*mismatch); ok {
			mm.expected, mm.got = m.describe(), string(text)
			if exact {
				mm.expected += " (exact keys)"
			}
		}
		return err
	}
	return nil
}

// match checks v at path against m.
func (m *jsonMatcher) match(v any, path string, exact bool, sub subster, c caps) error {
	fail := func(format string, args ...any) error {
		return mis("", "", "%s: "+format, append([]any{path}, args...)...)
	}
	switch m.kind {
	case "literal":
		want := m.lit
		if s, ok := want.(string); ok {
			var err error
			if want, err = sub(s); err != nil {
				return err
			}
		}
		if !scalarEqual(want, v) {
			return fail("want %s, got %s", shorten(jsonText(want)), shorten(jsonText(v)))
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fail("want an object, got %s", shorten(jsonText(v)))
		}
		for i, k := range m.keys {
			av, present := obj[k]
			if !present {
				return fail("missing key %q", k)
			}
			if err := m.fields[i].match(av, path+"."+k, false, sub, c); err != nil {
				return err
			}
		}
		if exact && len(obj) != len(m.keys) {
			want := map[string]bool{}
			for _, k := range m.keys {
				want[k] = true
			}
			var extra []string
			for k := range obj {
				if !want[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(extra)
			return fail("unexpected keys %s", strings.Join(extra, ", "))
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fail("want an array, got %s", shorten(jsonText(v)))
		}
		if len(arr) != len(m.elems) {
			return fail("want %d elements, got %d: %s", len(m.elems), len(arr), shorten(jsonText(v)))
		}
		for i, e := range m.elems {
			if err := e.match(arr[i], fmt.Sprintf("%s[%d]", path, i), false, sub, c); err != nil {
				return err
			}
		}
	case "type":
		if jsonType(v) != m.typ {
			return fail("want a %s, got %s", m.typ, shorten(jsonText(v)))
		}
	case "range":
		f, ok := v.(float64)
		if !ok || f < m.min || f > m.max {
			return fail("want a number in [%g, %g], got %s", m.min, m.max, shorten(jsonText(v)))
		}
	case "pattern":
		s, ok := v.(string)
		if !ok {
			return fail("want a string matching %q, got %s", m.reSrc, shorten(jsonText(v)))
		}
		re := m.re
		if re == nil {
			src, err := sub(m.reSrc)
			if err != nil {
				return err
			}
			if re, err = regexp.Compile(src); err != nil {
				return &brokenCase{fmt.Sprintf("pattern %q after substitution: %v", src, err)}
			}
		}
		if !re.MatchString(s) {
			return fail("want a string matching %q, got %s", m.reSrc, quoteShort(s))
		}
	case "any":
	case "one_of":
		for _, e := range m.elems {
			if e.match(v, path, false, sub, caps{}) == nil {
				_ = e.match(v, path, false, sub, c) // again, to keep its captures
				return m.captureInto(v, c)
			}
		}
		return fail("want %s, got %s", m.describe(), shorten(jsonText(v)))
	case "unordered":
		arr, ok := v.([]any)
		if !ok || len(arr) != len(m.elems) {
			return fail("want %s, got %s", m.describe(), shorten(jsonText(v)))
		}
		used := make([]bool, len(arr))
		for _, e := range m.elems {
			found := false
			for i, av := range arr {
				if !used[i] && e.match(av, path, false, sub, caps{}) == nil {
					used[i], found = true, true
					break
				}
			}
			if !found {
				return fail("no element matches %s in %s", e.describe(), shorten(jsonText(v)))
			}
		}
	}
	return m.captureInto(v, c)
}

// captureInto stores v: strings as themselves, anything else as JSON text.
func (m *jsonMatcher) captureInto(v any, c caps) error {
	if m.capture == "" {
		return nil
	}
	if s, ok := v.(string); ok {
		c[m.capture] = s
	} else {
		c[m.capture] = jsonText(v)
	}
	return nil
}

func scalarEqual(want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case string, bool, float64:
		return w == got
	}
	return false
}

// brokenCase is a problem of the case itself (bad pattern after
// substitution, undefined variable): the verdict is error.
type brokenCase struct{ msg string }

func (b *brokenCase) Error() string { return b.msg }
