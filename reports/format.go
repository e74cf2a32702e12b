package reports

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/siokit/siokit/internal/conform"
)

// label is how a verdict is spelt in the human renderers: the two verdicts
// that make the exit code non-zero are loud (FAIL) or at least distinct
// (error), the rest stay lower case. Unknown verdicts (a newer engine) are
// shown as they are rather than dropped.
func label(v conform.Verdict) string {
	switch v {
	case conform.Fail:
		return "FAIL"
	default:
		return string(v)
	}
}

// ANSI SGR sequences for TableOptions.Color. Plain escape codes rather than
// a colour library: five fixed colours do not justify another module, and
// tablewriter already measures cell widths without escape sequences.
const (
	sgrReset = "\x1b[0m"
	sgrBold  = "\x1b[1m"
)

var verdictSGR = map[conform.Verdict]string{
	conform.Pass:  "\x1b[32m",   // green
	conform.Fail:  "\x1b[1;31m", // bold red
	conform.Error: "\x1b[1;35m", // bold magenta: not the server's fault, maybe
	conform.NA:    "\x1b[2m",    // dim: nothing to see
	conform.Warn:  "\x1b[33m",   // yellow: a broken SHOULD
	conform.Info:  "\x1b[36m",   // cyan
}

// paint wraps s in the verdict's colour when color is set.
func paint(color bool, v conform.Verdict, s string) string {
	sgr, ok := verdictSGR[v]
	if !color || !ok {
		return s
	}
	return sgr + s + sgrReset
}

// bold wraps s in bold when color is set.
func bold(color bool, s string) string {
	if !color {
		return s
	}
	return sgrBold + s + sgrReset
}

// millis formats d as milliseconds with one decimal ("12.3ms"). Traces and
// case times use it so that columns of them line up and compare at a
// glance; protocol timings (pingInterval 300, pingTimeout 200) are
// naturally read in milliseconds.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// caseTime formats a case's duration for the table: milliseconds below a
// second, seconds with two decimals above (a 5s timeout reads "5.00s").
func caseTime(d time.Duration) string {
	if d < time.Second {
		return millis(d)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// seconds formats d for JUnit's time attribute: seconds, millisecond
// precision, no unit (the schema's xs:decimal).
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// clean makes s safe to print and to put into XML: control characters other
// than newline and tab, DEL, C1 controls and bytes that are not UTF-8 become
// visible escapes (\x1e, \u0085). Protocol traces are full of them (0x1e is
// the v4 polling separator); raw they would be invisible in a terminal and
// illegal in XML, where encoding/xml would silently turn them into U+FFFD.
func clean(s string) string {
	if !needsClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && special(r) || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case special(r):
			// C1 controls (terminals act on them) and U+FFFE/U+FFFF
			// (not XML characters).
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// needsClean is clean's fast path: most strings are plain printable text.
func needsClean(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return true // an invalid byte, not a literal U+FFFD
			}
			continue
		}
		if special(r) {
			return true
		}
	}
	return false
}

// special reports whether clean rewrites the valid rune r.
func special(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f ||
		r >= 0x80 && r <= 0x9f || r == 0xfffe || r == 0xffff
}

// oneLine is clean for places that hold a single line (table cells, XML
// attributes shown as titles): newlines and tabs become \n and \t too.
func oneLine(s string) string {
	s = clean(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
	}
	return s
}

// indent prefixes every line of s with prefix; the block renderers use it
// to nest diffs and traces under their case.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// wrap word-wraps s (one line) at width runes, breaking words longer than
// width, and joins the lines with "\n". Table cells are wrapped here rather
// than by tablewriter: its word wrap leaves an over-long word (a JSON
// payload in a message) whole, which stretches the whole table, and its
// break mode cuts every line mid-word.
func wrap(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	var lines []string
	var line []rune
	flush := func() {
		if len(line) > 0 {
			lines = append(lines, string(line))
			line = line[:0]
		}
	}
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(line) > 0 && len(line)+1+len(w) <= width {
			line = append(line, ' ')
			line = append(line, w...)
			continue
		}
		flush()
		for len(w) > width {
			lines = append(lines, string(w[:width]))
			w = w[width:]
		}
		line = append(line, w...)
	}
	flush()
	return strings.Join(lines, "\n")
}
