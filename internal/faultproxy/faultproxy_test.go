package faultproxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/faultproxy"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
)

// The proxy must pass traffic through when it is not breaking it, and
// break exactly what its fault names: checked with the real client.
func TestProxyFaults(t *testing.T) {
	peer := testpeer.Start(t, "node4", "PING_INTERVAL=200", "PING_TIMEOUT=300")
	for _, mode := range []client.Mode{client.PollingOnly, client.WebSocketOnly} {
		t.Run(mode.String(), func(t *testing.T) {
			dial := func(f faultproxy.Fault) (*client.Socket, *client.Conn) {
				p := faultproxy.Start(peer.Addr, f)
				t.Cleanup(p.Close)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c, err := client.Dial(ctx, p.URL, &client.Options{Mode: mode, Reconnect: client.Reconnect{Disabled: true}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				s := c.Socket("/")
				if err := s.Connect(ctx, nil); err != nil {
					t.Fatal(err)
				}
				return s, c
			}
			ackOK := func(s *client.Socket) error {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_, err := s.EmitWithAck(ctx, "message-with-ack", 1)
				return err
			}

			s, _ := dial(faultproxy.SIOSidIsEIOSid)
			if err := ackOK(s); err != nil {
				t.Fatalf("acks broken by an unrelated fault: %v", err)
			}
			if s.ID() != s.Conn().Handshake().SID {
				t.Fatalf("SIOSidIsEIOSid: socket id %q, want the Engine.IO sid %q", s.ID(), s.Conn().Handshake().SID)
			}

			s, _ = dial(faultproxy.CorruptAckIDs)
			if err := ackOK(s); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("CorruptAckIDs: ack arrived (%v)", err)
			}

			_, c := dial(faultproxy.DropPongs)
			select {
			case <-c.Done():
			case <-time.After(3 * time.Second):
				t.Fatal("DropPongs: the server kept a session that never answered pings")
			}
		})
	}
}
