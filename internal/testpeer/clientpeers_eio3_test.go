package testpeer_test

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
)

// protocol/server speaks Engine.IO v4 only, so the EIO3 peers (socket.io-client 2.x, siokit's
// client with SIOCONFORM_EIO=3) meet this small Engine.IO v3 / Socket.IO v4 server instead:
// WebSocket only, no upgrade, built from siokit's codecs. It answers the client's pings, joins
// "/" by itself (as socket.io 2.x servers do), answers every namespace CONNECT and feeds the
// same hub as the v4 server.

// v3Conn is one client session.
type v3Conn struct {
	ws *websocket.Conn

	mu     sync.Mutex // serializes writes and guards acks
	acks   map[int64]chan<- ackReply
	nextID int64
}

// v3Socket is one namespace of a v3Conn.
type v3Socket struct {
	c   *v3Conn
	nsp string
}

func (s v3Socket) transport() string { return "websocket" }

func (s v3Socket) emit(event string, args ...any) { s.c.event(s.nsp, socketio.NoID, event, args) }

func (s v3Socket) emitAck(event string, reply chan<- ackReply, args ...any) {
	s.c.mu.Lock()
	id := s.c.nextID
	s.c.nextID++
	s.c.acks[id] = reply
	s.c.mu.Unlock()
	s.c.event(s.nsp, id, event, args)
}

// event sends EVENT (or BINARY_EVENT) event(args...) on nsp with ack id id (NoID: none).
func (c *v3Conn) event(nsp string, id int64, event string, args []any) {
	data, bufs, err := socketio.AppendArgs(nil, args)
	if err != nil {
		panic(err) // the test's own arguments
	}
	c.send(socketio.Packet{Type: socketio.Event, Namespace: nsp, ID: id, Data: socketio.AppendEvent(nil, event, data)}, bufs)
}

// send writes p, as BINARY_* with its attachments when there are any.
func (c *v3Conn) send(p socketio.Packet, bufs [][]byte) {
	if len(bufs) > 0 {
		p.Type += socketio.BinaryEvent - socketio.Event // EVENT→BINARY_EVENT, ACK→BINARY_ACK
		p.Attachments = len(bufs)
	}
	text, err := socketio.AppendPacket(nil, socketio.V4, &p)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frame(engineio.Packet{Type: engineio.Message, Data: text})
	for _, b := range bufs {
		c.frame(engineio.Packet{Type: engineio.Message, Binary: true, Data: b})
	}
}

// frame writes one Engine.IO v3 packet as a WebSocket frame; c.mu is held.
func (c *v3Conn) frame(p engineio.Packet) {
	f, binary := engineio.AppendFrame(nil, engineio.V3, p)
	mt := websocket.TextMessage
	if binary {
		mt = websocket.BinaryMessage
	}
	_ = c.ws.WriteMessage(mt, f)
}

// startEIO3Server serves the hub over Engine.IO v3 WebSocket at /socket.io/.
func startEIO3Server(t *testing.T) *hub {
	h := newHub()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var sids int
	var sidMu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("EIO") != "3" || q.Get("transport") != "websocket" {
			http.Error(w, `{"code":0,"message":"Transport unknown"}`, http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		sidMu.Lock()
		sids++
		sid := "s" + strconv.Itoa(sids)
		sidMu.Unlock()
		go serveEIO3(h, &v3Conn{ws: ws, acks: map[int64]chan<- ackReply{}}, sid)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	h.url = "http://" + ln.Addr().String()
	return h
}

// serveEIO3 runs one session until the WebSocket ends.
func serveEIO3(h *hub, c *v3Conn, sid string) {
	defer c.ws.Close()
	c.mu.Lock()
	c.frame(engineio.Packet{Type: engineio.Open, Data: []byte(`{"sid":"` + sid + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`)})
	c.mu.Unlock()
	joined := map[string]bool{}
	join := func(nsp, query string) {
		c.send(socketio.Packet{Type: socketio.Connect, Namespace: nsp, ID: socketio.NoID}, nil)
		joined[nsp] = true
		h.connects <- connect{nsp, v3Socket{c, nsp}, query}
	}
	join("/", "") // Socket.IO v4 servers connect "/" without being asked
	dec := socketio.Decoder{Version: socketio.V4}
	reason := "transport close"
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			break
		}
		ep, err := engineio.ParseFrame(engineio.V3, data, mt == websocket.BinaryMessage)
		if err != nil {
			reason = "parse error"
			break
		}
		switch ep.Type {
		case engineio.Ping:
			c.mu.Lock()
			c.frame(engineio.Packet{Type: engineio.Pong, Data: ep.Data})
			c.mu.Unlock()
			continue
		case engineio.Close:
			reason = "transport close" // as engine.io 3 names a client's close packet
		case engineio.Message:
		default:
			continue
		}
		if ep.Type == engineio.Close {
			break
		}
		p, done, err := dec.Add(ep.Data, ep.Binary)
		if err != nil {
			reason = "parse error"
			break
		}
		if !done {
			continue
		}
		switch p.Type {
		case socketio.Connect:
			join(p.Namespace, p.Query)
		case socketio.Disconnect:
			if joined[p.Namespace] {
				delete(joined, p.Namespace)
				h.disconnects <- p.Namespace + " client namespace disconnect"
			}
		case socketio.Event, socketio.BinaryEvent:
			name, args, err := socketio.EventName(p.Data)
			if err != nil {
				continue
			}
			m := msg{nsp: p.Namespace, event: name, args: string(args), bufs: p.Buffers}
			if p.ID != socketio.NoID {
				nsp, id := p.Namespace, p.ID
				m.ack = func(args ...any) {
					data, bufs, err := socketio.AppendArgs(nil, args)
					if err != nil {
						panic(err)
					}
					c.send(socketio.Packet{Type: socketio.Ack, Namespace: nsp, ID: id, Data: data}, bufs)
				}
			}
			h.msgs <- m
		case socketio.Ack, socketio.BinaryAck:
			c.mu.Lock()
			reply := c.acks[p.ID]
			delete(c.acks, p.ID)
			c.mu.Unlock()
			if reply != nil {
				reply <- ackReply{args: string(p.Data), bufs: p.Buffers}
			}
		}
	}
	for nsp := range joined {
		h.disconnects <- nsp + " " + reason
	}
}

// eio3Peers are the peers tested over Engine.IO v3 (WebSocket only: the v3 server here has no
// polling).
var eio3Peers = map[string]clientCase{
	"node2-client":  {eio: 3},
	"siokit-client": {eio: 3},
}

// TestClientPeersEIO3 runs the contract script with the EIO3 peers over WebSocket.
func TestClientPeersEIO3(t *testing.T) {
	t.Parallel()
	for name, cc := range eio3Peers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Socket.IO 4 has no CONNECT payload: auth is the namespace query, and "/" (joined by
			// the server) carries none.
			r, root := startRun(t, name, cc, startEIO3Server, map[string]string{"/": "", "/second": "token=t1"},
				"SIOCONFORM_TRANSPORT=websocket", "SIOCONFORM_EIO=3", `SIOCONFORM_AUTH={"token":"t1"}`)
			r.script(root, "websocket", true)
			if name == "node2-client" { // siokit-client's refusals are checked with EIO4
				checkRefusals(t, name)
			}
		})
	}
}
