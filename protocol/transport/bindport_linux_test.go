//go:build linux

package transport

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/server"
	"golang.org/x/sys/unix"
)

// TestBoundSourceDialsWithoutAPortAtBind: a WebSocket dial from a bound
// source address sets IP_BIND_ADDRESS_NO_PORT before bind, and still
// connects from that address.
func TestBoundSourceDialsWithoutAPortAtBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Addr, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c.RemoteAddr()
		c.Close()
	}()
	src := net.ParseIP("127.0.0.2")
	conn, err := netDialer(&Options{LocalAddr: &net.TCPAddr{IP: src}}).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v := bindNoPortOf(t, conn.(*net.TCPConn)); v != 1 {
		t.Errorf("IP_BIND_ADDRESS_NO_PORT = %d on a dial from a bound source, want 1", v)
	}
	if got := conn.LocalAddr().(*net.TCPAddr); !got.IP.Equal(src) || got.Port == 0 {
		t.Errorf("dialled from %v, want %v with a port", got, src)
	}
	if from := <-accepted; from == nil || !from.(*net.TCPAddr).IP.Equal(src) {
		t.Errorf("the server saw the connection from %v, want %v", from, src)
	}
	// Without a source address the kernel binds at connect anyway.
	if d := netDialer(&Options{}); d.Control != nil {
		t.Error("a dialer without a source address has a Control")
	}
}

// acceptLog records the remote address of every connection the server
// accepts: protocol/server tells none of them.
type acceptLog struct {
	net.Listener
	from chan net.Addr
}

func (l *acceptLog) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		select {
		case l.from <- c.RemoteAddr():
		default:
		}
	}
	return c, err
}

// TestBoundPollingDialsWithoutAPortAtBind: polling from a bound source
// address dials as WebSocket does (issue 11). fasthttp's dialer, used
// until then, bound a port at bind() whatever the destination, so a
// polling load test ran out of ports on one source address long before
// a WebSocket one did. Both the session's own connections and the
// fasthttp.Client of NewHTTPClient are checked, against protocol/server.
func TestBoundPollingDialsWithoutAPortAtBind(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &acceptLog{Listener: tcp, from: make(chan net.Addr, 16)}
	srv := server.New(nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	src := net.ParseIP("127.0.0.2")
	url := "http://" + tcp.Addr().String() + "/socket.io/?EIO=4&transport=polling"
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"session connections", Options{LocalAddr: &net.TCPAddr{IP: src}}},
		{"NewHTTPClient", Options{HTTPClient: NewHTTPClient(nil, &net.TCPAddr{IP: src})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPolling(url, &tc.opts)
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			body, _, err := p.Get(ctx, time.Time{}, nil)
			if err != nil || !bytes.HasPrefix(body, []byte(`0{"sid":`)) {
				t.Fatalf("handshake %q, %v", body, err)
			}
			if from := <-ln.from; !from.(*net.TCPAddr).IP.Equal(src) {
				t.Errorf("the server saw the connection from %v, want %v", from, src)
			}
			if p.conns == nil {
				return // a fasthttp.Client keeps its connections out of reach
			}
			conn, ok := p.conns.get.conn.(*net.TCPConn)
			if !ok {
				t.Fatalf("the GET connection is a %T, not kept, or not TCP", p.conns.get.conn)
			}
			if v := bindNoPortOf(t, conn); v != 1 {
				t.Errorf("IP_BIND_ADDRESS_NO_PORT = %d on a polling dial from a bound source, want 1", v)
			}
		})
	}
}

// bindNoPortOf reads IP_BIND_ADDRESS_NO_PORT back from conn's socket.
func bindNoPortOf(t *testing.T, conn *net.TCPConn) int {
	t.Helper()
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v
}
