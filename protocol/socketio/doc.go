// Package socketio is the Socket.IO packet codec for protocol revisions 5
// and 4.
//
// It owns the text of a Socket.IO packet and the placeholder scheme that ties
// a binary packet to its attachments: packet types, the header grammar,
// payload shape rules, reassembly of attachments, and helpers between Go
// values and JSON payloads. It knows nothing of Engine.IO: a packet is the
// data of one Engine.IO message, each attachment the data of one binary
// message after it, and the caller moves those messages (socket.io-protocol v5, "Sending and receiving data").
// It does no I/O and keeps no session state beyond the Decoder's partial
// packet.
//
// # Wire format
//
// A packet is <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
// (socket.io-parser lib/index.ts, decodeString):
//
//	0                                     CONNECT to /
//	0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"} CONNECT reply on /admin
//	2/admin,13["bar"]                     EVENT on /admin asking for ack 13
//	51-["baz",{"_placeholder":true,"num":0}]  BINARY_EVENT, one attachment follows
//
// Socket.IO v4 (socket.io 2.x, over Engine.IO v3) differs on the wire only
// in CONNECT, which has no payload and carries auth as a namespace query
// ("0/admin?token=1,", see Packet.Query), in CONNECT_ERROR payloads, which
// are usually plain strings, and in not reserving event names (§4).
//
// # Ownership
//
// ParsePacket's Data aliases its input. The Decoder copies what it must keep
// across messages: a binary packet's payload and its attachments. Encoders
// follow the append convention and never retain dst.
//
// # Strictness
//
// Every decoding failure is an *Error with a stable Rule token and the byte
// offset where it was found; Node closes the connection on any of them. The
// decoders accept what Node's socket.io-parser 4.2.7 accepts (3.4.x for v4),
// including its leniencies, which the encoder refuses: EVENT, ACK and
// CONNECT_ERROR without payload ("2", "31"), and string CONNECT_ERRORs in v5.
// They are stricter than Node where Node's behaviour is an accident of
// JavaScript or useless to a peer:
//
//   - whitespace where an ack id may stand is refused: Node's digit test
//     Number(c) == c holds for " ", so it reads "2 1[…]" as ack id 1;
//   - the type must be one of '0'..'6' (Node reads "" and " " as CONNECT);
//   - attachment counts and ack ids are ASCII decimal digits only (Node's
//     Number() also takes "+1", "0x1", "1e1"), and ids must fit int64 (Node
//     loses precision above 2^53);
//   - an ack id on CONNECT, DISCONNECT or CONNECT_ERROR is refused (Node
//     ignores it);
//   - a binary packet with zero attachments is refused in v4 too;
//   - a placeholder's num must be a plain non-negative integer, and every
//     attachment must be referenced exactly once (Node tolerates repeats and
//     unused attachments, and numbers like 1.0);
//   - payloads nested deeper than 1000 levels are refused.
//
// Where the Node parser's output is not canonical the encoder does not
// reproduce it: "0/admin" (no ',') and "2/,[…]" re-encode as "0/admin," and
// "2[…]", and leading zeros in counts and ids are dropped.
//
// # Target URLs
//
// ParseTarget reads the URL a user gives for a server, as the reference
// client's io(url) does: the path names the namespace, the query goes into
// every handshake, ws and wss mean http and https. Both tools and their
// engines read target URLs through it, so they agree on what one is.
package socketio
