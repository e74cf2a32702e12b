package client_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
)

const idleClients = 1000

// footprint is the client-side memory a process uses beyond its baseline:
// heap in use plus goroutine stacks, after a GC.
func footprint() (bytes uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
}

// measureIdle connects n clients with connect, lets them settle and
// returns bytes and goroutines per client; closeAll releases them.
func measureIdle(b *testing.B, n int, connect func(i int) (closeFn func())) (perClient float64, goroutinesPer float64) {
	b.Helper()
	m0, g0 := footprint()
	closers := make([]func(), 0, n)
	for i := 0; i < n; i++ {
		closers = append(closers, connect(i))
	}
	time.Sleep(500 * time.Millisecond) // let polling GETs settle as pending requests
	m1, g1 := footprint()
	for _, c := range closers {
		c()
	}
	return (float64(m1) - float64(m0)) / float64(n), float64(g1-g0) / float64(n)
}

// BenchmarkIdleClients prints memory and goroutines per idle client for
// 1,000 clients of each transport, next to a bare fasthttp/websocket
// connection with one reader goroutine measured the same way against
// the same server. Run with -benchtime=1x.
func BenchmarkIdleClients(b *testing.B) {
	p := testpeer.Start(b, "node4")
	wsURL := "ws://" + p.Addr + "/socket.io/?EIO=4&transport=websocket"
	ctx := context.Background()
	var bare float64
	b.Run("bare-websocket", func(b *testing.B) {
		for range b.N {
			per, gor := measureIdle(b, idleClients, func(int) func() {
				conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
				if err != nil {
					b.Fatal(err)
				}
				go func() {
					for {
						if _, _, err := conn.ReadMessage(); err != nil {
							return
						}
					}
				}()
				return func() { conn.Close() }
			})
			bare = per
			b.ReportMetric(per, "B/client")
			b.ReportMetric(gor, "goroutines/client")
		}
	})
	for _, mode := range []client.Mode{client.WebSocketOnly, client.PollingOnly} {
		b.Run(mode.String(), func(b *testing.B) {
			for range b.N {
				per, gor := measureIdle(b, idleClients, func(int) func() {
					c, err := client.Dial(ctx, p.URL, &client.Options{Mode: mode})
					if err != nil {
						b.Fatal(err)
					}
					if err := c.Socket("/").Connect(ctx, nil); err != nil {
						b.Fatal(err)
					}
					return func() { c.Close() }
				})
				b.ReportMetric(per, "B/client")
				b.ReportMetric(gor, "goroutines/client")
				if bare > 0 {
					b.ReportMetric(per/bare, "x-bare")
				}
			}
		})
	}
}

// echoClient connects one client whose "echo" handler signals done.
func echoClient(tb testing.TB, p *testpeer.Peer, mode client.Mode) (*client.Socket, chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := prototest.Dial(tb, p.URL, &client.Options{Mode: mode})
	s := c.Socket("/")
	done := make(chan struct{}, 1)
	s.On("echo", func(*client.Message) { done <- struct{}{} })
	prototest.OpenConnect(tb, ctx, c, s, nil)
	return s, done
}

var echoArgs = []byte(`[{"seq":1,"t":1732600000000,"payload":"abcdefghijklmnopqrstuvwxyz"}]`)

// BenchmarkEchoRoundTrip measures one emit and its echoed event through
// the Node reference server; allocs/op counts client-side allocations per
// round trip after warm-up.
func BenchmarkEchoRoundTrip(b *testing.B) {
	p := testpeer.Start(b, "node4")
	for _, mode := range []client.Mode{client.WebSocketOnly, client.PollingOnly} {
		b.Run(mode.String(), func(b *testing.B) {
			s, done := echoClient(b, p, mode)
			benchRoundTrips(b, s, client.Outgoing{Event: "echo", Args: echoArgs}, done)
		})
	}
}

// BenchmarkAckRoundTrip measures emit-with-ack round trips (callback form).
func BenchmarkAckRoundTrip(b *testing.B) {
	p := testpeer.Start(b, "node4")
	s, _ := echoClient(b, p, client.WebSocketOnly)
	done := make(chan struct{}, 1)
	out := client.Outgoing{Event: "echo-ack", Args: echoArgs, Timeout: 5 * time.Second,
		Ack: func(m *client.Message, err error) {
			if err != nil {
				b.Error(err)
			}
			done <- struct{}{}
		}}
	benchRoundTrips(b, s, out, done)
}

// benchRoundTrips sends out b.N times, each after the previous one's
// answer signalled done, with allocations reported; 100 round trips
// first warm the client's buffers and pools up, uncounted.
func benchRoundTrips(b *testing.B, s *client.Socket, out client.Outgoing, done <-chan struct{}) {
	for range 100 {
		s.Send(out)
		<-done
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := s.Send(out); err != nil {
			b.Fatal(err)
		}
		<-done
	}
}
