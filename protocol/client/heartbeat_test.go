package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/client"
)

// heartbeatServer is a raw Engine.IO v4 server with pingInterval 300 ms
// and pingTimeout 200 ms that sends an event every 100 ms, and a ping
// every 300 ms only when pinging: the built-in server cannot be told to
// stop pinging while it keeps sending.
type heartbeatServer struct {
	pinging bool
	queue   chan string // server-to-client packets, in order
	stop    chan struct{}
}

const hbOpen = `0{"sid":"hb","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`

func startHeartbeatServer(t *testing.T, pinging bool) *httptest.Server {
	hs := &heartbeatServer{pinging: pinging, queue: make(chan string, 1024), stop: make(chan struct{})}
	srv := httptest.NewServer(hs)
	t.Cleanup(func() { close(hs.stop); srv.Close() })
	return srv
}

// produce queues the events and, when pinging, the pings, until stop.
func (hs *heartbeatServer) produce() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-hs.stop:
			return
		case <-tick.C:
		}
		hs.queue <- `42["tick"]`
		if hs.pinging && n%3 == 0 {
			hs.queue <- "2"
		}
	}
}

// handle answers one client packet: a CONNECT of "/" is accepted.
func (hs *heartbeatServer) handle(p string) {
	if p == "40" {
		hs.queue <- `40{"sid":"nsp"}`
		go hs.produce()
	}
}

func (hs *heartbeatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Said, not sniffed: a body with record separators sniffs as binary.
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	switch {
	case q.Get("transport") == "websocket":
		up := websocket.Upgrader{}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		go func() {
			for {
				_, m, err := ws.ReadMessage()
				if err != nil {
					return
				}
				hs.handle(string(m))
			}
		}()
		if ws.WriteMessage(websocket.TextMessage, []byte(hbOpen)) != nil {
			return
		}
		for {
			select {
			case <-hs.stop:
				return
			case p := <-hs.queue:
				if ws.WriteMessage(websocket.TextMessage, []byte(p)) != nil {
					return
				}
			}
		}
	case q.Get("sid") == "":
		io.WriteString(w, hbOpen)
	case r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		for _, p := range strings.Split(string(body), "\x1e") {
			hs.handle(p)
		}
		io.WriteString(w, "ok")
	default:
		var ps []string
		select {
		case <-hs.stop:
			return
		case p := <-hs.queue:
			ps = append(ps, p)
		}
		for len(ps) < 16 {
			select {
			case p := <-hs.queue:
				ps = append(ps, p)
				continue
			default:
			}
			break
		}
		io.WriteString(w, strings.Join(ps, "\x1e"))
	}
}

// TestHeartbeatNeedsPings: in Engine.IO v4 only a ping renews the
// client's watchdog, as the spec says and engine.io-client does: a server
// that keeps sending events but no ping is dropped for "ping timeout"
// within pingInterval+pingTimeout (500 ms here) plus slack, on both
// transports; one that keeps pinging stays connected well past it.
func TestHeartbeatNeedsPings(t *testing.T) {
	const watchdog = 500 * time.Millisecond
	for _, mode := range []client.Mode{client.WebSocketOnly, client.PollingOnly} {
		for _, pinging := range []bool{false, true} {
			name := mode.String() + "/no-ping"
			if pinging {
				name = mode.String() + "/pinging"
			}
			t.Run(name, func(t *testing.T) {
				srv := startHeartbeatServer(t, pinging)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				begin := time.Now()
				c, err := client.Dial(ctx, srv.URL, &client.Options{Mode: mode, Reconnect: client.Reconnect{Disabled: true}})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var ticks atomic.Int32
				s := c.Socket("/")
				s.On("tick", func(*client.Message) { ticks.Add(1) })
				if err := s.Connect(ctx, nil); err != nil {
					t.Fatal(err)
				}
				if pinging {
					select {
					case <-c.Done():
						t.Fatalf("dropped after %v although the server pings: %v", time.Since(begin), c.Err())
					case <-time.After(4 * watchdog):
					}
					if n := ticks.Load(); n < 10 {
						t.Errorf("%d events in %v, want about 20", n, 4*watchdog)
					}
					return
				}
				select {
				case <-c.Done():
				case <-time.After(watchdog + 2*time.Second):
					t.Fatalf("still connected after %v of events without a ping (%d events)", time.Since(begin), ticks.Load())
				}
				took := time.Since(begin)
				var de *client.DisconnectError
				if err := c.Err(); !errors.As(err, &de) || de.Reason != client.ReasonPingTimeout {
					t.Fatalf("ended with %v, want reason %q", err, client.ReasonPingTimeout)
				}
				if took < watchdog-50*time.Millisecond {
					t.Errorf("dropped after %v, before pingInterval+pingTimeout %v", took, watchdog)
				}
				if n := ticks.Load(); n < 2 {
					t.Errorf("%d events before the drop, want the server's events to have kept coming", n)
				}
				t.Logf("dropped after %v, %d events received", took, ticks.Load())
			})
		}
	}
}
