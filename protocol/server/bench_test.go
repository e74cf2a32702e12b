package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

// rawEcho is a minimal WebSocket client with a reusable read buffer, so
// that allocations per round trip are (almost) all the server's.
type rawEcho struct {
	ws  *transport.WebSocket
	buf []byte
}

func dialRawEcho(b *testing.B, url string) *rawEcho {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := transport.DialWebSocket(ctx, strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &rawEcho{ws: ws, buf: make([]byte, 4096)}
	r.next(b) // open
	if err := ws.WriteText([]byte("40")); err != nil {
		b.Fatal(err)
	}
	r.next(b) // CONNECT reply
	r.next(b) // auth
	return r
}

// next returns the next frame that is not a ping (pings are answered).
func (r *rawEcho) next(b *testing.B) []byte {
	for {
		data, _, err := r.ws.Read(r.buf)
		if err != nil {
			b.Fatal(err)
		}
		if len(data) == 1 && data[0] == '2' {
			_ = r.ws.WriteText([]byte("3"))
			continue
		}
		return data
	}
}

// BenchmarkEcho measures echo round trips (an event with an ack id, acked
// with the same args) between a client and the server in one process over
// loopback. allocs/op covers both sides; the raw variants use a client that
// allocates nothing per round trip, so theirs are the server's.
func BenchmarkEcho(b *testing.B) {
	srv := newTestServer(&server.Options{PingInterval: time.Minute, PingTimeout: time.Minute})
	url := start(b, srv)
	req := []byte(`421["message-with-ack",{"seq":1,"payload":"0123456789abcdef"}]`)

	b.Run("raw-websocket-sequential", func(b *testing.B) {
		r := dialRawEcho(b, url)
		defer r.ws.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := r.ws.WriteText(req); err != nil {
				b.Fatal(err)
			}
			if f := r.next(b); f[0] != '4' || f[1] != '3' {
				b.Fatalf("got %q", f)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
	})

	b.Run("raw-websocket-window64", func(b *testing.B) {
		r := dialRawEcho(b, url)
		defer r.ws.Close()
		const window = 64
		credits := make(chan struct{}, window)
		for range window {
			credits <- struct{}{}
		}
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for range b.N {
				<-credits
				if err := r.ws.WriteText(req); err != nil {
					return
				}
			}
		}()
		for range b.N {
			r.next(b)
			credits <- struct{}{}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
	})

	b.Run("client-websocket-sequential", func(b *testing.B) {
		benchClientEcho(b, url, client.WebSocketOnly, `[{"seq":1,"payload":"0123456789abcdef"}]`)
	})

	b.Run("client-polling-sequential", func(b *testing.B) {
		benchClientEcho(b, url, client.PollingOnly, `[{"seq":1}]`)
	})
}

// benchClientEcho measures sequential echo round trips of a siokit client in
// mode: each message-with-ack (args its JSON array) waits for its ack.
func benchClientEcho(b *testing.B, url string, mode client.Mode, args string) {
	c := dial(b, url, mode)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.Socket("/")
	prototest.OpenConnect(b, ctx, c, s, nil)
	done := make(chan error, 1)
	out := client.Outgoing{Event: "message-with-ack", Args: []byte(args),
		Timeout: 10 * time.Second, Ack: func(m *client.Message, err error) { done <- err }}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := s.Send(out); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
}
