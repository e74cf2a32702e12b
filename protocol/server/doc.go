// Package server is siokit's built-in Socket.IO server: Engine.IO v4 over
// HTTP long-polling and WebSocket, with Socket.IO v5 namespaces, events,
// acknowledgements both ways, binary attachments and rooms on top. It is the
// target `sioload serve` runs and the in-process target of scenarios that name
// none, so it is built for many connections rather than for features.
//
// It owns the session state machine (handshake, polling request rules,
// upgrade probe, heartbeat, close) and the Socket.IO layer (namespace
// CONNECT with middleware, dispatch, acks, rooms, broadcast). The bytes are
// left to protocol/engineio and protocol/socketio; HTTP and WebSocket to
// fasthttp and fasthttp/websocket. The rules followed are those of
// engine.io-protocol v4 and socket.io-protocol v5 and, where they are
// silent, the reference's (docs/conformance-cases.md), with Node's status
// codes and JSON error bodies (engine.io lib/server.ts).
//
// # Concurrency
//
// A WebSocket connection has one goroutine, its reader, which decodes and
// runs handlers in arrival order; a long-polling session runs its handlers on
// the goroutine of the POST that carried the packets (POSTs of one session
// never overlap: a second concurrent one closes the session, as in Node).
// A handler that blocks therefore stalls its own connection and no other.
//
// Writes go through a per-session queue. Whoever finds a WebSocket queue idle
// writes it out and keeps writing until it is empty; other emitters just
// append and return, so writes are serialized without a writer goroutine.
// Over polling the queue waits for the pending GET.
//
// All heartbeats, connect timeouts, upgrade timeouts and server-side ack
// timeouts of all sessions are driven by one scheduler goroutine holding one
// heap entry per session, instead of timers per session.
//
// # Buffers
//
// Outgoing packets are encoded into pooled, reference-counted buffers; a
// broadcast is encoded once and the same buffer is queued on every member.
// A Message given to a handler aliases the connection's read buffer and is
// valid only during the call: Clone it to keep it. Binary attachments passed to
// Emit are sent from the caller's slices; do not modify them afterwards.
//
// # Closing
//
// As in Node, a polling session the server closes (Socket.Disconnect(true),
// Session.Close, the connect timeout, a Socket.IO protocol violation, server
// shutdown) keeps its sid until a GET takes the close packet ("1" to a GET
// pending then, else "6\x1e1" to the next one) or CloseTimeout passes. One
// the client ends at the Engine.IO level (its close packet, a ping timeout,
// a transport error, an undecodable payload) is dropped at once: a pending
// GET gets a noop after the client's close packet and the close packet
// otherwise, and later requests get 400 "Session ID unknown".
//
// # Differences from Node
//
// Deliberate or known differences, each commented where the rule lives:
// CONNECT is handled synchronously (Node's "event before the
// CONNECT reply" race does not exist here), a close packet on a WebSocket
// closes the session (the spec; Node ignores it), a second WebSocket for a
// WebSocket-only session is refused (Node lets it take over), a GET pending
// when the upgrade completes is answered with a noop (Node answers a close),
// an aborted GET is not detected before the
// heartbeat, WebSocket writes have a deadline (WriteTimeout) where Node
// buffers without limit, polling responses are never compressed, and there
// is no connection state recovery, no EIO3 and no allowRequest hook.
package server
