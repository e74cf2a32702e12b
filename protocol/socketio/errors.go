package socketio

import "strconv"

// Rule tokens name the wire rule an input broke. They are stable: conformance
// reports and tests compare them, so they are never reworded.
const (
	// RuleBadVersion: a Version other than V4 or V5.
	RuleBadVersion = "sio_bad_version"
	// RuleBadType: the packet is empty or its first byte is not '0'..'6'.
	RuleBadType = "sio_bad_type"
	// RuleBadAttachments: a binary packet whose attachment count is missing,
	// not decimal digits, not followed by '-', or zero; or a non-binary
	// packet that declares attachments.
	RuleBadAttachments = "sio_bad_attachments"
	// RuleTooManyAttachments: an attachment count above the decoder's limit.
	RuleTooManyAttachments = "sio_too_many_attachments"
	// RuleBadNamespace: a namespace that does not start with '/' or cannot
	// be framed (it contains ','), or a query where none may be.
	RuleBadNamespace = "sio_bad_namespace"
	// RuleBadID: an ack id that overflows int64, is negative, belongs to a
	// packet type that has no acks, or has whitespace in its position.
	RuleBadID = "sio_bad_id"
	// RuleBadJSON: a payload that is not valid JSON.
	RuleBadJSON = "sio_bad_json"
	// RuleBadPayload: valid JSON of the wrong shape for the packet type, or
	// a payload missing or present where the type forbids it.
	RuleBadPayload = "sio_bad_payload"
	// RuleReservedEvent: an EVENT named after one of Node's reserved events.
	RuleReservedEvent = "sio_reserved_event"
	// RuleUnexpectedText: a text message while attachments were expected.
	RuleUnexpectedText = "sio_unexpected_text"
	// RuleUnexpectedBinary: a binary message while none was expected.
	RuleUnexpectedBinary = "sio_unexpected_binary"
	// RuleBadPlaceholder: a placeholder whose num is not a plain
	// non-negative integer, is out of range or repeats, or an attachment no
	// placeholder refers to.
	RuleBadPlaceholder = "sio_bad_placeholder"
)

// Error is the error returned for every malformed packet. Callers that need
// to tell failures apart use errors.As and compare Rule with the Rule
// constants; Detail is for humans and may change.
type Error struct {
	Rule   string // stable token naming the rule broken, one of the Rule constants
	Offset int    // byte offset of the problem in the message parsed (the header for placeholders), Packet.Data when encoding, or the payload given to a helper
	Detail string // short human-readable detail
}

// Error formats the error as "socketio: <rule>: <detail> (offset N)".
func (e *Error) Error() string {
	return "socketio: " + e.Rule + ": " + e.Detail + " (offset " + strconv.Itoa(e.Offset) + ")"
}

func newError(rule string, offset int, detail string) *Error {
	return &Error{Rule: rule, Offset: offset, Detail: detail}
}

func badVersion(v Version) *Error {
	return newError(RuleBadVersion, 0, "unsupported version "+v.String())
}

// asError converts without producing a non-nil error interface holding a
// nil *Error.
func asError(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
