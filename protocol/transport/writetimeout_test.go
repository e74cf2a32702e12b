package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/transport"
)

// TestWriteTimeout: the write deadline is moved lazily (only once half of
// it has gone), yet a write to a peer that stopped reading still fails
// within WriteTimeout of its start, and writes spread over more than one
// WriteTimeout to a peer that reads never fail.
func TestWriteTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	read := make(chan bool, 1) // whether the server reads what it gets
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if <-read {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}
		<-hold
	}))
	defer srv.Close()
	defer close(hold)
	dial := func(reads bool) *transport.WebSocket {
		t.Helper()
		read <- reads
		ws, err := transport.DialWebSocket(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"),
			&transport.Options{WriteTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Abort() })
		return ws
	}

	t.Run("reading peer", func(t *testing.T) {
		ws := dial(true)
		// 3 writes 0.3 timeout apart, then 3 after more than a timeout
		// of silence: each finds a deadline ahead of it.
		for i := range 6 {
			if err := ws.WriteText([]byte("42[\"x\"]")); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			pause := 3 * timeout / 10
			if i == 2 {
				pause = 3 * timeout / 2
			}
			time.Sleep(pause)
		}
	})

	t.Run("stuck peer", func(t *testing.T) {
		ws := dial(false)
		// Move the deadline, then let most of it pass: a lazy deadline
		// must still not let the next write block past its bound.
		if err := ws.WriteText([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(timeout / 4)
		big := make([]byte, 1<<20)
		failed := make(chan error, 1)
		go func() {
			for i := 0; ; i++ {
				start := time.Now()
				err := ws.WriteBinary(big)
				took := time.Since(start)
				switch {
				case err == nil:
					continue
				case !errors.Is(err, os.ErrDeadlineExceeded):
					failed <- fmt.Errorf("write %d: %v, want a deadline error", i, err)
				case took > timeout+time.Second: // room for a loaded machine's scheduling
					failed <- fmt.Errorf("write %d failed after %v, want at most the %v write timeout", i, took, timeout)
				default:
					failed <- nil
				}
				return
			}
		}()
		select {
		case err := <-failed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(15 * time.Second): // a loaded machine's margin: the bound is checked above
			t.Fatal("writes to a peer that does not read still blocked after 15s")
		}
	})
}
