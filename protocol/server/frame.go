package server

import (
	"sync"
	"sync/atomic"

	"github.com/siokit/siokit/protocol/socketio"
)

// frame is a pooled buffer holding one encoded outgoing Engine.IO packet in
// its text form ("4" + Socket.IO packet). It is reference counted because a
// broadcast queues the same frame on every member's session and the last
// writer returns it to the pool.
type frame struct {
	b    []byte
	refs atomic.Int32
}

// maxPooledFrame keeps one huge packet from pinning a huge buffer in the pool.
const maxPooledFrame = 64 << 10

var framePool = sync.Pool{New: func() any { return &frame{b: make([]byte, 0, 512)} }}

// getFrame returns an empty frame holding one reference.
func getFrame() *frame {
	f := framePool.Get().(*frame)
	f.b = f.b[:0]
	f.refs.Store(1)
	return f
}

func (f *frame) retain() { f.refs.Add(1) }

// appendArgs encodes args (as socketio.AppendArgs) into f's buffer and keeps
// the grown buffer in f, so that it goes back to the pool with f; data
// aliases f.b and is valid until f is released.
func (f *frame) appendArgs(args []any) (data []byte, buffers [][]byte, err error) {
	data, buffers, err = socketio.AppendArgs(f.b, args)
	f.b = data
	return data, buffers, err
}

func (f *frame) release() {
	if f.refs.Add(-1) != 0 {
		return
	}
	if cap(f.b) > maxPooledFrame {
		return
	}
	framePool.Put(f)
}

// item is one queued Engine.IO packet: data is the WebSocket frame payload
// (text form "<type><data>", or raw bytes when binary), owned by f when f is
// not nil. msg marks message packets, the ones Stats counts.
type item struct {
	f      *frame
	data   []byte
	binary bool
	msg    bool
}

func (it *item) release() {
	if it.f != nil {
		it.f.release()
		it.f = nil
	}
}

// Static packets, shared by every session and never pooled.
var (
	pktPing   = []byte("2")
	pktNoop   = []byte("6")
	pktClose  = []byte("1")
	pktProbe  = []byte("3probe")
	bodyOK    = []byte("ok")
	noopClose = []byte("6\x1e1")
)

// readBufPool holds WebSocket read buffers between connections.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
