// Package client is siokit's virtual Socket.IO client: one Engine.IO
// session ([Conn]) carrying any number of namespaces ([Socket]). It owns
// the session state machine (handshake, upgrade probe, heartbeat, close,
// reconnection with backoff, connection state recovery) and the Socket.IO
// layer on top (namespace connect, emit, acknowledgements both ways,
// binary attachments). The load runner and the conformance suite observe
// it through one [Hook] instead of re-implementing the protocol.
//
// # Transports
//
// [Options].Mode picks polling then upgrade (the reference client's
// default), polling only or WebSocket only. The upgrade is done at open
// time: handshake over polling, then the probe (2probe/3probe) and the
// upgrade packet on a new WebSocket, falling back to polling if the probe
// fails.
//
// # Concurrency
//
// Each Conn runs one goroutine, the reader, which decodes, dispatches and
// answers heartbeats; there is no writer goroutine and no timer per
// connection unless the protocol needs one (Engine.IO v3 client pings,
// pending acknowledgement deadlines). Handlers run on the reader
// goroutine, in arrival order: a handler that blocks stalls its
// connection, as in gorilla/websocket. Emit and friends are safe from any
// goroutine.
//
// # Buffers
//
// A [Message] handed to a handler aliases the connection's read buffer
// and is valid only during the call; call [Message.Clone] to keep it.
//
// # Heartbeat
//
// In Engine.IO v4 the server pings and the reader answers. The watchdog is
// the read deadline, pingInterval+pingTimeout after the last ping (or the
// open packet), as the spec and engine.io-client have it: only a ping
// renews it, so a server that keeps sending messages but stopped pinging
// is dropped for "ping timeout". On WebSocket the deadline moves when a
// ping arrives, not on every message; each polling GET ends at it.
// In v3 the client pings, pingInterval after the open and after each pong
// (the spec's rule, engine.io-client 3.x's setPing); any packet renews the
// deadline to pingInterval+pingTimeout, as engine.io-client 3.x counts any
// packet as a heartbeat, and after a ping the server has pingTimeout to
// send one (on WebSocket; a polling GET keeps its deadline).
package client
