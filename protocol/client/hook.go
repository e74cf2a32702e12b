package client

import (
	"fmt"
	"time"
)

// Kind names a phase of a client's life that a Hook can observe.
type Kind uint8

// Observable phases.
const (
	// KindHandshake: the Engine.IO open packet arrived. Duration is the
	// handshake time, SID the Engine.IO session id.
	KindHandshake Kind = iota + 1
	// KindUpgrade: the transport moved to WebSocket (Err nil) or the
	// attempt failed (Err set, session stays on polling). Duration covers
	// the WebSocket dial, the probe and the upgrade packet.
	KindUpgrade
	// KindConnect: a namespace CONNECT was answered. Duration is from
	// sending CONNECT; Recovered is true when the server restored the
	// previous session (connection state recovery).
	KindConnect
	// KindConnectError: the server refused a namespace (CONNECT_ERROR).
	KindConnectError
	// KindEmit: an event left the client. ID is its ack id or -1.
	KindEmit
	// KindAck: the answer to one of our acks arrived; Duration is the
	// round trip.
	KindAck
	// KindAckTimeout: an ack did not arrive before its deadline.
	KindAckTimeout
	// KindAckSent: we answered a server-initiated ack.
	KindAckSent
	// KindPacket: an Engine.IO packet arrived (Type, Bytes, Binary).
	KindPacket
	// KindNamespaceDisconnect: a namespace ended (server DISCONNECT or
	// our Disconnect); Reason says which.
	KindNamespaceDisconnect
	// KindDisconnect: the Engine.IO session ended; Reason is the
	// reference client's reason string and Err the underlying error.
	KindDisconnect
	// KindReconnectAttempt: a reconnection attempt starts after Delay;
	// Err is why the previous attempt failed (nil for the first).
	KindReconnectAttempt
	// KindReconnect: a reconnection attempt succeeded; Duration is from
	// the disconnect to the new handshake.
	KindReconnect
	// KindReconnectFailed: reconnection gave up after Attempt attempts.
	KindReconnectFailed
	// KindDone: the connection is finished for good and Done is closed
	// (closed by Close, or the session ended with no reconnection to
	// come); Err is Conn.Err. Observers that would otherwise park a
	// goroutine on Done per connection can act on this instead.
	KindDone
)

var kindNames = [...]string{
	KindHandshake: "handshake", KindUpgrade: "upgrade", KindConnect: "connect",
	KindConnectError: "connect_error", KindEmit: "emit", KindAck: "ack",
	KindAckTimeout: "ack_timeout", KindAckSent: "ack_sent", KindPacket: "packet",
	KindNamespaceDisconnect: "namespace_disconnect", KindDisconnect: "disconnect",
	KindReconnectAttempt: "reconnect_attempt", KindReconnect: "reconnect",
	KindReconnectFailed: "reconnect_failed", KindDone: "done",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one observation. Fields that do not apply to a Kind are zero.
// It is passed by value so that observing costs no allocation.
type Event struct {
	Kind      Kind
	Time      time.Time     // when it happened
	Duration  time.Duration // elapsed time of the phase, where one applies
	Conn      *Conn
	Transport string // "polling" or "websocket"
	SID       string // Engine.IO sid (handshake) or Socket.IO sid (connect)
	Namespace string
	Name      string // event name (emit)
	ID        int64  // ack id, -1 when none
	Type      uint8  // Engine.IO packet type (KindPacket)
	Bytes     int    // packet size (KindPacket, KindEmit)
	Binary    bool
	Recovered bool
	Attempt   int
	Delay     time.Duration
	Reason    string
	Err       error
}

// Hook receives every Event of the connections it is given to. It is
// called synchronously, mostly on the reader goroutine, so it must be
// fast and must not call back into the client; it may be shared by many
// connections and must then be safe for concurrent use.
type Hook interface {
	Observe(Event)
}

// HookFunc adapts a function to Hook.
type HookFunc func(Event)

// Observe calls f(e).
func (f HookFunc) Observe(e Event) { f(e) }
