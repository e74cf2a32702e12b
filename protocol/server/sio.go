package server

import (
	"encoding/json"
	"sync"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

// sioConn is the Socket.IO layer of one Engine.IO session: the decoder and
// the namespaces joined on it (Node's Client).
type sioConn struct {
	sess *Session
	dec  socketio.Decoder // inbound only: guarded by Session.inMu
	msg  Message          // reused for every dispatch, guarded by Session.inMu

	mu      sync.Mutex
	sockets []*Socket // usually one or two: a slice beats a map
}

func newSIOConn(s *Session) *sioConn {
	return &sioConn{sess: s, dec: socketio.Decoder{Version: socketio.V5}}
}

func (c *sioConn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

func (c *sioConn) remove(sock *Socket) {
	c.mu.Lock()
	for i, s := range c.sockets {
		if s == sock {
			c.sockets = append(c.sockets[:i], c.sockets[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
}

// onMessage handles one Engine.IO message with the state checks of Node's
// Client.ondecoded (socket.io lib/client.ts): a packet for a namespace not joined,
// a second CONNECT, a CONNECT_ERROR from the client or a decoding error
// closes the whole connection.
func (c *sioConn) onMessage(data []byte, binary bool) {
	p, done, err := c.dec.Add(data, binary)
	if err != nil {
		// Node's Client.onerror closes the engine connection itself
		// (conn.close()): the server's close, which lingers over polling.
		c.sess.end(reasonParseError, true)
		return
	}
	if !done {
		return
	}
	if p.Type == socketio.Connect {
		c.connect(&p)
		return
	}
	sock := c.socket(p.Namespace)
	if sock == nil || p.Type == socketio.ConnectError {
		c.sess.close(reasonForcedClose)
		return
	}
	st := &c.sess.srv.stats
	switch p.Type {
	case socketio.Event, socketio.BinaryEvent:
		if len(p.Data) == 0 {
			// socket.io-protocol v5, "Sending and receiving data": the
			// payload "is mandatory and MUST be a non-empty array. If
			// that's not the case, then the receiver MUST close the
			// connection" (Node accepts "42"; sioconform grades it must).
			c.sess.end(reasonParseError, true)
			return
		}
		st.eventsIn.Add(1)
		sock.dispatch(&c.msg, &p)
	case socketio.Ack, socketio.BinaryAck:
		st.acksIn.Add(1)
		sock.resolveAck(p.ID, p.Data, p.Buffers)
	case socketio.Disconnect:
		sock.cleanup("client namespace disconnect")
	}
}

var emptyAuth = json.RawMessage("{}")

// connect handles CONNECT: unknown namespace → CONNECT_ERROR "Invalid
// namespace" (the session stays), middleware refusal → CONNECT_ERROR with
// the error's message and data, else the reply {"sid"} then the connection
// handlers. Node joins asynchronously; here it is done before the next
// packet is read, so pipelined events after a CONNECT are fine.
func (c *sioConn) connect(p *socketio.Packet) {
	if c.socket(p.Namespace) != nil {
		c.sess.close(reasonForcedClose)
		return
	}
	srv := c.sess.srv
	ns := srv.namespace(p.Namespace)
	if ns == nil {
		c.sendConnectError(p.Namespace, "Invalid namespace", nil)
		return
	}
	auth := emptyAuth
	if p.Data != nil {
		auth = append(json.RawMessage(nil), p.Data...)
	}
	sock := newSocket(ns, c, auth)
	for _, mw := range ns.middlewareList() {
		if err := mw(sock, auth); err != nil {
			msg, data := err.Error(), []byte(nil)
			if ce, ok := err.(*ConnectError); ok && ce.Data != nil {
				data, _ = json.Marshal(ce.Data)
			}
			c.sendConnectError(p.Namespace, msg, data)
			return
		}
	}
	c.mu.Lock()
	c.sockets = append(c.sockets, sock)
	c.mu.Unlock()
	c.sess.mu.Lock()
	c.sess.connectBy = 0
	c.sess.mu.Unlock()
	srv.stats.sockets.Add(1)
	srv.stats.socketsTotal.Add(1)
	ns.add(sock)

	f := getFrame()
	f.b = append(f.b, engineio.Message.Digit())
	f.b = socketio.AppendHeader(f.b, socketio.Connect, 0, ns.name, socketio.NoID)
	f.b = append(f.b, `{"sid":"`...)
	f.b = append(f.b, sock.id...)
	f.b = append(f.b, `"}`...)
	c.sess.enqueue([]item{{f: f, data: f.b, msg: true}}, true)
	ns.connected(sock)
}

func (c *sioConn) sendConnectError(nsp, msg string, data []byte) {
	f := getFrame()
	f.b = append(f.b, engineio.Message.Digit())
	f.b = socketio.AppendHeader(f.b, socketio.ConnectError, 0, nsp, socketio.NoID)
	f.b = append(f.b, `{"message":`...)
	f.b = socketio.AppendString(f.b, msg)
	if len(data) > 0 {
		f.b = append(f.b, `,"data":`...)
		f.b = append(f.b, data...)
	}
	f.b = append(f.b, '}')
	c.sess.enqueue([]item{{f: f, data: f.b, msg: true}}, true)
}

// onClose ends every socket of a closed session, without packets.
func (c *sioConn) onClose(reason string) {
	c.mu.Lock()
	socks := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range socks {
		s.cleanup(reason)
	}
}

// expireAcks fails the server acks due by now and returns the next
// deadline (0: none).
func (c *sioConn) expireAcks(now int64) int64 {
	c.mu.Lock()
	socks := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	var next int64
	for _, s := range socks {
		if n := s.expireAcks(now); n > 0 && (next == 0 || n < next) {
			next = n
		}
	}
	return next
}

var emptyArray = []byte("[]")
