// Package prototest holds what the tests of protocol/* and internal/*
// need when they talk to a Socket.IO server through protocol/client, in the
// spirit of net/http/httptest: a bounded context, an inbox for handler
// deliveries, a poll-until helper, a dial that closes at cleanup and a
// server on 127.0.0.1:0, or in memory inside a testing/synctest bubble,
// for the length of a test.
//
// It imports only protocol packages, so that a test anywhere below the
// client can use it without an import pointing upwards.
package prototest

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
)

// Timeouts of the helpers: generous, because a loaded 2-core machine
// running several suites at once is slow, and a test that hangs should
// still fail with a message instead of at the go test deadline.
const (
	// ContextTimeout bounds the context Context returns.
	ContextTimeout = 60 * time.Second
	// NextTimeout is how long Inbox.Next waits for a delivery.
	NextTimeout = 20 * time.Second
)

// Context returns a context cancelled after ContextTimeout or when tb
// ends, whichever comes first.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), ContextTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// Inbox collects the messages delivered to a client handler, so a test
// can wait for them in order.
type Inbox struct{ ch chan *client.Message }

// inboxSize is large enough for the bursts the tests send without a
// handler ever blocking the client's reader.
const inboxSize = 256

// NewInbox returns an empty inbox.
func NewInbox() *Inbox { return &Inbox{ch: make(chan *client.Message, inboxSize)} }

// Handler is a client.Handler that keeps a copy of m: the client reuses
// its message after the handler returns.
func (b *Inbox) Handler(m *client.Message) { b.ch <- m.Clone() }

// C is the channel of the delivered messages, for tests that select on
// it with other events.
func (b *Inbox) C() <-chan *client.Message { return b.ch }

// Next returns the next delivered message, failing tb if none comes
// within NextTimeout; what names the message in that failure.
func (b *Inbox) Next(tb testing.TB, what string) *client.Message {
	tb.Helper()
	select {
	case m := <-b.ch:
		return m
	case <-time.After(NextTimeout):
		tb.Fatalf("no %s within %v", what, NextTimeout)
		return nil
	}
}

// None fails tb if a message is delivered within d: what is said of it.
func (b *Inbox) None(tb testing.TB, d time.Duration, what string) {
	tb.Helper()
	select {
	case m := <-b.ch:
		tb.Fatalf("%s: got %s", what, m.Args)
	case <-time.After(d):
	}
}

// WaitFor polls cond until it holds, failing tb after d; what names the
// condition in that failure.
func WaitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Dial returns a client of url with opts (nil for the defaults), closed
// when tb ends.
func Dial(tb testing.TB, url string, opts *client.Options) *client.Conn {
	tb.Helper()
	c, err := client.New(url, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// NoReconnect is the options of a client that fails instead of
// reconnecting, in mode: what a test of one session wants.
func NoReconnect(mode client.Mode) *client.Options {
	return &client.Options{Mode: mode, Reconnect: client.Reconnect{Disabled: true}}
}

// OpenConnect opens c's Engine.IO session and connects s, one of c's
// sockets, with auth as its CONNECT payload, failing tb on either error.
func OpenConnect(tb testing.TB, ctx context.Context, c *client.Conn, s *client.Socket, auth any) {
	tb.Helper()
	if err := c.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := s.Connect(ctx, auth); err != nil {
		tb.Fatal(err)
	}
}

// Server is what Serve needs of a server: protocol/server's and
// internal/target's both are.
type Server interface {
	Serve(ln net.Listener) error
	Close() error
}

// Serve serves srv on 127.0.0.1:0 until tb ends and returns its base URL,
// http://127.0.0.1:<port>. At the end it closes srv and fails tb if Serve
// returned an error or did not return within 5 s of the close.
func Serve(tb testing.TB, srv Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		srv.Close()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			tb.Error("Serve did not return after Close")
		}
	})
	return "http://" + ln.Addr().String()
}

// BinaryBothWays checks the handler contract's binary round trips on
// root, connected to a server with peers/README.md's handlers, whose
// "message-back" events back receives: a buffer and an empty nested one
// come back as sent, a buffer acked by "message-with-ack" too. The Node
// peers and the built-in server are held to the same check.
func BinaryBothWays(tb testing.TB, ctx context.Context, root *client.Socket, back *Inbox) {
	tb.Helper()
	b1 := []byte{1, 2, 3}
	if err := root.Emit("message", b1, map[string]any{"nested": []byte{}}); err != nil {
		tb.Fatal(err)
	}
	m := back.Next(tb, "binary message-back")
	var got1 []byte
	var got2 struct {
		Nested []byte `json:"nested"`
	}
	if err := m.Decode(&got1, &got2); err != nil {
		tb.Fatalf("decode %s: %v", m.Args, err)
	}
	if !bytes.Equal(got1, b1) || got2.Nested == nil || len(got2.Nested) != 0 {
		tb.Fatalf("binary echo %v %v, want %v and empty", got1, got2.Nested, b1)
	}
	am, err := root.EmitWithAck(ctx, "message-with-ack", []byte{4, 5, 6})
	if err != nil {
		tb.Fatal(err)
	}
	var got3 []byte
	if err := am.Decode(&got3); err != nil || !bytes.Equal(got3, []byte{4, 5, 6}) {
		tb.Fatalf("binary ack %v (%v), want 04 05 06", got3, err)
	}
}

// ConnectCustom connects c's "/custom" namespace with an inbox for its
// "message-back" events, failing tb if the connect fails: the namespace
// peers/README.md's servers echo on beside "/".
func ConnectCustom(tb testing.TB, ctx context.Context, c *client.Conn) (*client.Socket, *Inbox) {
	tb.Helper()
	custom, back := c.Socket("/custom"), NewInbox()
	custom.On("message-back", back.Handler)
	if err := custom.Connect(ctx, nil); err != nil {
		tb.Fatalf("connect /custom: %v", err)
	}
	return custom, back
}

// Multiplexed checks that namespaces share c's session without mixing:
// "/custom" (ConnectCustom) and root, connected to a server with
// peers/README.md's handlers and root's "message-back" events going to
// back, each get the echo of what was sent on them, and root still
// echoes once "/custom" has left. The Node peers and the built-in server
// are held to the same check.
func Multiplexed(tb testing.TB, ctx context.Context, c *client.Conn, root *client.Socket, back *Inbox) {
	tb.Helper()
	custom, cback := ConnectCustom(tb, ctx, c)
	if err := custom.Emit("message", "on custom"); err != nil {
		tb.Fatal(err)
	}
	if err := root.Emit("message", "on root"); err != nil {
		tb.Fatal(err)
	}
	if m := cback.Next(tb, "/custom message-back"); string(m.Args) != `["on custom"]` || m.Namespace != "/custom" {
		tb.Fatalf("/custom got %s on %s", m.Args, m.Namespace)
	}
	if m := back.Next(tb, "/ message-back"); string(m.Args) != `["on root"]` {
		tb.Fatalf("/ got %s", m.Args)
	}
	if err := custom.Disconnect(); err != nil {
		tb.Fatal(err)
	}
	if err := root.Emit("message", "still here"); err != nil {
		tb.Fatal(err)
	}
	if m := back.Next(tb, "/ message-back after leaving /custom"); string(m.Args) != `["still here"]` {
		tb.Fatalf("/ got %s", m.Args)
	}
}
