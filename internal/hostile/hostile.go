// Package hostile runs misbehaving Engine.IO servers on loopback for
// tests: one that accepts TCP and never answers, and one that sends a
// valid open packet and then a body or WebSocket message that never ends.
// They are real listeners on 127.0.0.1 at a free port, or in-memory ones
// for tests in a testing/synctest bubble, written with the standard
// library only (and fasthttputil's in-memory listener), so that what they
// send is exactly what the test says.
package hostile

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp/fasthttputil"
)

// Server is a hostile server; it stops when the test ends.
type Server struct {
	// URL is http://127.0.0.1:port (http://hostile.test in memory).
	URL string
	// Addr is 127.0.0.1:port (the listener's name in memory).
	Addr string
	// Dial, for transport.Options.Dial, is the way to an in-memory
	// server, whatever address it is given; nil on 127.0.0.1, where any
	// dialer reaches URL.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Accepted counts TCP connections, Opened handshakes answered and
	// Endless bodies or messages started.
	Accepted, Opened, Endless atomic.Int64

	ln     net.Listener
	cfg    Config
	silent bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// PollingKind is how an endless polling body is framed.
type PollingKind int

// Endless polling bodies.
const (
	// Chunked sends Transfer-Encoding: chunked chunks forever.
	Chunked PollingKind = iota
	// CloseDelimited sends no length at all and writes until the client
	// hangs up (the body ends with the connection).
	CloseDelimited
	// HugeLength announces a Content-Length of 1 TiB, then writes forever.
	HugeLength
)

// WebSocketKind is how an endless WebSocket message is framed.
type WebSocketKind int

// Endless WebSocket messages.
const (
	// OneFrame sends one text frame announcing 2^50 bytes, then writes
	// its payload forever.
	OneFrame WebSocketKind = iota
	// Fragments sends a text frame without FIN, then continuation frames
	// of 32 KiB forever: no frame is large, the message never ends.
	Fragments
)

// Config says what an endless server sends.
type Config struct {
	// MaxPayload is advertised in the open packet (1000000 when 0, as Node).
	MaxPayload int
	Polling    PollingKind
	WebSocket  WebSocketKind
	// Quiet sends nothing after the open packet instead of the endless
	// message: polling GETs with a sid are never answered, a WebSocket
	// (the first of a session, or an upgrade probe) stays silent. Then
	// namespace CONNECTs and upgrade probes go unanswered.
	Quiet bool
	// Upgrades offers websocket in the open packet.
	Upgrades bool
	// InMemory serves on an in-memory listener, which only Server.Dial
	// reaches: inside a testing/synctest bubble, client and server then
	// wait on the bubble's fake clock, which real sockets cannot share.
	InMemory bool
}

// Silent starts a server that accepts TCP connections and never sends a
// byte; what clients send is read and dropped so their writes never block.
func Silent(t testing.TB) *Server {
	return start(t, Config{}, true)
}

// SilentInMemory is Silent on an in-memory listener (see Config.InMemory).
func SilentInMemory(t testing.TB) *Server {
	return start(t, Config{InMemory: true}, true)
}

// Endless starts a server that answers a handshake (polling GET without
// sid, or a WebSocket) with a valid open packet, then answers every
// polling GET with a sid, and follows the open packet on a WebSocket, with
// a message packet that never ends. A POST is answered "ok".
func Endless(t testing.TB, cfg Config) *Server {
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 1000000
	}
	return start(t, cfg, false)
}

func start(t testing.TB, cfg Config, silent bool) *Server {
	t.Helper()
	var (
		s   = &Server{cfg: cfg, silent: silent, conns: map[net.Conn]bool{}}
		url string
	)
	if cfg.InMemory {
		ln := fasthttputil.NewInmemoryListener()
		s.ln, url = ln, "http://hostile.test"
		s.Dial = func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.ln, url = ln, "http://"+ln.Addr().String()
	}
	s.URL, s.Addr = url, s.ln.Addr().String()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Close stops the listener and drops every connection.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.Accepted.Add(1)
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			if s.silent {
				io.Copy(io.Discard, c)
				return
			}
			s.serve(c)
		}()
	}
}

// filler is what endless bodies are made of.
var filler = []byte(strings.Repeat("a", 32<<10))

func (s *Server) open() string {
	n := s.Opened.Add(1)
	up := ""
	if s.cfg.Upgrades {
		up = `"websocket"`
	}
	return fmt.Sprintf(`0{"sid":"hostile%d","upgrades":[%s],"pingInterval":25000,"pingTimeout":20000,"maxPayload":%d}`, n, up, s.cfg.MaxPayload)
}

func (s *Server) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		q := req.URL.Query()
		switch {
		case q.Get("transport") == "websocket":
			s.websocket(c, req)
			return
		case req.Method == http.MethodPost:
			io.Copy(io.Discard, req.Body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")
		case q.Get("sid") == "":
			io.Copy(io.Discard, req.Body)
			o := s.open()
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s", len(o), o)
		case s.cfg.Quiet:
			io.Copy(io.Discard, c) // held until the client gives up
			return
		default:
			s.Endless.Add(1)
			s.endlessBody(c)
			return
		}
	}
}

func (s *Server) endlessBody(c net.Conn) {
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	switch s.cfg.Polling {
	case Chunked:
		if _, err := io.WriteString(c, head+"Transfer-Encoding: chunked\r\n\r\n1\r\n4\r\n"); err != nil {
			return
		}
		chunk := append(fmt.Appendf(nil, "%x\r\n", len(filler)), filler...)
		chunk = append(chunk, "\r\n"...)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	case CloseDelimited:
		if _, err := io.WriteString(c, head+"Connection: close\r\n\r\n4"); err != nil {
			return
		}
	case HugeLength:
		if _, err := io.WriteString(c, head+"Content-Length: 1099511627776\r\n\r\n4"); err != nil {
			return
		}
	}
	for {
		if _, err := c.Write(filler); err != nil {
			return
		}
	}
}

func (s *Server) websocket(c net.Conn, req *http.Request) {
	h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(h[:]))
	if s.cfg.Quiet {
		if req.URL.Query().Get("sid") == "" {
			o := s.open()
			c.Write(frame(0x81, len(o), []byte(o)))
		}
		// CONNECTs and probes are read and never answered.
		io.Copy(io.Discard, c)
		return
	}
	go io.Copy(io.Discard, c) // pongs, close frames: never answered
	o := s.open()
	if _, err := c.Write(frame(0x81, len(o), []byte(o))); err != nil {
		return
	}
	s.Endless.Add(1)
	switch s.cfg.WebSocket {
	case OneFrame:
		if _, err := c.Write(frame(0x81, 1<<50, []byte("4"))); err != nil {
			return
		}
		for {
			if _, err := c.Write(filler); err != nil {
				return
			}
		}
	case Fragments:
		if _, err := c.Write(frame(0x01, len(filler), filler)); err != nil {
			return
		}
		cont := frame(0x00, len(filler), filler)
		for {
			if _, err := c.Write(cont); err != nil {
				return
			}
		}
	}
}

// frame builds an unmasked server frame header announcing n payload bytes,
// followed by payload (which may be shorter than n: the rest follows).
func frame(b0 byte, n int, payload []byte) []byte {
	out := []byte{b0}
	switch {
	case n < 126:
		out = append(out, byte(n))
	case n <= 0xFFFF:
		out = append(out, 126, byte(n>>8), byte(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, payload...)
}
