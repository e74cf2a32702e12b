package socketio

import "strconv"

// Version is a Socket.IO protocol revision.
type Version uint8

// The supported revisions: v5 rides on Engine.IO v4 (socket.io 3 and later),
// v4 on Engine.IO v3 (socket.io 1.0.3 to 2.x).
const (
	V4 Version = 4
	V5 Version = 5
)

// String returns the revision number, e.g. "5".
func (v Version) String() string { return strconv.Itoa(int(v)) }

func (v Version) valid() bool { return v == V4 || v == V5 }

// PacketType is the kind of a Socket.IO packet, written as the ASCII digit
// '0'+type at the start of the packet.
type PacketType uint8

// The packet types of socket.io-protocol v5 ("Exchange protocol"). Type 4 is called ERROR in v4.
const (
	Connect PacketType = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol name of t, or "UNKNOWN(N)" for values outside
// the protocol.
func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

func (t PacketType) valid() bool { return int(t) < len(typeNames) }

// binary reports whether packets of type t carry attachments.
func (t PacketType) binary() bool { return t == BinaryEvent || t == BinaryAck }

// acked reports whether packets of type t may carry an ack id: the requests
// (EVENT, BINARY_EVENT) and the replies (ACK, BINARY_ACK).
func (t PacketType) acked() bool { return t == Event || t == Ack || t.binary() }

// NoID marks a packet without an ack id.
const NoID int64 = -1

// DefaultMaxAttachments is the attachment limit of Node's socket.io-parser
// (4.2.6 and 3.4.4 onwards); a larger count is refused before any binary
// message is buffered.
const DefaultMaxAttachments = 10

// Packet is one Socket.IO packet: the text of one Engine.IO message plus, for
// the binary types, the attachments sent as the binary messages after it.
//
// On the wire: <type>[<attachments>-][<namespace>,][<id>][<JSON data>].
type Packet struct {
	Type PacketType
	// Namespace is "/" when absent on the wire. Encoders also treat "" as "/".
	Namespace string
	// Query is the namespace query of a v4 CONNECT without its '?', e.g.
	// "token=1" from "0/admin?token=1,". Socket.IO v4 clients send their auth
	// this way; v5 moved it into the CONNECT payload.
	Query string
	// ID is the ack id, or NoID. Ids are non-negative and fit int64.
	ID int64
	// Attachments is the attachment count declared by a binary packet.
	Attachments int
	// Data is the JSON payload exactly as on the wire, placeholders
	// included, or nil when absent. Decoded packets alias their input.
	Data []byte
	// Buffers are the attachments of a binary packet in placeholder order.
	// The Decoder fills them; encoders count them and leave sending them,
	// one binary message each after the packet, to the caller.
	Buffers [][]byte
}
