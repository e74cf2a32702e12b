package client

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/protocol/socketio"
)

// TestAckTableInlineAndMap: the first pending ack is kept inline and the
// others in the map; each completes once, whatever the order, and
// timeouts and failures reach both places.
func TestAckTableInlineAndMap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &Conn{}
		root, other := &Socket{c: c, nsp: "/"}, &Socket{c: c, nsp: "/x"}
		var got []string
		done := func(tag string) AckFunc {
			return func(m *Message, err error) {
				switch {
				case err != nil:
					got = append(got, tag+" "+err.Error())
				default:
					got = append(got, fmt.Sprintf("%s %s", tag, m.Args))
				}
			}
		}
		ack := func(s *Socket, id int64, data string) {
			c.acks.deliver(c, s, &socketio.Packet{Type: socketio.Ack, Namespace: s.nsp, ID: id, Data: []byte(data)})
		}
		now := time.Now()
		c.acks.add(root, 0, now, 0, done("a"), nil) // inline
		c.acks.add(root, 1, now, 0, done("b"), nil) // map
		c.acks.add(other, 0, now, 0, done("c"), nil)
		ack(root, 1, `[1]`)                                     // from the map first
		ack(root, 0, `[0]`)                                     // then the inline one
		ack(root, 0, `[0]`)                                     // a duplicate is ignored
		c.acks.add(root, 2, now, 0, done("d"), nil)             // inline again
		c.acks.add(root, 3, now, time.Second, done("e"), nil)   // map, times out
		c.acks.add(root, 4, now, 3*time.Second, done("f"), nil) // map, fails first
		time.Sleep(2 * time.Second)
		synctest.Wait()
		c.acks.failSocket(other, errors.New("other gone"))
		ack(root, 2, `[2]`)
		c.acks.failAll(errors.New("closed"))
		ack(root, 4, `[4]`) // after its failure: ignored
		want := []string{"b [1]", "a [0]", "e " + ErrAckTimeout.Error(), "c other gone", "d [2]", "f closed"}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		c.acks.mu.Lock()
		defer c.acks.mu.Unlock()
		if c.acks.hasOne || len(c.acks.m) != 0 {
			t.Fatalf("left pending: inline %v, map %d", c.acks.hasOne, len(c.acks.m))
		}
	})
}
