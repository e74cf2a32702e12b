package transport_test

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/transport"
)

var openRe = regexp.MustCompile(`^0\{"sid":"([^"]+)"`)

// TestRawPolling sends valid and invalid polling requests to the reference
// server and checks that every answer is reported exactly as sent.
func TestRawPolling(t *testing.T) {
	p := testpeer.Start(t, "node4")
	ctx := prototest.Context(t)
	base := p.URL + "/socket.io/?EIO=4&transport=polling"

	r, err := transport.RawRequest(ctx, "GET", base, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := openRe.FindSubmatch(r.Body)
	if r.Status != 200 || m == nil {
		t.Fatalf("handshake: %d %q", r.Status, r.Body)
	}
	if !r.Received.After(r.Sent) {
		t.Fatalf("times not ordered: sent %v received %v", r.Sent, r.Received)
	}
	sid := string(m[1])

	// POST 40 is answered "ok"; the next GET carries the CONNECT reply.
	r, err = transport.RawRequest(ctx, "POST", base+"&sid="+sid, nil, []byte("40"), nil)
	if err != nil || r.Status != 200 || string(r.Body) != "ok" {
		t.Fatalf("POST 40: %v %+v", err, r)
	}
	r, err = transport.RawRequest(ctx, "GET", base+"&sid="+sid, nil, nil, nil)
	if err != nil || !bytes.HasPrefix(r.Body, []byte(`40{"sid":"`)) {
		t.Fatalf("GET after 40: %v %q", err, r.Body)
	}

	r, err = transport.RawRequest(ctx, "GET", base+"&sid=doesnotexist", nil, nil, nil)
	if err != nil || r.Status != 400 || string(r.Body) != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("unknown sid: %v %+v", err, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("unknown sid Content-Type %q", ct)
	}

	r, err = transport.RawRequest(ctx, "PUT", base, nil, nil, nil)
	if err != nil || r.Status != 400 {
		t.Fatalf("PUT handshake: %v %+v", err, r)
	}
}

// TestRawWebSocket opens raw WebSockets: frames arrive in order with their
// times, a refused upgrade reports the server's status and body, and a
// server close is reported as a close frame.
func TestRawWebSocket(t *testing.T) {
	p := testpeer.Start(t, "node4", "PING_INTERVAL=300", "PING_TIMEOUT=200")
	ctx := prototest.Context(t)
	ws := "ws://" + p.Addr + "/socket.io/?EIO=4&transport=websocket"

	c, resp, err := transport.DialRaw(ctx, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.Status != 101 {
		t.Fatalf("status %d", resp.Status)
	}
	f, err := c.Next(ctx)
	if err != nil || f.Kind != transport.TextFrame || !openRe.Match(f.Data) {
		t.Fatalf("open frame: %v %+v", err, f)
	}
	if _, err := c.Send(transport.TextFrame, []byte("40")); err != nil {
		t.Fatal(err)
	}
	f, err = c.Next(ctx)
	if err != nil || !bytes.HasPrefix(f.Data, []byte(`40{"sid":"`)) {
		t.Fatalf("connect reply: %v %q", err, f.Data)
	}
	// Binary echo: message-back comes as a header plus one binary frame.
	c.Send(transport.TextFrame, []byte(`451-["message",{"_placeholder":true,"num":0}]`))
	c.Send(transport.BinaryFrame, []byte{1, 2, 3})
	var got []transport.Frame
	for len(got) < 2 {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind == transport.TextFrame && (string(f.Data) == "2" || bytes.HasPrefix(f.Data, []byte("42[\"auth\""))) {
			continue
		}
		got = append(got, f)
	}
	if string(got[0].Data) != `451-["message-back",{"_placeholder":true,"num":0}]` ||
		got[1].Kind != transport.BinaryFrame || !bytes.Equal(got[1].Data, []byte{1, 2, 3}) {
		t.Fatalf("binary echo frames %+v", got)
	}
	// Stop answering pings: the server must close within pingInterval +
	// pingTimeout (500 ms), and we must see the close.
	start := time.Now()
	for {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("no close after %v: %v", time.Since(start), err)
		}
		if f.Kind == transport.CloseFrame {
			// pingInterval+pingTimeout is 500 ms; 5 s is what a busy
			// machine may add to it.
			if f.Time.Sub(start) > 5*time.Second {
				t.Fatalf("closed only after %v", f.Time.Sub(start))
			}
			break
		}
	}

	_, resp, err = transport.DialRaw(ctx, ws+"&sid=doesnotexist", nil)
	var he *transport.HandshakeError
	if !errors.As(err, &he) || resp.Status != 400 || he.Status != 400 {
		t.Fatalf("unknown sid upgrade: %v %+v", err, resp)
	}
}

// TestPooledConnectionOutlivesKeepAlive: a polling request made after the
// server's keep-alive timeout (Node: 5 s) must not land on the pooled
// connection the server has closed.
func TestPooledConnectionOutlivesKeepAlive(t *testing.T) {
	p := testpeer.Start(t, "node4")
	url := p.URL + "/socket.io/?EIO=4&transport=polling"
	poll := transport.NewPolling(url, nil)
	for i := range 2 {
		if _, _, err := poll.Get(prototest.Context(t), time.Time{}, nil); err != nil {
			t.Fatalf("handshake %d: %v", i, err)
		}
		if i == 0 {
			time.Sleep(5500 * time.Millisecond)
		}
	}
}
