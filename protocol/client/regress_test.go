package client_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

// TestLifecycleEdges covers the corners of a Conn's life that must not
// hang or panic: Close before Open, Open twice, Close from a handler.
func TestLifecycleEdges(t *testing.T) {
	c, err := client.New("http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed after Close of a never-opened Conn")
	}
	if err := c.Open(context.Background()); err == nil {
		t.Fatal("Open after Close succeeded")
	}

	p := testpeer.Start(t, "node4")
	ctx := prototest.Context(t)
	c, err = client.Dial(ctx, p.URL, &client.Options{Mode: client.WebSocketOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(ctx); err == nil {
		t.Fatal("second Open succeeded")
	}
	root := c.Socket("/")
	closed := make(chan struct{})
	root.On("message-back", func(*client.Message) {
		c.Close() // from the reader goroutine: must not deadlock
		close(closed)
	})
	if err := root.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	root.Emit("message", 1)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close inside a handler did not return")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("reader did not stop after Close from a handler")
	}
}

// TestEscapedEventName: an event whose name needs JSON escapes reaches
// its handler with its arguments.
func TestEscapedEventName(t *testing.T) {
	eachMode(t, flavour{"node4", engineio.V4}, func(ctx context.Context, mode client.Mode, c *client.Conn, root *client.Socket) {
		got := prototest.NewInbox()
		root.On("a\"b\\c", got.Handler)
		prototest.OpenConnect(t, ctx, c, root, nil)
		root.Emit("server-emit", "a\"b\\c", 7)
		if m := got.Next(t, "escaped event"); string(m.Args) != "[7]" || m.Event != "a\"b\\c" {
			t.Fatalf("%v: got %q %s", mode, m.Event, m.Args)
		}
	})
}

// eachMode starts peer f.peer and calls fn, in turn for each transport
// mode, with the root socket of a new client of it (dial's, f's Engine.IO
// version, its session not open yet) and a context bounded by the test.
func eachMode(t *testing.T, f flavour, fn func(ctx context.Context, mode client.Mode, c *client.Conn, root *client.Socket)) {
	t.Helper()
	p := testpeer.Start(t, f.peer)
	ctx := prototest.Context(t)
	for _, mode := range modes {
		c := dial(t, p, f, mode, nil, "")
		fn(ctx, mode, c, c.Socket("/"))
	}
}

// TestRootRejoinV4: over Socket.IO v4 the server joins "/" by itself,
// once per session; a Connect after Disconnect must say so at once
// instead of waiting for a reply that never comes.
func TestRootRejoinV4(t *testing.T) {
	eachMode(t, flavour{"node2", engineio.V3}, func(ctx context.Context, mode client.Mode, c *client.Conn, root *client.Socket) {
		prototest.OpenConnect(t, ctx, c, root, nil)
		if err := root.Disconnect(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := root.Connect(ctx, nil); !errors.Is(err, client.ErrRootRejoin) || time.Since(start) > 10*time.Second {
			t.Fatalf("%v: rejoin gave %v after %v, want ErrRootRejoin at once (not at the context's end)", mode, err, time.Since(start))
		}
	})
}

// TestPollingBatchesFitMaxPayload: many concurrent emitters over polling
// never produce a POST over the server's maxPayload (which Node answers
// with 413, killing the session), and nothing is lost.
func TestPollingBatchesFitMaxPayload(t *testing.T) {
	p := testpeer.Start(t, "node4", "MAX_HTTP_BUFFER_SIZE=4000")
	ctx := prototest.Context(t)
	rec := newRecorder()
	c := dial(t, p, flavour{"node4", engineio.V4}, client.PollingOnly, rec, "")
	root := c.Socket("/")
	var mu sync.Mutex
	got := 0
	all := make(chan struct{})
	const emitters, each = 4, 25
	root.On("message-back", func(*client.Message) {
		mu.Lock()
		got++
		if got == emitters*each {
			close(all)
		}
		mu.Unlock()
	})
	if err := c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Handshake().MaxPayload != 4000 {
		t.Fatalf("maxPayload %d, want 4000", c.Handshake().MaxPayload)
	}
	if err := root.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 900)
	var wg sync.WaitGroup
	for range emitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := root.Emit("message", pad); err != nil && !errors.Is(err, client.ErrNotConnected) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d of %d echoes; disconnects %+v", got, emitters*each, rec.find(client.KindDisconnect))
	}
}

// TestPollingPostRefusedEndsSession: a POST the server refuses ends the
// polling session at once, with the refusal as its cause, as in
// engine.io-client ("xhr post error"). Behind a load balancer that is not
// sticky the GETs reach the node that made the session and the POSTs
// another, which answers 400 "Session ID unknown": the session used to
// live on through its GETs, its CONNECT never sent, until a timeout that
// a load run's end could hide.
func TestPollingPostRefusedEndsSession(t *testing.T) {
	a := prototest.Serve(t, server.New(nil))
	b := prototest.Serve(t, server.New(nil))
	to := func(raw string) *httputil.ReverseProxy {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorLog = log.New(io.Discard, "", 0) // the GET the client abandons
		return p
	}
	getA, postB := to(a), to(b)
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			postB.ServeHTTP(w, r)
			return
		}
		getA.ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)

	opts := prototest.NoReconnect(client.PollingOnly)
	opts.ConnectTimeout = 10 * time.Second
	c := prototest.Dial(t, lb.URL, opts)
	ctx := prototest.Context(t)
	if err := c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := c.Socket("/").Connect(ctx, nil)
	took := time.Since(start)
	var se *transport.StatusError
	if !errors.As(err, &se) || se.Method != "POST" || se.Status != 400 || !strings.Contains(string(se.Body), "Session ID unknown") {
		t.Fatalf("Connect: %v after %v; want the POST's 400 Session ID unknown", err, took)
	}
	if took >= opts.ConnectTimeout {
		t.Errorf("Connect failed after %v: want at the refusal, not at the %v connect timeout", took, opts.ConnectTimeout)
	}
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the session still runs after its POST was refused")
	}
	var de *client.DisconnectError
	if !errors.As(c.Err(), &de) || de.Reason != client.ReasonTransportError || !errors.As(c.Err(), &se) {
		t.Errorf("Err %v: want a transport error caused by the refused POST", c.Err())
	}
}
