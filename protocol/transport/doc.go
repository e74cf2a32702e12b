// Package transport owns the client side of Engine.IO's two carriers:
// HTTP long-polling (fasthttp requests on connections each session keeps)
// and WebSocket (over
// fasthttp/websocket). It moves bytes and frames; it does not know packet
// semantics beyond what framing needs, and it keeps no goroutines of its own.
//
// # Polling
//
// A [Polling] value issues one GET or POST at a time on behalf of one
// Engine.IO session, on the session's own two keep-alive connections (one
// for GETs, one for POSTs), as a browser or socket.io-client has them: a
// pool shared by sessions makes a session dial again whenever another took
// its connection, and against a saturated server a new connection waits in
// the full listen backlog for seconds. Idle sessions cost their
// connections, no goroutine of ours; buffers are pooled across sessions.
//
// # WebSocket
//
// A [WebSocket] reads through fasthttp/websocket but writes frames itself:
// the library's client writer allocates on every message (a writer value and
// a crypto-random mask key), which would dominate a load generator's
// allocation budget. Masking keys come from a fast PRNG; RFC 6455 wants them
// unpredictable to defeat cache poisoning by browser scripts, a threat that
// does not apply to a load generator talking to a known server.
//
// # Raw mode
//
// [RawRequest] and [DialRaw] send arbitrary bytes as a polling request or a
// WebSocket frame and report every response, frame and close exactly as it
// arrived, with its time. The conformance suite builds on them.
package transport
