// Package engineio is the Engine.IO wire codec for protocol revisions 4 and 3.
//
// It owns the bytes only: packet types, WebSocket frame and HTTP long-polling
// payload framing, and the open-packet handshake JSON. It does no I/O and
// keeps no session state; transports move the bytes and the client drives the
// session (heartbeats, upgrades, close) on top of this package.
//
// # Framing
//
// A packet is a type digit '0'..'6' followed by optional data
// (engine.io-protocol v4, "Protocol"). Over WebSocket every frame carries exactly one packet
// (AppendFrame, ParseFrame). Over long-polling a body carries a payload of
// one or more packets (AppendPayload, AppendBinaryPayload, ParsePayload):
//
//	v4 text:   4hello\x1e2\x1ebAQIDBA==      records joined by 0x1e, binary as b<base64>
//	v3 text:   6:4hello2:4€10:b4AQIDBA==     <len>:<packet>, len in UTF-16 code units
//	v3 binary: 00 06 FF 34 68 65 6C 6C 6F …  XHR2 form, application/octet-stream
//
// Binary data in a v4 WebSocket frame has no type byte; in v3 it starts with
// the type as a byte value (0x04 for a message). See engine.io-protocol v4,
// "Packet encoding", and v3, "Encoding" and "Payload".
//
// # Ownership
//
// Decoded packets alias the input they were parsed from, so they are valid
// only while the caller leaves that buffer alone. Base64 binary data is the
// one exception: it is decoded into a new slice. Encoders follow the append
// convention and never retain dst.
//
// # Errors and strictness
//
// Every decoding failure is an *Error carrying a stable Rule token and the
// byte offset where it was found. The Node reference server closes the
// session on any of them ("parse error"), so callers should treat them as
// session-fatal.
//
// The decoders accept exactly the canonical encoding: whatever they accept,
// the matching encoder reproduces byte for byte. Node is more lenient in a
// few places, which a conformance tool needs to know:
//
//   - base64 must be standard, padded, without line breaks and with zero
//     trailing bits (Node also accepts URL-safe and unpadded input);
//   - v3 length prefixes must be canonical decimal (Node's Number() also
//     accepts leading zeros, spaces and hex);
//   - a v3 text payload must be valid UTF-8, since its lengths count UTF-16
//     units (Node counts the U+FFFD it substitutes);
//   - a v3 record of length zero is an error, except that the whole body
//     "0:" is the empty payload Node sends for an empty packet list
//     (Node skips such records anywhere);
//   - a string record in a v3 binary payload must not use the b<type><base64>
//     form, and kind bytes other than 0x00 and 0x01 are errors.
//
// No input makes a decoder panic, and length fields are checked against the
// remaining input before anything is sliced or allocated.
package engineio
