package socketio

import (
	"strconv"
	"strings"
)

// AppendPacket appends the text of p for version v to dst:
//
//	<type>[<attachments>-][<namespace>[?<query>],][<id>][<data>]
//
// The main namespace ("/" or "") is omitted. For the binary types the count
// written is len(p.Buffers) when Buffers is non-nil, else p.Attachments; the
// attachments themselves are for the caller to send, one binary message each
// after the packet.
//
// p is validated first and nothing is appended when it is invalid: the type
// is known; the namespace starts with '/' and has no ','; a query only on a
// v4 CONNECT; the id is NoID or, on EVENT, ACK and their binary forms, not
// negative; only binary packets have attachments, at least one; Data is valid
// JSON with no leading whitespace; and Data has the shape of the type:
// CONNECT an object (v5) or nothing (v4), DISCONNECT nothing, EVENT an array
// starting with a number or a string (not reserved in v5), ACK an array,
// CONNECT_ERROR an object (v5) or an object or string (v4). The placeholders
// of a binary packet refer to each attachment exactly once.
//
// Decoders are more lenient than this, as Node is: they accept EVENT, ACK
// and CONNECT_ERROR packets without payload and v5 CONNECT_ERROR strings.
func AppendPacket(dst []byte, v Version, p *Packet) ([]byte, error) {
	if err := validate(v, p); err != nil {
		return dst, err
	}
	return appendPacket(dst, p), nil
}

// Encoder writes packets for one protocol version.
type Encoder struct {
	Version Version
	// AllowIllegalWrites turns off every check of AppendPacket, so that a
	// conformance tool can send packets a peer must refuse: wrong
	// attachment counts, bad namespaces, negative ids, non-array events.
	// Fields are then written as they are: the type in decimal, the
	// attachment count whenever the type is binary or the count non-zero,
	// the namespace unless it is "/" or "", the id unless it is NoID, and
	// Data verbatim.
	AllowIllegalWrites bool
}

// Append appends the text of p to dst as AppendPacket does for e.Version,
// or without any check when e.AllowIllegalWrites is set.
func (e *Encoder) Append(dst []byte, p *Packet) ([]byte, error) {
	if e.AllowIllegalWrites {
		return appendPacket(dst, p), nil
	}
	return AppendPacket(dst, e.Version, p)
}

func appendPacket(dst []byte, p *Packet) []byte {
	dst = strconv.AppendUint(dst, uint64(p.Type), 10)
	if n := attachmentCount(p); p.Type.binary() || n != 0 {
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '-')
	}
	if !isMain(p.Namespace) || p.Query != "" {
		if p.Namespace == "" {
			dst = append(dst, '/')
		}
		dst = append(dst, p.Namespace...)
		if p.Query != "" {
			dst = append(dst, '?')
			dst = append(dst, p.Query...)
		}
		dst = append(dst, ',')
	}
	if p.ID != NoID {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

func attachmentCount(p *Packet) int {
	if p.Buffers != nil {
		return len(p.Buffers)
	}
	return p.Attachments
}

func isMain(nsp string) bool { return nsp == "/" || nsp == "" }

func validate(v Version, p *Packet) *Error {
	if !v.valid() {
		return badVersion(v)
	}
	if !p.Type.valid() {
		return newError(RuleBadType, 0, "unknown packet type "+p.Type.String())
	}
	if err := validateNamespace(v, p); err != nil {
		return err
	}
	switch {
	case p.ID == NoID:
	case p.ID < 0:
		return newError(RuleBadID, 0, "negative ack id")
	case !p.Type.acked():
		return newError(RuleBadID, 0, p.Type.String()+" cannot carry an ack id")
	}
	n := attachmentCount(p)
	switch {
	case p.Type.binary() && n < 1:
		return newError(RuleBadAttachments, 0, "a binary packet needs at least one attachment")
	case !p.Type.binary() && n != 0:
		return newError(RuleBadAttachments, 0, p.Type.String()+" cannot carry attachments")
	}
	if err := validateData(v, p); err != nil {
		return err
	}
	if p.Type.binary() {
		return checkPlaceholders(p.Data, n)
	}
	return nil
}

func validateNamespace(v Version, p *Packet) *Error {
	if !isMain(p.Namespace) && (p.Namespace[0] != '/' || strings.IndexByte(p.Namespace, ',') >= 0) {
		return newError(RuleBadNamespace, 0, "namespace must start with '/' and not contain ','")
	}
	if v == V4 && p.Type == Connect {
		// The receiver splits the namespace at its first '?'.
		if strings.IndexByte(p.Namespace, '?') >= 0 || strings.IndexByte(p.Query, ',') >= 0 {
			return newError(RuleBadNamespace, 0, "v4 CONNECT namespace with '?' or query with ','")
		}
		return nil
	}
	if p.Query != "" {
		return newError(RuleBadNamespace, 0, "only a v4 CONNECT carries a namespace query")
	}
	return nil
}

func validateData(v Version, p *Packet) *Error {
	if len(p.Data) == 0 {
		// The spec requires these payloads even though Node accepts
		// their absence.
		switch p.Type {
		case Event, Ack, ConnectError, BinaryEvent, BinaryAck:
			return newError(RuleBadPayload, 0, p.Type.String()+" requires a payload")
		}
		return nil
	}
	// A receiver would read leading whitespace as part of the ack id.
	if isSpace(p.Data[0]) {
		return newError(RuleBadJSON, 0, "payload starts with whitespace")
	}
	if off, ok := validJSON(p.Data); !ok {
		return newError(RuleBadJSON, off, "payload is not valid JSON")
	}
	if v == V5 && p.Type == ConnectError && p.Data[0] != '{' {
		return newError(RuleBadPayload, 0, "CONNECT_ERROR payload must be an object")
	}
	return payloadChecks[p.Type](v, p.Data)
}
