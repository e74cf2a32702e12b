package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/transport"
)

// heartbeatServer is a raw Engine.IO server that sends an event every
// 100 ms (for ticksFor, or for ever when zero) and pings only when told:
// the built-in server cannot be told to stop pinging while it keeps
// sending. In v4 (pingInterval 300 ms, pingTimeout 200 ms) heartbeat
// makes it ping every 300 ms; in v3 it makes it answer the client's pings.
type heartbeatServer struct {
	eio3      bool
	heartbeat bool
	ticksFor  time.Duration
	open      string
	pings     atomic.Int32 // pings from a v3 client
	queue     chan string  // server-to-client packets, in order
	stop      chan struct{}
}

const hbOpen = `0{"sid":"hb","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`

// hbURL is where a client finds a heartbeat server: any host will do, the
// dial of startHeartbeatServer ignores it.
const hbURL = "http://heartbeat.test"

// startHeartbeatServer serves hs in memory, in the caller's synctest
// bubble, and returns the transport options that reach it.
func startHeartbeatServer(t *testing.T, hs *heartbeatServer) transport.Options {
	if hs.open == "" {
		hs.open = hbOpen
	}
	hs.queue, hs.stop = make(chan string, 1024), make(chan struct{})
	dial := prototest.ServeInMemory(t, &http.Server{Handler: hs})
	t.Cleanup(func() { close(hs.stop) }) // before the server's close: handlers end
	return transport.Options{Dial: dial}
}

// produce queues the events and, when pinging, the pings, until stop.
func (hs *heartbeatServer) produce() {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	begin := time.Now()
	for n := 1; ; n++ {
		select {
		case <-hs.stop:
			return
		case <-tick.C:
		}
		if hs.ticksFor == 0 || time.Since(begin) < hs.ticksFor {
			hs.queue <- `42["tick"]`
		}
		if hs.heartbeat && !hs.eio3 && n%3 == 0 {
			hs.queue <- "2"
		}
	}
}

// handle answers one client packet: a CONNECT of "/" is accepted (v4), a
// ping answered when heartbeat (v3).
func (hs *heartbeatServer) handle(p string) {
	switch {
	case p == "40" && !hs.eio3:
		hs.queue <- `40{"sid":"nsp"}`
		go hs.produce()
	case p == "2" && hs.eio3:
		hs.pings.Add(1)
		if hs.heartbeat {
			hs.queue <- "3"
		}
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
		if ws.WriteMessage(websocket.TextMessage, []byte(hs.open)) != nil {
			return
		}
		if hs.eio3 {
			// Socket.IO v4 servers connect "/" unasked.
			hs.queue <- "40"
			go hs.produce()
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
		io.WriteString(w, hs.open)
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
				synctest.Test(t, func(t *testing.T) {
					tr := startHeartbeatServer(t, &heartbeatServer{heartbeat: pinging})
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					begin := time.Now()
					c, err := client.Dial(ctx, hbURL, &client.Options{Mode: mode, Reconnect: client.Reconnect{Disabled: true}, Transport: tr})
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
			})
		}
	}
}

// TestHeartbeatV3 holds the Engine.IO v3 client to its spec and to
// engine.io-client 3.x (WebSocket, pingInterval 1 s, pingTimeout 300 ms):
// it pings pingInterval after the open and after each pong, and only
// then; any packet from the server proves it alive; after a ping the
// server has pingTimeout to send something. On a synctest bubble's fake
// clock, as TestHeartbeatNeedsPings.
func TestHeartbeatV3(t *testing.T) {
	const (
		open     = `0{"sid":"hb","upgrades":[],"pingInterval":1000,"pingTimeout":300}`
		interval = time.Second
		timeout  = 300 * time.Millisecond
	)
	cases := []struct {
		name     string
		srv      *heartbeatServer
		dropped  bool
		minPings int32
		maxPings int32
	}{
		// Pongs keep the pings coming.
		{"pongs", &heartbeatServer{heartbeat: true, ticksFor: time.Nanosecond}, false, 2, 5},
		// No pong: one ping only, but the events keep the session.
		{"events-no-pong", &heartbeatServer{}, false, 1, 1},
		// Events until 900 ms, no pong: dead pingTimeout after the ping
		// at 1 s, not pingInterval+pingTimeout after the last event.
		{"silent-after-ping", &heartbeatServer{ticksFor: 950 * time.Millisecond}, true, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				hs := tc.srv
				hs.eio3, hs.open = true, open
				tr := startHeartbeatServer(t, hs)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				begin := time.Now()
				c, err := client.Dial(ctx, hbURL, &client.Options{EIO: 3, Mode: client.WebSocketOnly, Reconnect: client.Reconnect{Disabled: true}, Transport: tr})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				const watch = 3500 * time.Millisecond
				select {
				case <-c.Done():
				case <-time.After(watch):
				}
				took := time.Since(begin)
				if n := hs.pings.Load(); n < tc.minPings || n > tc.maxPings {
					t.Errorf("%d pings in %v, want %d to %d", n, took, tc.minPings, tc.maxPings)
				}
				select {
				case <-c.Done():
				default:
					if tc.dropped {
						t.Fatalf("still connected after %v", took)
					}
					return
				}
				var de *client.DisconnectError
				if err := c.Err(); !tc.dropped || !errors.As(err, &de) || de.Reason != client.ReasonPingTimeout {
					t.Fatalf("ended after %v with %v, want %v", took, err, map[bool]string{true: "ping timeout", false: "to stay connected"}[tc.dropped])
				}
				// pingInterval+pingTimeout after the last event would be 2.2 s.
				if took < interval+timeout-50*time.Millisecond || took > interval+timeout+500*time.Millisecond {
					t.Errorf("dropped after %v, want about %v", took, interval+timeout)
				}
				t.Logf("dropped after %v", took)
			})
		})
	}
}
