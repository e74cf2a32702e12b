package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/server"
)

// slowPOST is a polling POST sent by hand over TCP, so that its body can
// be held back: the head and part of the body go out at once, the rest
// when the test says.
type slowPOST struct {
	conn net.Conn
	rest string
}

// startSlowPOST sends the head of a POST of body to the session URL s and
// the first sent bytes of body.
func startSlowPOST(t *testing.T, s, body string, sent int) *slowPOST {
	t.Helper()
	u := strings.TrimPrefix(s, "http://")
	host, uri, _ := strings.Cut(u, "/")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	head := fmt.Sprintf("POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n", uri, host, len(body))
	if _, err := conn.Write([]byte(head + body[:sent])); err != nil {
		t.Fatal(err)
	}
	return &slowPOST{conn: conn, rest: body[sent:]}
}

// finish sends the rest of the body a byte every 20 ms and returns the
// answer's status and body.
func (p *slowPOST) finish(t *testing.T) (int, string) {
	t.Helper()
	for i := range len(p.rest) {
		time.Sleep(20 * time.Millisecond)
		if _, err := p.conn.Write([]byte{p.rest[i]}); err != nil {
			t.Fatalf("sending the body: %v", err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(p.conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

// TestConcurrentPOST checks the one-active-POST rule of engine.io-protocol
// v4 ("the client MUST NOT have more than one active POST request. Should
// it happen, the server MUST return a HTTP 400 status code and close the
// session") against a first POST whose body is still arriving, the only way
// two POSTs overlap on loopback, and that such a slow body is otherwise
// read whole.
func TestConcurrentPOST(t *testing.T) {
	url := start(t, newTestServer(&server.Options{PingInterval: 20 * time.Second, PingTimeout: 20 * time.Second}))
	base := url + "/socket.io/?EIO=4&transport=polling"

	t.Run("second refused while the first body arrives", func(t *testing.T) {
		s := openSession(t, base)
		first := startSlowPOST(t, s, `42["message","slow"]`, 3)
		time.Sleep(200 * time.Millisecond) // the first POST's handler is reading its body
		if r := rawReq(t, "POST", s, nil, []byte(`42["message","second"]`)); r.Status != 400 {
			t.Fatalf("second POST: %d %q, want 400", r.Status, r.Body)
		}
		// The session is closed: the next request finds no session.
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
		if code, body := first.finish(t); code != 400 {
			t.Fatalf("first POST, finished on the closed session: %d %q, want 400", code, body)
		}
	})

	t.Run("slow body read whole", func(t *testing.T) {
		s := openSession(t, base)
		rawReq(t, "POST", s, nil, []byte("40"))
		rawReq(t, "GET", s, nil, nil) // the CONNECT reply and auth
		p := startSlowPOST(t, s, `42["message","slow"]`, 1)
		if code, body := p.finish(t); code != 200 || body != "ok" {
			t.Fatalf("slow POST: %d %q, want 200 ok", code, body)
		}
		if r := rawReq(t, "GET", s, nil, nil); r.Status != 200 || string(r.Body) != `42["message-back","slow"]` {
			t.Fatalf("GET after the slow POST: %d %q", r.Status, r.Body)
		}
		// The POST is no longer active once answered.
		if r := rawReq(t, "POST", s, nil, []byte(`42["message","next"]`)); r.Status != 200 {
			t.Fatalf("POST after the slow one: %d %q", r.Status, r.Body)
		}
	})

	t.Run("POST dropped mid-body closes the session", func(t *testing.T) {
		// Node: "data request connection closed prematurely", a
		// transport error; the POST does not stay active either way.
		s := openSession(t, base)
		rawReq(t, "POST", s, nil, []byte("40")) // so that the POSTs below are valid
		rawReq(t, "GET", s, nil, nil)
		p := startSlowPOST(t, s, `42["message","dropped"]`, 3)
		time.Sleep(100 * time.Millisecond)
		p.conn.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := rawReq(t, "POST", s, nil, []byte(`42["message","after"]`))
			if r.Status == 400 && strings.Contains(string(r.Body), `"code":1`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("POST after the dropped one: %d %q, want 400 unknown sid", r.Status, r.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
