package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/internal/hostile"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/transport"
)

// TestHandshakeTimeoutSilentServer: a server that accepts TCP and never
// answers fails the handshake at the handshake timeout, on both
// transports, although the caller's context would wait much longer. In a
// synctest bubble, the server in memory: the times are the fake clock's.
func TestHandshakeTimeoutSilentServer(t *testing.T) {
	for _, mode := range []client.Mode{client.PollingOnly, client.WebSocketOnly} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := hostile.SilentInMemory(t)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				const timeout = 500 * time.Millisecond
				begin := time.Now()
				_, err := client.Dial(ctx, srv.URL, &client.Options{Mode: mode, HandshakeTimeout: timeout, Transport: transport.Options{Dial: srv.Dial}})
				took := time.Since(begin)
				var te *client.TimeoutError
				if !errors.As(err, &te) || te.Phase != "handshake" {
					t.Fatalf("error %v (%T), want a handshake TimeoutError", err, err)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%v does not unwrap to context.DeadlineExceeded", err)
				}
				if want := "client: handshake timed out after 500ms"; err.Error() != want {
					t.Errorf("error text %q, want %q", err, want)
				}
				// Generous: the point is that it is not the context's 2 min.
				if took < timeout || took > 30*time.Second {
					t.Errorf("handshake failed after %v, want at the %v timeout", took, timeout)
				}
			})
		})
	}
}

// TestEndlessBodyBounded: 100 clients against a server that sends a
// valid open packet, then a polling body or WebSocket message that never
// ends. Every session ends with an error naming the limit (twice the
// advertised maxPayload), the process stays far below the size of what
// was sent, and no buffer keeps the peak once the sessions are gone.
func TestEndlessBodyBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100 clients reading 2 MB each")
	}
	cases := []struct {
		name string
		mode client.Mode
		cfg  hostile.Config
		want string
	}{
		{"polling-chunked", client.PollingOnly, hostile.Config{Polling: hostile.Chunked}, "polling body over 2000000 bytes (2x maxPayload 1000000)"},
		{"polling-close-delimited", client.PollingOnly, hostile.Config{Polling: hostile.CloseDelimited}, "polling body over 2000000 bytes (2x maxPayload 1000000)"},
		{"polling-huge-length", client.PollingOnly, hostile.Config{Polling: hostile.HugeLength}, "polling body over 2000000 bytes (2x maxPayload 1000000)"},
		{"websocket-one-frame", client.WebSocketOnly, hostile.Config{WebSocket: hostile.OneFrame}, "websocket message over 2000000 bytes (2x maxPayload 1000000)"},
		{"websocket-fragments", client.WebSocketOnly, hostile.Config{WebSocket: hostile.Fragments}, "websocket message over 2000000 bytes (2x maxPayload 1000000)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := hostile.Endless(t, tc.cfg)
			endlessClients(t, srv, tc.mode, tc.want)
		})
	}
}

