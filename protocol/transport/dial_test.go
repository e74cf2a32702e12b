package transport_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

// TestMain: protocol/server runs in synctest bubbles here (see prototest.Main).
func TestMain(m *testing.M) { prototest.Main(m) }

// TestDialCarriesBothTransports: Options.Dial opens the connections of
// polling, WebSocket and RawRequest alike. The host does not resolve and
// the server listens on no socket, so only the Dial can have reached it;
// in a synctest bubble, nothing else could have run in it either.
func TestDialCarriesBothTransports(t *testing.T) { synctest.Test(t, dialCarriesBothTransports) }

func dialCarriesBothTransports(t *testing.T) {
	dial := prototest.ServeInMemory(t, server.New(nil))
	var dials atomic.Int32
	opts := &transport.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("dial of %s without a deadline", addr)
		}
		if network != "tcp" || addr != "siokit.invalid:80" {
			t.Errorf("dial %s %s, want tcp siokit.invalid:80", network, addr)
		}
		dials.Add(1)
		return dial(ctx, network, addr)
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
