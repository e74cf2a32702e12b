package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// TestMain: protocol/server runs in synctest bubbles here (see prototest.Main).
func TestMain(m *testing.M) { prototest.Main(m) }

// fakeClockWS serves srv on an in-memory listener inside the current synctest bubble and
// opens a WebSocket session to it, so that the server's timers run on the bubble's fake clock:
// a time rule is checked to the nanosecond, with the real defaults, at no wall time, on any
// machine. It returns the connection and when the open packet arrived.
func fakeClockWS(t *testing.T, srv *server.Server) (*websocket.Conn, time.Time) {
	c, _, err := dialer(prototest.ServeInMemory(t, srv)).Dial("ws://siokit.test/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_, b, err := c.ReadMessage()
	if err != nil || !strings.HasPrefix(string(b), "0{") {
		t.Fatalf("open packet: %q, %v", b, err)
	}
	return c, time.Now()
}

// TestHeartbeatOnFakeClock checks the Engine.IO v4 heartbeat: the server pings every
// pingInterval after the open packet while the client answers, and closes the session exactly
// pingTimeout after the first ping left unanswered; with pingTimeout above pingInterval too
// (the built-in server once pinged every pingTimeout then), and with Node's defaults.
func TestHeartbeatOnFakeClock(t *testing.T) {
	for _, tc := range []struct{ interval, timeout time.Duration }{
		{300 * time.Millisecond, 200 * time.Millisecond},
		{300 * time.Millisecond, 1000 * time.Millisecond},
		{server.DefaultPingInterval, server.DefaultPingTimeout}, // 2 min 25 s of fake time
	} {
		t.Run(fmt.Sprintf("%v-%v", tc.interval, tc.timeout), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { heartbeat(t, tc.interval, tc.timeout) })
		})
	}
}

func heartbeat(t *testing.T, interval, timeout time.Duration) {
	c, opened := fakeClockWS(t, server.New(&server.Options{PingInterval: interval, PingTimeout: timeout}))
	// Join the main namespace, or the connect timeout (45 s) would end the session first.
	if err := c.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(b), "40{") {
		t.Fatalf("CONNECT answer: %q, %v", b, err)
	}
	read := func() (string, time.Duration, error) {
		_, b, err := c.ReadMessage()
		return string(b), time.Since(opened), err
	}
	const answered = 4
	for i := 1; i <= answered+1; i++ {
		m, at, err := read()
		if want := time.Duration(i) * interval; err != nil || m != "2" || at != want {
			t.Fatalf("ping %d: %q at %v (%v), want \"2\" at %v", i, m, at, err, want)
		}
		if i <= answered {
			if err := c.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, at, err := read()
	if want := (answered+1)*interval + timeout; err == nil || at != want {
		t.Fatalf("after an unanswered ping: %q at %v (%v), want the connection closed at %v", m, at, err, want)
	}
}

// TestConnectTimeoutOnFakeClock: a session that never joins a namespace is closed exactly
// connectTimeout after it opened, its pings answered meanwhile: Node's default 45 s, and a
// connect timeout far below pingInterval + pingTimeout, so that it is the connect timeout and
// not a heartbeat that ends the session.
func TestConnectTimeoutOnFakeClock(t *testing.T) {
	for _, o := range []server.Options{
		{},
		{PingInterval: 200 * time.Millisecond, PingTimeout: 10 * time.Second, ConnectTimeout: 600 * time.Millisecond},
	} {
		want := o.ConnectTimeout
		if want == 0 {
			want = server.DefaultConnectTimeout
		}
		t.Run(want.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, opened := fakeClockWS(t, server.New(&o))
				for {
					_, b, err := c.ReadMessage()
					if err != nil {
						if at := time.Since(opened); at != want {
							t.Fatalf("closed at %v (%v), want at %v", at, err, want)
						}
						return
					}
					if string(b) != "2" {
						t.Fatalf("got %q: want only pings before the close", b)
					}
					if err := c.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}

func dialer(dial prototest.DialFunc) *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: dial}
}

// TestUpgradeTimeoutOnFakeClock: a polling session whose WebSocket probe succeeded (2probe,
// 3probe) but that never sends the upgrade packet 5 has the probing WebSocket closed exactly
// upgradeTimeout after the probe (Node's default 10 s), and stays usable over polling.
func TestUpgradeTimeoutOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dial := prototest.ServeInMemory(t, server.New(&server.Options{}))
		hc := &http.Client{Transport: &http.Transport{DialContext: dial}}
		defer hc.CloseIdleConnections()
		get := func(q string) string {
			resp, err := hc.Get("http://siokit.test/socket.io/?EIO=4&transport=polling" + q)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", q, resp.StatusCode, b)
			}
			return string(b)
		}
		open := get("")
		i := strings.Index(open, `"sid":"`)
		if i < 0 {
			t.Fatalf("handshake %q", open)
		}
		sid := open[i+7 : i+7+strings.IndexByte(open[i+7:], '"')]
		c, _, err := dialer(dial).Dial("ws://siokit.test/socket.io/?EIO=4&transport=websocket&sid="+sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
			t.Fatal(err)
		}
		if _, b, err := c.ReadMessage(); err != nil || string(b) != "3probe" {
			t.Fatalf("probe answer %q, %v", b, err)
		}
		probed := time.Now()
		if _, b, err := c.ReadMessage(); err == nil {
			t.Fatalf("got %q on the probing WebSocket, want it closed", b)
		}
		if at := time.Since(probed); at != server.DefaultUpgradeTimeout {
			t.Fatalf("probing WebSocket closed %v after the probe, want %v", at, server.DefaultUpgradeTimeout)
		}
		// The session itself lives on over polling: the parked GET gets the noop that
		// released a poll for the upgrade, or the next ping.
		if got := get("&sid=" + sid); got != "6" && got != "2" {
			t.Fatalf("poll after the upgrade timeout: %q, want a noop or a ping", got)
		}
	})
}
