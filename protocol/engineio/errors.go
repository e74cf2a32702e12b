package engineio

import "strconv"

// Rule tokens name the wire rule an input broke. They are stable: conformance
// reports and tests compare them, so they are never reworded.
const (
	// RuleBadVersion: a decoder was given a Version other than V3 or V4.
	RuleBadVersion = "eio_bad_version"
	// RuleEmptyPayload: a polling body with no bytes at all.
	RuleEmptyPayload = "eio_empty_payload"
	// RuleEmptyPacket: a packet with no type, such as an empty text frame or
	// the empty record left by a leading, trailing or doubled 0x1e.
	RuleEmptyPacket = "eio_empty_packet"
	// RuleBadType: the type is not '0'..'6' (text) or 0x00..0x06 (v3 binary).
	RuleBadType = "eio_bad_type"
	// RuleBadBase64: a b-prefixed packet whose data is not standard padded
	// base64 in its canonical form.
	RuleBadBase64 = "eio_bad_base64"
	// RuleBadLength: a v3 length prefix that is not canonical decimal
	// followed by ':' (text) or 0xFF (binary).
	RuleBadLength = "eio_bad_length"
	// RuleLengthMismatch: a v3 length that runs past the end of the body or
	// ends inside a UTF-16 surrogate pair.
	RuleLengthMismatch = "eio_length_mismatch"
	// RuleBadUTF8: a v3 text payload that is not valid UTF-8, so its UTF-16
	// lengths are undefined.
	RuleBadUTF8 = "eio_bad_utf8"
	// RuleBadKind: a v3 binary payload record whose kind byte is not 0x00
	// (string) or 0x01 (binary).
	RuleBadKind = "eio_bad_kind"
	// RuleBinaryPayloadV4: a v4 polling body sent as application/octet-stream,
	// which v4 forbids (Node answers 400 and closes the session).
	RuleBinaryPayloadV4 = "eio_binary_payload_v4"
	// RuleBadHandshake: open-packet data that is not a valid handshake object.
	RuleBadHandshake = "eio_bad_handshake"
)

// Error is the error returned for every malformed input. Callers that need
// to tell failures apart use errors.As and compare Rule with the Rule
// constants; Detail is for humans and may change.
type Error struct {
	Rule   string // stable token naming the rule broken, one of the Rule constants
	Offset int    // byte offset in the input where the problem was found
	Detail string // short human-readable detail
}

// Error formats the error as "engineio: <rule>: <detail> (offset N)".
func (e *Error) Error() string {
	return "engineio: " + e.Rule + ": " + e.Detail + " (offset " + strconv.Itoa(e.Offset) + ")"
}

func newError(rule string, offset int, detail string) *Error {
	return &Error{Rule: rule, Offset: offset, Detail: detail}
}

func badVersion(v Version) *Error {
	return newError(RuleBadVersion, 0, "unsupported version "+v.String())
}
