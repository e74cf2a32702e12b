package socketio

import (
	"bytes"
	"math"
	"strconv"
)

// ParsePacket decodes one packet from s, the text of one Engine.IO message,
// and checks its payload. It accepts what Node's socket.io-parser 4.2.7 (v5)
// or 3.4.x (v4, socket.io-protocol v4) accepts, except where the package
// documentation lists a stricter rule, and refuses attachment counts above
// DefaultMaxAttachments. Placeholders are checked by the Decoder once the
// attachments have arrived; Buffers is left nil.
//
// Data aliases s. A packet for the main namespace costs no allocation;
// another namespace costs one string.
func ParsePacket(v Version, s []byte) (Packet, error) {
	p, err := parse(v, s, DefaultMaxAttachments)
	return p, asError(err)
}

// parse follows Node's decodeString: type, attachments, namespace, ack id,
// then whatever remains is the JSON payload.
func parse(v Version, s []byte, maxAttachments int) (Packet, *Error) {
	if !v.valid() {
		return Packet{}, badVersion(v)
	}
	if len(s) == 0 {
		return Packet{}, newError(RuleBadType, 0, "empty packet")
	}
	if s[0] < '0' || s[0] > '6' {
		return Packet{}, newError(RuleBadType, 0, "unknown packet type "+strconv.Quote(string(s[:1])))
	}
	p := Packet{Type: PacketType(s[0] - '0'), Namespace: "/", ID: NoID}
	i := 1

	if p.Type.binary() {
		n, end, err := parseAttachments(s, i, maxAttachments)
		if err != nil {
			return Packet{}, err
		}
		p.Attachments, i = n, end
	}

	// The namespace runs to the next ',' or, as Node reads it, to the end of
	// the message: "0/random" names /random.
	if i < len(s) && s[i] == '/' {
		end := len(s)
		if j := bytes.IndexByte(s[i:], ','); j >= 0 {
			end = i + j
		}
		nsp := s[i:end]
		if v == V4 && p.Type == Connect {
			if q := bytes.IndexByte(nsp, '?'); q >= 0 {
				p.Query = string(nsp[q+1:])
				nsp = nsp[:q]
			}
		}
		if len(nsp) > 1 {
			p.Namespace = string(nsp)
		}
		i = min(end+1, len(s))
	}

	// Node reads the ack id as the run of characters c with Number(c) == c,
	// which holds for whitespace too: "2 1[…]" has id 1 and "2 […]" id 0.
	idStart := i
	for i < len(s) && (isDigit(s[i]) || isSpace(s[i]) || s[i] == '\v' || s[i] == '\f') {
		i++
	}
	idEnd := i

	if i < len(s) {
		data := s[i:]
		if off, ok := validJSON(data); !ok {
			return Packet{}, newError(RuleBadJSON, i+off, "payload is not valid JSON")
		}
		if err := payloadChecks[p.Type](v, data); err != nil {
			err.Offset += i
			return Packet{}, err
		}
		p.Data = data
	}

	// Node accepts the packet; the ack id rules below are this package's.
	if idStart < idEnd {
		id, err := parseID(s, idStart, idEnd)
		if err != nil {
			return Packet{}, err
		}
		if !p.Type.acked() {
			return Packet{}, newError(RuleBadID, idStart, p.Type.String()+" cannot carry an ack id")
		}
		p.ID = id
	}
	return p, nil
}

// parseID converts the ack id s[i:end], refusing the whitespace Node lets
// in and values beyond int64.
func parseID(s []byte, i, end int) (int64, *Error) {
	var id int64
	for j := i; j < end; j++ {
		if !isDigit(s[j]) {
			return 0, newError(RuleBadID, j, "whitespace in the ack id position")
		}
		d := int64(s[j] - '0')
		if id > (math.MaxInt64-d)/10 {
			return 0, newError(RuleBadID, i, "ack id overflows int64")
		}
		id = id*10 + d
	}
	return id, nil
}