func endlessClients(t *testing.T, srv *hostile.Server, mode client.Mode, want string) {
	const clients = 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mem := hostile.SampleMemory(10 * time.Millisecond)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c, err := client.Dial(ctx, srv.URL, &client.Options{Mode: mode, Reconnect: client.Reconnect{Disabled: true}})
			if err != nil {
				errs[i] = fmt.Errorf("dial: %w", err)
				return
			}
			select {
			case <-c.Done():
				errs[i] = c.Err()
			case <-ctx.Done():
				errs[i] = fmt.Errorf("session still running after 2 min")
			}
			c.Close()
		})
	}
	wg.Wait()
	peakHeap, peakRSS := mem.Stop()
	after := hostile.HeapAfterGC()
	t.Logf("%d clients: peak heap in use %.1f MiB, peak RSS %.1f MiB (base heap %.1f, RSS %.1f), heap after GC %.1f MiB; server opened %d, endless %d",
		clients, float64(peakHeap)/hostile.MiB, float64(peakRSS)/hostile.MiB, float64(mem.BaseHeap)/hostile.MiB,
		float64(mem.BaseRSS)/hostile.MiB, float64(after)/hostile.MiB, srv.Opened.Load(), srv.Endless.Load())
	bad := 0
	for i, err := range errs {
		var de *client.DisconnectError
		var tl *transport.TooLargeError
		if !errors.As(err, &de) || de.Reason != client.ReasonTransportError || !errors.As(err, &tl) || !strings.Contains(err.Error(), want) {
			if bad++; bad <= 3 {
				t.Errorf("client %d ended with %v, want a transport error %q", i, err, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d sessions did not end with the explained error", bad, clients)
	}
	if got := srv.Endless.Load(); got != clients {
		t.Errorf("server started %d endless bodies, want %d (one per session)", got, clients)
	}
	const ceiling = 200 * hostile.MiB
	if hostile.RaceEnabled {
		t.Log("race detector on: memory ceiling not asserted")
	} else if peakRSS > ceiling {
		t.Errorf("peak RSS %.1f MiB, ceiling %d MiB", float64(peakRSS)/hostile.MiB, ceiling/hostile.MiB)
	}
	if !hostile.RaceEnabled && peakHeap > ceiling {
		t.Errorf("peak heap in use %.1f MiB, ceiling %d MiB", float64(peakHeap)/hostile.MiB, ceiling/hostile.MiB)
	}
	// Nothing may keep a session's 2 MB once the sessions are gone.
	if after > mem.BaseHeap+32*hostile.MiB {
		t.Errorf("heap in use after the sessions ended %.1f MiB, started at %.1f MiB: buffers kept", float64(after)/hostile.MiB, float64(mem.BaseHeap)/hostile.MiB)
	}
}

// TestConnectTimeoutQuietServer: a server that opens the session and
// never answers the namespace CONNECT fails Connect at the connect
// timeout, on both transports; in a synctest bubble, the server in memory.
func TestConnectTimeoutQuietServer(t *testing.T) {
	for _, mode := range []client.Mode{client.PollingOnly, client.WebSocketOnly} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := hostile.Endless(t, hostile.Config{Quiet: true, InMemory: true})
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				const timeout = 500 * time.Millisecond
				c, err := client.Dial(ctx, srv.URL, &client.Options{Mode: mode, ConnectTimeout: timeout, Transport: transport.Options{Dial: srv.Dial}})
				if err != nil {
					t.Fatal(err)
				}
				// The server first: Close waits for the pending GET, which
				// this server holds until pingInterval+pingTimeout.
				defer func() { srv.Close(); c.Close() }()
				begin := time.Now()
				err = c.Socket("/admin").Connect(ctx, nil)
				took := time.Since(begin)
				var te *client.TimeoutError
				if !errors.As(err, &te) || err.Error() != "client: connect /admin timed out after 500ms" {
					t.Fatalf("error %v (%T), want the connect TimeoutError", err, err)
				}
				if took < timeout || took > 30*time.Second {
					t.Errorf("Connect failed after %v, want at the %v timeout", took, timeout)
				}
			})
		})
	}
}

// TestUpgradeTimeoutQuietServer: an upgrade probe that is never answered
// fails at the upgrade timeout, reported once, and the session stays on
// polling. In a synctest bubble, the server in memory.
func TestUpgradeTimeoutQuietServer(t *testing.T) { synctest.Test(t, upgradeTimeoutQuietServer) }

func upgradeTimeoutQuietServer(t *testing.T) {
	srv := hostile.Endless(t, hostile.Config{Quiet: true, Upgrades: true, InMemory: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec := newRecorder()
	begin := time.Now()
	c, err := client.Dial(ctx, srv.URL, &client.Options{Mode: client.PollingThenUpgrade, UpgradeTimeout: 500 * time.Millisecond, Hook: rec, Transport: transport.Options{Dial: srv.Dial}})
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Close(); c.Close() }()
	ups := rec.find(client.KindUpgrade)
	if len(ups) != 1 {
		t.Fatalf("%d upgrade events, want 1", len(ups))
	}
	var te *client.TimeoutError
	if !errors.As(ups[0].Err, &te) || ups[0].Err.Error() != "client: upgrade timed out after 500ms" {
		t.Errorf("upgrade error %v, want the upgrade TimeoutError", ups[0].Err)
	}
	if tr := c.Transport(); tr != client.Polling {
		t.Errorf("transport %q after a failed upgrade, want polling", tr)
	}
	if took < 500*time.Millisecond || took > 30*time.Second {
		t.Errorf("Dial returned after %v, want at the 500ms upgrade timeout", took)
	}
}
