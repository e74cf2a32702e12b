package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Version is an Engine.IO protocol revision; it picks the framing.
//
// Decoders reject values other than V3 and V4 with RuleBadVersion. Encoders
// cannot fail, so they treat every value other than V3 as V4.
type Version uint8

// The protocol revisions this package speaks.
const (
	V3 Version = 3 // engine.io 3.x (Socket.IO 2.x), and Node's allowEIO3 mode
	V4 Version = 4 // engine.io 4 and later (Socket.IO 3 and later)
)

// String returns the version in decimal, the form sent as the EIO query value.
func (v Version) String() string { return strconv.Itoa(int(v)) }

func (v Version) valid() bool { return v == V3 || v == V4 }

// PacketType is the kind of an Engine.IO packet. On the wire it is the ASCII
// digit '0'+type in text, or the byte value itself in v3 binary forms.
type PacketType uint8

// The packet types of engine.io-protocol v4 ("Protocol"); v3 and v4 share them.
const (
	Open    PacketType = iota // server→client handshake; Data is the JSON of a Handshake
	Close                     // either side ends the session
	Ping                      // heartbeat (server→client in v4, client→server in v3), and "2probe"
	Pong                      // heartbeat answer, and "3probe"
	Message                   // application data
	Upgrade                   // client→server, completes a transport upgrade
	Noop                      // server→client, releases a pending polling GET
)

var packetTypeNames = [...]string{
	Open:    "open",
	Close:   "close",
	Ping:    "ping",
	Pong:    "pong",
	Message: "message",
	Upgrade: "upgrade",
	Noop:    "noop",
}

// String returns the lower-case name of the type, or "unknown(N)".
func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// Digit returns the ASCII digit that starts the text form of a packet of
// type t: servers and clients that build frames in their own buffers
// write it rather than a hand-written '4'.
func (t PacketType) Digit() byte { return '0' + byte(t) }

// Packet is one Engine.IO packet.
//
// Decoders return packets whose Data aliases the input they parsed, except
// data decoded from base64, which is freshly allocated. Copy Data before
// reusing the input buffer.
type Packet struct {
	Type PacketType

	// Binary reports that Data is binary rather than text. The v4 binary
	// forms carry no type, so in v4 only a Message can be binary and
	// encoders ignore Binary on other types. The v3 binary forms carry the
	// type, so there any type can be binary, and decoders report it so that
	// re-encoding reproduces the input.
	Binary bool

	// Data is what follows the type character, or the raw binary bytes.
	// It may be empty.
	Data []byte
}

// AppendFrame appends p as the payload of one WebSocket frame and reports
// whether it must be sent as a binary frame rather than a text frame.
//
// Text packets become "<type digit><data>". A binary v4 message is its raw
// bytes, with no type byte; a binary v3 packet is its type as a byte value
// followed by the data (04 01 02 03 04 for the message 01 02 03 04).
//
// p.Type is not validated: an out-of-range type yields a frame that peers
// reject, which lets conformance tests build invalid frames with the same
// encoder.
func AppendFrame(dst []byte, v Version, p Packet) (frame []byte, binaryFrame bool) {
	switch {
	case p.Binary && v == V3:
		return append(append(dst, byte(p.Type)), p.Data...), true
	case p.Binary && p.Type == Message:
		return append(dst, p.Data...), true
	}
	return append(append(dst, p.Type.Digit()), p.Data...), false
}

// ParseFrame decodes the payload of one WebSocket frame; binaryFrame reports
// the frame's opcode. It never splits a frame: "4a\x1e4b" is one message.
//
// A text frame starting with 'b' is a base64 binary packet ("b<base64>" in
// v4, "b<type digit><base64>" in v3), as Node sends when the client asked for
// b64. Its data is decoded into a new slice, and AppendFrame would send the
// packet back as a binary frame. In every other case Data aliases frame and
// nothing is allocated.
//
// A v4 binary frame is always a binary Message, and may be empty. A v3 binary
// frame must start with a type byte 0x00..0x06.
func ParseFrame(v Version, frame []byte, binaryFrame bool) (Packet, error) {
	if !v.valid() {
		return Packet{}, badVersion(v)
	}
	if !binaryFrame {
		return parseText(v, frame, 0)
	}
	if v == V4 {
		return Packet{Type: Message, Binary: true, Data: frame}, nil
	}
	if len(frame) == 0 {
		return Packet{}, newError(RuleEmptyPacket, 0, "empty binary frame has no type byte")
	}
	if frame[0] > byte(Noop) {
		return Packet{}, newError(RuleBadType, 0, fmt.Sprintf("binary type byte 0x%02x", frame[0]))
	}
	return Packet{Type: PacketType(frame[0]), Binary: true, Data: frame[1:]}, nil
}

// appendText appends the text form of p: the form of a polling record, and
// of a WebSocket text frame when binary data must travel as base64.
func appendText(dst []byte, v Version, p Packet) []byte {
	if p.Binary && (v == V3 || p.Type == Message) {
		dst = append(dst, 'b')
		if v == V3 {
			dst = append(dst, p.Type.Digit())
		}
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	return append(append(dst, p.Type.Digit()), p.Data...)
}

// parseText decodes the text form of one packet. off is the offset of b in
// the caller's input, so errors point into what the caller holds.
func parseText(v Version, b []byte, off int) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, newError(RuleEmptyPacket, off, "empty packet")
	}
	if b[0] == 'b' {
		return parseBase64Packet(v, b, off)
	}
	if !isTypeDigit(b[0]) {
		return Packet{}, newError(RuleBadType, off, fmt.Sprintf("type %q", b[0]))
	}
	return Packet{Type: PacketType(b[0] - '0'), Data: b[1:]}, nil
}

func parseBase64Packet(v Version, b []byte, off int) (Packet, error) {
	t, skip := Message, 1
	if v == V3 {
		if len(b) < 2 || !isTypeDigit(b[1]) {
			return Packet{}, newError(RuleBadType, off+1, "v3 base64 packet needs a type digit after 'b'")
		}
		t, skip = PacketType(b[1]-'0'), 2
	}
	data, err := decodeBase64(b[skip:], off+skip)
	if err != nil {
		return Packet{}, err
	}
	return Packet{Type: t, Binary: true, Data: data}, nil
}

func isTypeDigit(c byte) bool { return c >= '0' && c <= '0'+byte(Noop) }

// strictBase64 rejects non-zero trailing bits, so that each byte string has
// exactly one accepted encoding and decode→encode is the identity.
var strictBase64 = base64.StdEncoding.Strict()

func decodeBase64(src []byte, off int) ([]byte, error) {
	// encoding/base64 skips CR and LF even in strict mode; they would make
	// the accepted form ambiguous.
	if i := bytes.IndexAny(src, "\r\n"); i >= 0 {
		return nil, newError(RuleBadBase64, off+i, "line break in base64")
	}
	dst := make([]byte, strictBase64.DecodedLen(len(src)))
	n, err := strictBase64.Decode(dst, src)
	if err != nil {
		at := 0
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			at = int(ce)
		}
		return nil, newError(RuleBadBase64, off+at, "invalid standard padded base64")
	}
	return dst[:n:n], nil
}
