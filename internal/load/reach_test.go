package load

import (
	"errors"
	"testing"
	"time"
)

func TestReach(t *testing.T) {
	start := time.Now().Add(-12 * time.Second)
	refused := errors.New(`Get "http://u:pw@127.0.0.1:9/socket.io/?EIO=4&sid=x": connect: connection refused`)
	var r reach
	if _, ok := r.unreachable(start, 0); ok {
		t.Error("unreachable before anything happened (never up: that is 'no client connected')")
	}
	r.lost(true, refused)
	if _, ok := r.unreachable(start, 0); ok {
		t.Error("unreachable although never up")
	}
	r.handshake()
	r.lost(false, nil) // a session lost: not yet an attempt that failed
	if _, ok := r.unreachable(start, 0); ok {
		t.Error("unreachable after a lost session with no failed attempt")
	}
	r.lost(true, refused)
	r.lost(true, errors.New("later"))
	if _, ok := r.unreachable(start, 1); ok {
		t.Error("unreachable while a client is still connected")
	}
	reason, ok := r.unreachable(start, 0)
	want := `target unreachable since 00:12 (2 connection attempts failed): Get "http://***@127.0.0.1:9/socket.io/?…": connect: connection refused`
	if !ok || reason != want {
		t.Errorf("got %v %q\nwant %q", ok, reason, want)
	}
	r.handshake() // back: a success after the failures clears them
	if _, ok := r.unreachable(start, 0); ok {
		t.Error("unreachable after the target came back")
	}
}
