package prototest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// DialFunc opens a connection as transport.Options.Dial,
// websocket.Dialer.NetDialContext and http.Transport.DialContext do.
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// FastHTTPWorkerLinger is how long the cleanup of ServeInMemory sleeps
// after the server stopped: fasthttp's idle-worker cleaner notices the
// stop only after its sleep (MaxIdleWorkerDuration, 10 s by default), and
// a bubble must not end with it still asleep.
const FastHTTPWorkerLinger = 11 * time.Second

// Main runs the tests of a package that serves with fasthttp inside
// testing/synctest bubbles: func TestMain(m *testing.M) { prototest.Main(m) }.
// It first starts fasthttp's once-per-process Date header updater, which
// a fasthttp server starts on its first response: started inside a bubble
// it would outlive the bubble (it never exits).
func Main(m *testing.M) {
	var h fasthttp.ResponseHeader
	h.AppendBytes(nil)
	m.Run()
}

// ServeInMemory serves srv on an in-memory listener until tb ends and
// returns the function that dials it, whatever address it is given. Inside
// a testing/synctest bubble, a client dialling with it and srv then share
// the bubble's fake clock: nothing in it waits on real network I/O, which
// a bubble cannot see as blocked. It is meant for bubbles only: its
// cleanup sleeps FastHTTPWorkerLinger, which costs no time on the fake
// clock. At the end it closes srv and fails tb if Serve returned an error
// (http.ErrServerClosed, net/http's answer to Close, is none).
func ServeInMemory(tb testing.TB, srv Server) DialFunc {
	tb.Helper()
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		srv.Close()
		ln.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
		time.Sleep(FastHTTPWorkerLinger)
	})
	return func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }
}
