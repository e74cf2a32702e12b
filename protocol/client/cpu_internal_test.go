package client

import (
	"testing"
	"time"
)

// BenchmarkReceiveAck measures the client's own CPU for the receive half
// of an acked round trip, with no network and no server: an Engine.IO
// frame carrying bench/cost.sh's ack (the 64-byte string and the
// sequence object) through parsing, dispatch, the ack table and an
// observing hook, as sioload has one.
func BenchmarkReceiveAck(b *testing.B) {
	c, err := New("http://127.0.0.1:1", &Options{Hook: HookFunc(func(Event) {})})
	if err != nil {
		b.Fatal(err)
	}
	s := c.Socket("/")
	s.state = stateConnected
	frame := []byte(`43` + `7["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",{"seq":7}]`)
	acked := 0
	fn := func(m *Message, err error) {
		if err == nil && len(m.Args) > 0 {
			acked++
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		c.acks.add(s, 7, time.Now(), 10*time.Second, fn, nil)
		if err := c.handleFrame(frame, false); err != nil {
			b.Fatal(err)
		}
	}
	if acked != b.N {
		b.Fatalf("%d acks delivered of %d", acked, b.N)
	}
	c.acks.timer.Stop()
}
