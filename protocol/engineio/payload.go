package engineio

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// recordSeparator joins v4 polling records. The protocol has no escape for
// it: a text message containing 0x1e cannot be sent over v4 polling intact.
const recordSeparator = 0x1e

// AppendPayload appends pkts as a text polling body.
//
// v4: the packets' text forms joined by 0x1e, binary messages as "b" +
// standard padded base64 ("4hello\x1ebAQIDBA=="). No packets give an empty
// body, which the decoder rejects; do not send one.
//
// v3: each packet as "<len>:<text form>", binary packets as "b<type
// digit><base64>", where len counts the text form in UTF-16 code units as
// JavaScript does ("6:4hello2:4€10:b4AQIDBA=="). No packets give "0:", as
// Node writes. Text data must be valid UTF-8: other bytes are counted one
// unit each, but ParsePayload rejects the result (RuleBadUTF8).
func AppendPayload(dst []byte, v Version, pkts []Packet) []byte {
	if v == V3 {
		if len(pkts) == 0 {
			return append(dst, "0:"...)
		}
		for _, p := range pkts {
			n := 1 + utf16Len(p.Data)
			if p.Binary {
				n = 2 + base64.StdEncoding.EncodedLen(len(p.Data))
			}
			dst = strconv.AppendInt(dst, int64(n), 10)
			dst = append(dst, ':')
			dst = appendText(dst, V3, p)
		}
		return dst
	}
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = appendText(dst, V4, p)
	}
	return dst
}

// AppendBinaryPayload appends pkts in the v3 XHR2 binary form, sent with
// Content-Type application/octet-stream. Each packet is a kind byte (0x00
// string, 0x01 binary), the decimal digits of its length as byte values 0-9,
// 0xFF, and the packet: a type digit and the text for strings, a type byte
// and the data for binary packets. Lengths count bytes, type included.
//
// "4hello" and the binary message 01 02 03 04 encode as
// 00 06 FF 34 68 65 6C 6C 6F 01 05 FF 04 01 02 03 04.
func AppendBinaryPayload(dst []byte, pkts []Packet) []byte {
	for _, p := range pkts {
		kind, typ := byte(0), '0'+byte(p.Type)
		if p.Binary {
			kind, typ = 1, byte(p.Type)
		}
		dst = append(dst, kind)
		start := len(dst)
		dst = strconv.AppendInt(dst, int64(1+len(p.Data)), 10)
		for i := start; i < len(dst); i++ {
			dst[i] -= '0'
		}
		dst = append(dst, 0xff, typ)
		dst = append(dst, p.Data...)
	}
	return dst
}

// ParsePayload decodes a polling body and calls fn for each packet in order.
// binaryBody reports that the body came as application/octet-stream: the v3
// XHR2 form, and an error (RuleBinaryPayloadV4) in v4.
//
// Decoding stops at fn's first error, which ParsePayload returns unchanged,
// or at the first malformed record; packets before that record have already
// been passed to fn, as Node dispatches them, but fn never sees a record
// that failed to decode. To stop after a close packet, as Node does in v3,
// return an error from fn. An empty body is an error in every form; the v3
// body "0:" is the empty packet list and yields no packets.
//
// Packets passed to fn alias body, except base64-decoded data. A text v4 or
// v3 payload without base64 is decoded without allocating.
func ParsePayload(v Version, body []byte, binaryBody bool, fn func(Packet) error) error {
	switch {
	case !v.valid():
		return badVersion(v)
	case binaryBody && v == V4:
		return newError(RuleBinaryPayloadV4, 0, "v4 polling payloads are always text")
	case len(body) == 0:
		return newError(RuleEmptyPayload, 0, "empty body")
	case binaryBody:
		return parseBinaryPayload(body, fn)
	case v == V3:
		return parseTextPayloadV3(body, fn)
	}
	return parsePayloadV4(body, fn)
}

// DecodePayload is ParsePayload collecting the packets into a slice. On error
// it returns the packets decoded before the malformed record with the error.
func DecodePayload(v Version, body []byte, binaryBody bool) ([]Packet, error) {
	var pkts []Packet
	err := ParsePayload(v, body, binaryBody, func(p Packet) error {
		pkts = append(pkts, p)
		return nil
	})
	return pkts, err
}

func parsePayloadV4(body []byte, fn func(Packet) error) error {
	for off := 0; ; {
		rec := body[off:]
		end := bytes.IndexByte(rec, recordSeparator)
		if end >= 0 {
			rec = rec[:end]
		}
		p, err := parseText(V4, rec, off)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if end < 0 {
			return nil
		}
		off += end + 1
	}
}

