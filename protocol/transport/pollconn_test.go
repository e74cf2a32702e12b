package transport_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/transport"
	"github.com/valyala/fasthttp"
)

// connLog is an HTTP server on 127.0.0.1 that records which connection
// (by client address) carried each request.
type connLog struct {
	mu    sync.Mutex
	conns map[string]bool
	by    map[string][]string // sid -> client addresses, in order
}

func newConnLog(t *testing.T) (*httptest.Server, *connLog) {
	l := &connLog{conns: map[string]bool{}, by: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.conns[r.RemoteAddr] = true
		sid := r.URL.Query().Get("sid") + " " + r.Method
		l.by[sid] = append(l.by[sid], r.RemoteAddr)
		l.mu.Unlock()
		w.Write([]byte("6")) // noop
	}))
	t.Cleanup(srv.Close)
	return srv, l
}

// TestPollingKeepsItsConnections: each session carries its GETs on one
// connection and its POSTs on another, whatever other sessions do in
// between (a shared pool would hand one session's connection to the
// next), so that a session needs no new connection once it is up.
func TestPollingKeepsItsConnections(t *testing.T) {
	srv, l := newConnLog(t)
	ctx := prototest.Context(t)
	var ps []*transport.Polling
	for _, sid := range []string{"a", "b", "c"} {
		ps = append(ps, transport.NewPolling(srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, nil))
	}
	for range 5 {
		for _, p := range ps {
			if _, _, err := p.Get(ctx, time.Now().Add(10*time.Second), nil); err != nil {
				t.Fatal(err)
			}
			if err := p.Post(ctx, time.Now().Add(10*time.Second), []byte("3"), false); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) != 6 {
		t.Errorf("%d connections for 3 sessions, want 6 (one GET and one POST connection each): %v", len(l.conns), l.by)
	}
	seen := map[string]string{}
	for key, addrs := range l.by {
		for _, a := range addrs {
			if a != addrs[0] {
				t.Errorf("%s: requests on %v, want one connection", key, addrs)
				break
			}
		}
		if other, ok := seen[addrs[0]]; ok {
			t.Errorf("%s and %s share connection %s", key, other, addrs[0])
		}
		seen[addrs[0]] = key
	}
	for _, p := range ps {
		p.Close()
	}
}

// TestPollingServerClosesKeptConnection: a server that closes every
// connection after one response, without saying so, costs a GET nothing
// (retried once on a new connection, as fasthttp's pool does) and fails a
// POST with fasthttp's error (a POST is not retried: the server may have
// read it).
func TestPollingServerClosesKeptConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepted := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if req.ContentLength > 0 {
					req.Body.Read(make([]byte, req.ContentLength))
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\n6"))
				// Close after the response, with no Connection: close.
				time.Sleep(50 * time.Millisecond)
			}()
		}
	}()
	ctx := prototest.Context(t)
	p := transport.NewPolling("http://"+ln.Addr().String()+"/socket.io/?EIO=4&transport=polling&sid=x", nil)
	defer p.Close()
	for i := range 3 {
		body, _, err := p.Get(ctx, time.Now().Add(10*time.Second), nil)
		if err != nil || string(body) != "6" {
			t.Fatalf("GET %d: %q %v", i, body, err)
		}
		time.Sleep(100 * time.Millisecond) // the server has closed it by now
	}
	if err := p.Post(ctx, time.Now().Add(10*time.Second), []byte("3"), false); err != nil {
		t.Fatalf("first POST (new connection): %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	err = p.Post(ctx, time.Now().Add(10*time.Second), []byte("3"), false)
	if !errors.Is(err, fasthttp.ErrConnectionClosed) || !strings.Contains(err.Error(), "POST") {
		t.Fatalf("POST on a connection the server closed: %v, want fasthttp.ErrConnectionClosed", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != 4 {
		t.Fatalf("%d connections accepted, want 4 (a new one for each of three GETs, the last two after a retry; one for both POSTs)", accepted)
	}
}

// TestPollingAbort: Abort ends a long-poll GET in flight at once (the
// session is dead: its reader must not wait out the poll) and refuses
// the session's later requests.
func TestPollingAbort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // reads the GET, never answers
				defer c.Close()
				http.ReadRequest(bufio.NewReader(c))
				time.Sleep(20 * time.Second)
			}()
		}
	}()
	ctx := prototest.Context(t)
	p := transport.NewPolling("http://"+ln.Addr().String()+"/socket.io/?EIO=4&transport=polling&sid=x", nil)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, _, err := p.Get(ctx, time.Now().Add(15*time.Second), nil)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // the GET is waiting for its answer
	p.Abort()
	select {
	case err := <-done:
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("GET after Abort: %v after %v; want an error at once", err, time.Since(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Abort did not end the GET in flight")
	}
	if err := p.Post(ctx, time.Now().Add(5*time.Second), []byte("3"), false); err == nil {
		t.Fatal("POST after Abort succeeded")
	}
}
