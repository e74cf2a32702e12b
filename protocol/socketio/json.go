package socketio

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The payload checks run on every received packet, so JSON is validated by
// this scanner, which walks the bytes without building values or allocating,
// instead of by encoding/json.

// maxDepth bounds payload nesting so the recursive scanner has a bounded
// stack. Node's JSON.parse has no such limit; no real payload comes close.
const maxDepth = 1000

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// validJSON reports whether b is exactly one JSON value, with optional
// surrounding whitespace. If not, off is where the problem is.
func validJSON(b []byte) (off int, ok bool) {
	end, ok := scanValue(b, 0, 0)
	if !ok {
		return end, false
	}
	end = skipSpace(b, end)
	return end, end == len(b)
}

// scanValue returns the offset just past the JSON value that starts at b[i],
// after optional whitespace. When the value is malformed ok is false and the
// offset is that of the offending byte.
func scanValue(b []byte, i, depth int) (int, bool) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '[', c == '{':
		return scanContainer(b, i, depth)
	case c == '"':
		return scanString(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	}
	return i, false
}

// scanContainer scans the array or object opening at b[i].
func scanContainer(b []byte, i, depth int) (int, bool) {
	if depth >= maxDepth {
		return i, false
	}
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if obj {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = scanString(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i++
		}
		if i, ok = scanValue(b, i, depth+1); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		switch {
		case i >= len(b):
			return i, false
		case b[i] == closer:
			return i + 1, true
		case b[i] != ',':
			return i, false
		}
		i++
	}
}

// Word-at-a-time constants for scanString: lo8 has 0x01 in every byte,
// hi8 0x80.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// special8 flags, in the top bit of its byte, every byte of w that ends
// or escapes a string or is a control character ('"', '\\', below 0x20).
// These are the "has a zero byte" and "has a byte less than n" bit
// tricks: a flag can be wrong only above a byte rightly flagged, so the
// lowest flag is always the first special byte.
func special8(w uint64) uint64 {
	quote := w ^ (lo8 * '"')
	bslash := w ^ (lo8 * '\\')
	t := (quote - lo8) &^ quote
	t |= (bslash - lo8) &^ bslash
	t |= (w - lo8*0x20) &^ w
	return t & hi8
}

// nextSpecial returns the index of the first byte at or after b[i] that
// special8 would flag, or len(b). It looks at eight bytes at a time: the
// receive and send checks of every packet walk its strings, and even a
// short one ends within the first word.
func nextSpecial(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if t := special8(binary.LittleEndian.Uint64(b[i:])); t != 0 {
			return i + bits.TrailingZeros64(t)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// scanString scans the string literal opening at b[i].
func scanString(b []byte, i int) (int, bool) {
	i++
	for {
		if i = nextSpecial(b, i); i >= len(b) {
			return i, false // unterminated
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		}
		if i++; i >= len(b) { // past the backslash
			return i, false
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if _, ok := hex4(b[i+1:]); !ok {
				return i, false
			}
			i += 4
		default:
			return i, false
		}
		i++
	}
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return i, false
	}
	return i + len(lit), true
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case isDigit(c):
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnquoted appends the text of the valid string literal q, quotes
// included, to dst. Invalid UTF-8 and unpaired surrogates, which UTF-8
// cannot carry, become U+FFFD, as in encoding/json.
func appendUnquoted(dst, q []byte) []byte {
	q = q[1 : len(q)-1]
	for len(q) > 0 {
		i := bytes.IndexByte(q, '\\')
		if i < 0 {
			return appendValidUTF8(dst, q)
		}
		dst = appendValidUTF8(dst, q[:i])
		c := q[i+1]
		q = q[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(q)
			q = q[4:]
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(q) >= 6 && q[0] == '\\' && q[1] == 'u' {
					r2, _ = hex4(q[2:])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					q = q[6:]
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// unquote returns the text of the valid string literal q.
func unquote(q []byte) string {
	raw := q[1 : len(q)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	return string(appendUnquoted(nil, q))
}

func appendValidUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		dst = utf8.AppendRune(dst, r)
		b = b[size:]
	}
	return dst
}

// stringIs reports whether the valid string literal q decodes to want, which
// must be at most 20 bytes long. It does not allocate.
func stringIs(q []byte, want string) bool {
	raw := q[1 : len(q)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want
	}
	// Every escape decodes to at least one byte per six, so a longer
	// literal cannot match, and a shorter one fits the stack buffer unless
	// it holds invalid UTF-8.
	if len(raw) > 6*len(want) {
		return false
	}
	var buf [128]byte
	return string(appendUnquoted(buf[:0], q)) == want
}
