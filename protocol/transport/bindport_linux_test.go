//go:build linux

package transport

import (
	"net"
	"testing"

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
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if v != 1 {
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
