package server

import "sync/atomic"

// Stats is a snapshot of a server's counters. Messages are Engine.IO message
// packets (a binary Socket.IO packet with N attachments counts N+1); bytes
// are their sizes counted as the client's KindPacket hook counts them, data
// length plus one for the type. Outgoing messages are counted when written
// to the wire (WebSocket) or put in a GET response (polling).
type Stats struct {
	Sessions      int64 // Engine.IO sessions open now
	SessionsTotal int64 // Engine.IO sessions opened since start
	Sockets       int64 // Socket.IO namespace sockets connected now
	SocketsTotal  int64 // namespace connections accepted since start
	MessagesIn    int64
	MessagesOut   int64
	BytesIn       int64
	BytesOut      int64
	EventsIn      int64 // Socket.IO EVENT and BINARY_EVENT packets received
	AcksIn        int64 // Socket.IO ACK and BINARY_ACK packets received
}

type counters struct {
	sessions, sessionsTotal, sockets, socketsTotal atomic.Int64
	msgIn, msgOut, bytesIn, bytesOut               atomic.Int64
	eventsIn, acksIn                               atomic.Int64
}

// Stats returns the current counters; safe at any time from any goroutine.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Sessions: c.sessions.Load(), SessionsTotal: c.sessionsTotal.Load(),
		Sockets: c.sockets.Load(), SocketsTotal: c.socketsTotal.Load(),
		MessagesIn: c.msgIn.Load(), MessagesOut: c.msgOut.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		EventsIn: c.eventsIn.Load(), AcksIn: c.acksIn.Load(),
	}
}
