package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// slowServer accepts one connection on 127.0.0.1 and hands it to serve.
func slowServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		serve(c)
	}()
	return "http://" + ln.Addr().String()
}

// TestRawSlowRequest: the body arrives whole with its length, the sender
// waited between chunks (at least every each time: the sender's own
// pause, whatever the machine's load), and the response is read.
func TestRawSlowRequest(t *testing.T) {
	type got struct {
		req  *http.Request
		body string
		err  error
	}
	ch := make(chan got, 1)
	base := slowServer(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			ch <- got{err: err}
			return
		}
		b, err := io.ReadAll(req.Body)
		ch <- got{req, string(b), err}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := http.Header{"Content-Type": {"text/plain;charset=UTF-8"}}
	start := time.Now()
	resp, err := RawSlowRequest(ctx, "POST", base+"/engine.io/?EIO=4&sid=x", h, []byte("4slow"), 2, 40*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	g := <-ch
	if g.err != nil {
		t.Fatalf("server: %v", g.err)
	}
	if g.body != "4slow" || g.req.ContentLength != 5 || g.req.URL.RequestURI() != "/engine.io/?EIO=4&sid=x" ||
		g.req.Header.Get("Content-Type") != "text/plain;charset=UTF-8" || g.req.Method != "POST" {
		t.Errorf("server got %s %s (length %d, type %q) body %q", g.req.Method, g.req.URL, g.req.ContentLength, g.req.Header.Get("Content-Type"), g.body)
	}
	if resp.Status != 200 || string(resp.Body) != "ok" || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("response %d %q %v", resp.Status, resp.Body, resp.Header)
	}
	// Three chunks (2+2+1 bytes): two pauses of at least 40 ms.
	if took < 80*time.Millisecond {
		t.Errorf("the request took %v: the body went out without the pauses", took)
	}
}

// TestRawSlowRequestEarlyAnswer: a server that answers 400 and closes
// while the body is still coming is heard, not reported as a write error.
func TestRawSlowRequestEarlyAnswer(t *testing.T) {
	base := slowServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for { // the head, then one body byte
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_, _ = br.ReadByte()
		_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := RawSlowRequest(ctx, "POST", base+"/", nil, []byte(strings.Repeat("a", 20)), 1, 20*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 400 {
		t.Errorf("status %d, want 400", resp.Status)
	}
}

// TestRawSlowRequestBounded: a server that never answers costs the
// deadline, not more; one that drops the connection is an error.
func TestRawSlowRequestBounded(t *testing.T) {
	silent := slowServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := RawSlowRequest(ctx, "POST", silent+"/", nil, []byte("4x"), 1, time.Millisecond, nil); err == nil {
		t.Fatal("a server that never answers: no error")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %v, the deadline was 300ms", took)
	}
	dropper := slowServer(t, func(c net.Conn) {})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if _, err := RawSlowRequest(ctx2, "POST", dropper+"/", nil, []byte("4x"), 1, time.Millisecond, nil); err == nil ||
		!strings.Contains(err.Error(), "reading the response") {
		t.Errorf("a dropped connection: %v, want a reading error", err)
	}
	if _, err := RawSlowRequest(context.Background(), "POST", dropper+"/", nil, nil, 1, 0, nil); err != ErrNoDeadline {
		t.Errorf("no deadline: %v", err)
	}
}
