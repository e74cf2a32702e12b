package socketio

import (
	"strconv"
	"unicode/utf8"
)

// The helpers in this file are the hot path of every EVENT and ACK a
// client or server sends or receives. They live here, next to the codec,
// so that the client and the server split and build event payloads with
// the same rules the decoder checks and EventName documents: a numeric name
// read as JavaScript reads it, strings quoted as JSON.stringify quotes them.

// emptyArray is the payload of an event without arguments.
var emptyArray = []byte("[]")

// AppendHeader appends the header of a packet, <type>[<attachments>-][<nsp>,][<id>],
// after which the JSON data follows. attachments is written for the binary
// types only, nsp unless it is the main namespace, id unless it is NoID.
// Unlike [AppendPacket] it checks nothing: callers build packets whose shape
// they control, and pay no validation on every send.
func AppendHeader(dst []byte, t PacketType, attachments int, nsp string, id int64) []byte {
	dst = append(dst, '0'+byte(t))
	if t.binary() {
		dst = strconv.AppendInt(dst, int64(attachments), 10)
		dst = append(dst, '-')
	}
	if !isMain(nsp) {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return dst
}

// AppendString appends s as a JSON string the way JavaScript's
// JSON.stringify writes it: no HTML escaping (encoding/json would turn "<"
// into \u003c, which Node never sends), short escapes for \b \f \n \r \t,
// and invalid UTF-8 as U+FFFD so the result is always valid JSON. Plain
// ASCII, nearly every event name, is copied without a per-byte switch.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendQuoted(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// AppendEvent appends the payload ["name",arg...] of an EVENT, from the
// event name and its arguments as a JSON array (whitespace around and
// inside the brackets allowed; nil or "[]" for none).
func AppendEvent(dst []byte, name string, args []byte) []byte {
	dst = append(dst, '[')
	dst = AppendString(dst, name)
	if inner := trimArray(args); len(inner) > 0 {
		dst = append(dst, ',')
		dst = append(dst, inner...)
	}
	return append(dst, ']')
}

// trimArray returns what is between the brackets of a JSON array, without
// the surrounding whitespace; nil for an empty array or no array.
func trimArray(a []byte) []byte {
	if n := len(a); n >= 2 && a[0] == '[' && a[n-1] == ']' && !isSpace(a[1]) && !isSpace(a[n-2]) {
		return a[1 : n-1] // compact, as AppendArgs writes it
	}
	i, j := skipSpace(a, 0), len(a)
	for j > i && isSpace(a[j-1]) {
		j--
	}
	if j-i < 2 || a[i] != '[' || a[j-1] != ']' {
		return nil
	}
	i = skipSpace(a, i+1)
	j--
	for j > i && isSpace(a[j-1]) {
		j--
	}
	return a[i:j]
}

// SplitEvent is the allocation-free path of [EventName] for the common
// case, an event name that is a string without escapes (and valid UTF-8): it returns the
// name and the other arguments as a JSON array, made in place by
// overwriting the comma after the name with '['. data must therefore be
// owned by the caller and not be read as the original payload afterwards.
//
// ok is false when the name needs [EventName] (escapes to undo, a numeric
// name to render as JavaScript does) or data is not an event payload; data
// is then left untouched. data has passed the decoder's shape checks.
func SplitEvent(data []byte) (name, args []byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return nil, nil, false
	}
	j, high := i+1, false
	for ; j < len(data); j++ {
		c := data[j]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 {
			return nil, nil, false
		}
		high = high || c >= utf8.RuneSelf
	}
	if j >= len(data) {
		return nil, nil, false
	}
	name = data[i+1 : j]
	if high && !utf8.Valid(name) {
		return nil, nil, false // EventName turns it into U+FFFD
	}
	end := skipSpace(data, j+1)
	if end >= len(data) {
		return nil, nil, false
	}
	switch data[end] {
	case ']':
		return name, emptyArray, true
	case ',':
		data[end] = '['
		return name, data[end:], true
	}
	return nil, nil, false
}