// parseAttachments reads "<count>-" at s[i:] and returns the count and the
// offset after the '-'. Node reads everything up to '-' and converts it with
// Number(); only plain decimal digits are accepted here.
func parseAttachments(s []byte, i, maxAttachments int) (n, end int, err *Error) {
	dash := bytes.IndexByte(s[i:], '-')
	if dash < 0 {
		return 0, 0, newError(RuleBadAttachments, len(s), "attachment count not followed by '-'")
	}
	dash += i
	if dash == i || skipDigits(s, i) != dash {
		return 0, 0, newError(RuleBadAttachments, skipDigits(s, i), "attachment count is not a decimal number")
	}
	for _, c := range s[i:dash] {
		// Checked before and after the step so that no limit can overflow n.
		if n > maxAttachments/10 {
			return 0, 0, tooMany(i, maxAttachments)
		}
		if n = n*10 + int(c-'0'); n > maxAttachments || n < 0 {
			return 0, 0, tooMany(i, maxAttachments)
		}
	}
	// socket.io-parser 4.2.7 refuses 0; older parsers waited for an
	// attachment that never came, or passed the packet on at once.
	if n == 0 {
		return 0, 0, newError(RuleBadAttachments, i, "a binary packet needs at least one attachment")
	}
	return n, dash + 1, nil
}

func tooMany(off, limit int) *Error {
	return newError(RuleTooManyAttachments, off, "more than "+strconv.Itoa(limit)+" attachments")
}

// Decoder reassembles packets from a stream of Engine.IO messages: a binary
// packet's header is a text message, and each of its attachments is one of
// the binary messages that follow it.
//
// The zero value is not usable: set Version. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	Version Version
	// MaxAttachments caps the attachment count of a binary packet. Zero or
	// less means DefaultMaxAttachments.
	MaxAttachments int

	pending Packet // binary packet waiting for its attachments
	dataOff int    // offset of pending.Data in its header message
}

// Add feeds the decoder one Engine.IO message; binary tells a binary message
// from a text one. It returns done=true with the packet once one is
// complete: at once for a text packet of a non-binary type, and with the last
// attachment for a binary one.
//
// A packet completed by its own text message aliases msg, like ParsePacket.
// For a binary packet the decoder copies the header payload and every
// attachment, so the caller may reuse its buffers after each call.
//
// Errors are those of ParsePacket, RuleUnexpectedText for a text message
// while attachments are due (the message is dropped), RuleUnexpectedBinary
// for a binary message when none is, and RuleBadPlaceholder when the
// completed packet's placeholders do not refer to each attachment exactly
// once; the offset of such an error is in the header message. After an
// error the decoder is reset.
func (d *Decoder) Add(msg []byte, binary bool) (p Packet, done bool, err error) {
	var e *Error
	if d.pending.Attachments > 0 {
		p, done, e = d.attachment(msg, binary)
	} else {
		p, done, e = d.header(msg, binary)
	}
	if e != nil {
		d.Reset()
	}
	return p, done, asError(e)
}

func (d *Decoder) header(msg []byte, binary bool) (Packet, bool, *Error) {
	if binary {
		return Packet{}, false, newError(RuleUnexpectedBinary, 0, "binary message without a binary packet header")
	}
	limit := d.MaxAttachments
	if limit <= 0 {
		limit = DefaultMaxAttachments
	}
	p, err := parse(d.Version, msg, limit)
	if err != nil || !p.Type.binary() {
		return p, err == nil, err
	}
	d.dataOff = len(msg) - len(p.Data)
	p.Data = bytes.Clone(p.Data)
	p.Buffers = make([][]byte, 0, min(p.Attachments, DefaultMaxAttachments)) // a generous limit must not allocate up front
	d.pending = p
	return Packet{}, false, nil
}

func (d *Decoder) attachment(msg []byte, binary bool) (Packet, bool, *Error) {
	if !binary {
		return Packet{}, false, newError(RuleUnexpectedText, 0, "text message while attachments are due")
	}
	p := &d.pending
	p.Buffers = append(p.Buffers, append(make([]byte, 0, len(msg)), msg...)) // non-nil even when empty
	if len(p.Buffers) < p.Attachments {
		return Packet{}, false, nil
	}
	done, off := *p, d.dataOff
	d.Reset()
	if err := checkPlaceholders(done.Data, done.Attachments); err != nil {
		err.Offset += off
		return Packet{}, false, err
	}
	return done, true, nil
}

// Reset drops any partly received binary packet.
func (d *Decoder) Reset() { d.pending, d.dataOff = Packet{}, 0 }
