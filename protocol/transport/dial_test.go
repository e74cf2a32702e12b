package transport_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
	"github.com/valyala/fasthttp/fasthttputil"
)

// TestDialCarriesBothTransports: Options.Dial opens the connections of
// polling, WebSocket and RawRequest alike. The host does not resolve and
// the server listens on no socket, so only the Dial can have reached it.
func TestDialCarriesBothTransports(t *testing.T) {
	ln := fasthttputil.NewInmemoryListener()
	srv := server.New(nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	var dials atomic.Int32
	opts := &transport.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("dial of %s without a deadline", addr)
		}
		if network != "tcp" || addr != "siokit.invalid:80" {
			t.Errorf("dial %s %s, want tcp siokit.invalid:80", network, addr)
		}
		dials.Add(1)
		return ln.Dial()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const base = "://siokit.invalid/socket.io/?EIO=4&transport="
	p := transport.NewPolling("http"+base+"polling", opts)
	defer p.Close()
	if body, _, err := p.Get(ctx, time.Time{}, nil); err != nil || !bytes.HasPrefix(body, []byte(`0{"sid":`)) {
		t.Fatalf("polling handshake %q, %v", body, err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials for the polling handshake, want 1", n)
	}
	ws, err := transport.DialWebSocket(ctx, "ws"+base+"websocket", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if data, _, err := ws.Read(nil); err != nil || !bytes.HasPrefix(data, []byte(`0{"sid":`)) {
		t.Fatalf("websocket open packet %q, %v", data, err)
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("%d dials after the WebSocket, want 2", n)
	}
	resp, err := transport.RawRequest(ctx, "GET", "http"+base+"polling", nil, nil, opts)
	if err != nil || resp.Status != 200 || !bytes.HasPrefix(resp.Body, []byte(`0{"sid":`)) {
		t.Fatalf("raw request: %+v, %v", resp, err)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d dials after RawRequest, want 3", n)
	}
}
