package server

import (
	"sync"

	"github.com/siokit/siokit/protocol/socketio"
)

// Broadcast is an emit to a set of sockets of one namespace; build it with
// Namespace.To, Socket.To or Broadcast.Except.
type Broadcast struct {
	ns     *Namespace
	rooms  []string
	except *Socket
}

// Except leaves s out of the broadcast (Node's socket.broadcast).
func (b *Broadcast) Except(s *Socket) *Broadcast {
	c := *b
	c.except = s
	return &c
}

// Emit sends the event to every member; args are encoded as Socket.Emit
// does.
func (b *Broadcast) Emit(event string, args ...any) error {
	_, err := b.EmitCount(event, args...)
	return err
}

// EmitCount is Emit returning the number of sockets the packet was queued
// on.
func (b *Broadcast) EmitCount(event string, args ...any) (int, error) {
	scratch := getFrame()
	defer scratch.release()
	data, buffers, err := socketio.AppendArgs(scratch.b, args)
	scratch.b = data
	if err != nil {
		return 0, err
	}
	return b.EmitRaw(event, data, buffers)
}

var memberPool = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

// EmitRaw sends an event whose arguments are already a JSON array, with
// buffers as attachments. The packet is encoded once and the same buffer is
// queued on every member, which writes it when its turn comes; buffers are
// shared, not copied, so they must not change afterwards. It returns the
// number of recipients.
func (b *Broadcast) EmitRaw(event string, args []byte, buffers [][]byte) (int, error) {
	f, err := encodeEvent(b.ns.name, event, socketio.NoID, args, len(buffers))
	if err != nil {
		return 0, err
	}
	mp := memberPool.Get().(*[]*Socket)
	members := b.collect((*mp)[:0])
	var arr [4]item
	items := appendItems(arr[:0], f, buffers)
	for _, s := range members {
		f.retain()
		s.conn.sess.enqueue(items, false)
	}
	f.release()
	n := len(members)
	clear(members)
	*mp = members[:0]
	memberPool.Put(mp)
	return n, nil
}

func (b *Broadcast) collect(dst []*Socket) []*Socket {
	ns := b.ns
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	switch len(b.rooms) {
	case 0:
		for s := range ns.sockets {
			if s != b.except {
				dst = append(dst, s)
			}
		}
	case 1:
		for s := range ns.rooms[b.rooms[0]] {
			if s != b.except {
				dst = append(dst, s)
			}
		}
	default:
		seen := make(map[*Socket]struct{})
		for _, r := range b.rooms {
			for s := range ns.rooms[r] {
				if _, dup := seen[s]; !dup && s != b.except {
					seen[s] = struct{}{}
					dst = append(dst, s)
				}
			}
		}
	}
	return dst
}

// appendItems returns the queue items of one packet: the frame, then one
// binary message per attachment.
func appendItems(dst []item, f *frame, buffers [][]byte) []item {
	dst = append(dst, item{f: f, data: f.b, msg: true})
	for _, b := range buffers {
		dst = append(dst, item{data: b, binary: true, msg: true})
	}
	return dst
}