func parseTextPayloadV3(body []byte, fn func(Packet) error) error {
	if string(body) == "0:" {
		return nil
	}
	for off := 0; off < len(body); {
		n, start, err := parseLengthV3(body, off)
		if err != nil {
			return err
		}
		if n == 0 {
			return newError(RuleEmptyPacket, off, "zero-length record")
		}
		end, rule := skipUTF16(body, start, n)
		switch rule {
		case RuleLengthMismatch:
			return newError(rule, off,
				fmt.Sprintf("length %d UTF-16 units runs past the body or splits a surrogate pair", n))
		case RuleBadUTF8:
			return newError(rule, end, "v3 text payloads must be UTF-8")
		}
		p, err := parseText(V3, body[start:end], start)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// parseLengthV3 reads "<digits>:" at off and returns the length and the
// offset just past the colon.
func parseLengthV3(body []byte, off int) (n, next int, err error) {
	return parseLength(body, off, '0', ':')
}

// parseLength reads a canonical decimal length at off, each digit a byte
// zero+0 to zero+9, up to the terminator term, and returns the length and
// the offset past term. The text framing ('0', ':') and the binary one
// (0, 0xFF) share it so that both apply the same rules.
func parseLength(body []byte, off int, zero, term byte) (n, next int, err error) {
	i := off
	for ; i < len(body) && body[i] != term; i++ {
		d := body[i] - zero // wraps above 9 for a byte below zero
		if d > 9 {
			if term == ':' {
				return 0, 0, newError(RuleBadLength, i, fmt.Sprintf("length contains %q", body[i]))
			}
			return 0, 0, newError(RuleBadLength, i, fmt.Sprintf("length digit byte 0x%02x", body[i]))
		}
		if i > off && body[off] == zero {
			return 0, 0, newError(RuleBadLength, off, "length has a leading zero")
		}
		// One UTF-16 unit (or byte) takes at least one byte, so a length
		// beyond the body is already wrong; stopping here also rules out
		// overflow.
		if n > (len(body)-int(d))/10 {
			return 0, 0, newError(RuleLengthMismatch, off, "length exceeds the body")
		}
		n = n*10 + int(d)
	}
	if i == len(body) || i == off {
		name := "':'"
		if term != ':' {
			name = "0xFF"
		}
		if i == len(body) {
			return 0, 0, newError(RuleBadLength, off, "length not terminated by "+name)
		}
		return 0, 0, newError(RuleBadLength, off, "missing length before "+name)
	}
	return n, i + 1, nil
}

// skipUTF16 returns the offset n UTF-16 code units after start, counting as
// JavaScript's String.length does. On failure rule names the problem and end
// is where it was found: RuleLengthMismatch if the body ends first or unit n
// falls inside a surrogate pair, RuleBadUTF8 for bytes that are not UTF-8.
// Such bytes have no agreed length (Node would count the U+FFFD it replaces
// them with), and accepting them would let a body cut inside a character
// pass for a whole packet.
func skipUTF16(b []byte, start, n int) (end int, rule string) {
	i := start
	for n > 0 {
		// ASCII is one unit per byte: skip runs of it without decoding.
		k := asciiPrefix(b[i:min(len(b), i+n)])
		n -= k
		i += k
		if n == 0 {
			break
		}
		if i >= len(b) {
			return i, RuleLengthMismatch
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i, RuleBadUTF8
		}
		units := 1
		if r > 0xffff {
			units = 2
		}
		if units > n {
			return i, RuleLengthMismatch
		}
		i += size
		n -= units
	}
	return i, ""
}

// utf16Len counts b in UTF-16 code units. It cannot fail, so a byte that is
// not UTF-8 counts as one unit; the decoder rejects such payloads anyway.
func utf16Len(b []byte) int {
	n := len(b)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i += asciiPrefix(b[i:])
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		n -= size - 1
		if r > 0xffff {
			n++
		}
	}
	return n
}

// asciiPrefix returns the length of the leading run of ASCII bytes in b,
// eight bytes at a time since event JSON is mostly ASCII.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	return i
}

func parseBinaryPayload(body []byte, fn func(Packet) error) error {
	for off := 0; off < len(body); {
		kind := body[off]
		if kind > 1 {
			return newError(RuleBadKind, off, fmt.Sprintf("kind byte 0x%02x", kind))
		}
		n, start, err := parseLengthBinary(body, off+1)
		if err != nil {
			return err
		}
		if n == 0 {
			return newError(RuleEmptyPacket, off, "zero-length record")
		}
		if n > len(body)-start {
			return newError(RuleLengthMismatch, off, fmt.Sprintf("length %d runs past the body", n))
		}
		rec := body[start : start+n]
		var p Packet
		if kind == 0 {
			// Node would accept the b<type><base64> form here too, but the
			// encoder never writes it, so accepting it would break the
			// one-encoding rule.
			if !isTypeDigit(rec[0]) {
				return newError(RuleBadType, start, fmt.Sprintf("type %q", rec[0]))
			}
			p = Packet{Type: PacketType(rec[0] - '0'), Data: rec[1:]}
		} else {
			if rec[0] > byte(Noop) {
				return newError(RuleBadType, start, fmt.Sprintf("binary type byte 0x%02x", rec[0]))
			}
			p = Packet{Type: PacketType(rec[0]), Binary: true, Data: rec[1:]}
		}
		if err := fn(p); err != nil {
			return err
		}
		off = start + n
	}
	return nil
}

// parseLengthBinary reads the length digits (byte values 0-9) at off up to
// the 0xFF terminator and returns the length and the offset past 0xFF.
func parseLengthBinary(body []byte, off int) (n, next int, err error) {
	return parseLength(body, off, 0, 0xff)
}
