package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/transport"
)

// TestStuckWriterReleased: a peer that stops reading must not hold a
// writer, or Abort and Close behind it, forever.
func TestStuckWriterReleased(t *testing.T) {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		<-hold // never read
		c.Close()
	}))
	defer srv.Close()
	defer close(hold)
	ws, err := transport.DialWebSocket(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"),
		&transport.Options{WriteTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1<<20)
	writing := make(chan error, 1)
	go func() {
		for {
			if err := ws.WriteBinary(big); err != nil {
				writing <- err
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // the socket buffers fill up
	aborted := make(chan struct{})
	go func() { ws.Abort(); close(aborted) }()
	select {
	case <-aborted:
	case <-time.After(3 * time.Second):
		t.Fatal("Abort blocked behind a stuck writer")
	}
	select {
	case <-writing:
	case <-time.After(3 * time.Second):
		t.Fatal("the stuck writer was not released by Abort")
	}
}
