package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/transport"
)

// TestPollingLimit: a body over the limit, plain or gzip-compressed (a
// small body that expands past it), is a TooLargeError naming the limit;
// one within it is returned whole.
func TestPollingLimit(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 3<<20)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(big)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("kind") {
		case "plain":
			w.Write(big)
		case "gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped.Bytes())
		default:
			w.Write(big[:1<<20])
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, kind := range []string{"plain", "gzip"} {
		p := transport.NewPolling(srv.URL+"/?kind="+kind, nil)
		p.SetLimit(2<<20, "test limit")
		_, _, err := p.Get(ctx, time.Time{}, nil)
		var tl *transport.TooLargeError
		if !errors.As(err, &tl) || err.Error() != "transport: polling body over 2097152 bytes (test limit)" {
			t.Errorf("%s: error %v, want the TooLargeError", kind, err)
		}
	}
	p := transport.NewPolling(srv.URL+"/?kind=fits", nil)
	p.SetLimit(2<<20, "test limit")
	body, _, err := p.Get(ctx, time.Time{}, nil)
	if err != nil || len(body) != 1<<20 {
		t.Errorf("a body within the limit: %d bytes, %v", len(body), err)
	}
}

// TestRawRequestTruncated: sioconform's raw requests keep the first bytes
// of an over-long body and say it was cut.
func TestRawRequestTruncated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("b"), 5<<20))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := transport.RawRequest(ctx, "GET", srv.URL, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated || len(resp.Body) != transport.DefaultRawMaxBody || resp.Status != 200 {
		t.Errorf("status %d, %d bytes, truncated %v; want 200, %d bytes, truncated", resp.Status, len(resp.Body), resp.Truncated, transport.DefaultRawMaxBody)
	}
	resp, err = transport.RawRequest(ctx, "GET", srv.URL, nil, nil, &transport.Options{MaxMessageSize: 6 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Truncated || len(resp.Body) != 5<<20 {
		t.Errorf("within a larger limit: truncated %v, %d bytes", resp.Truncated, len(resp.Body))
	}
}

// TestWebSocketHandshakeHeadersCapped: a server answering the upgrade
// with header lines that never end (or one endless line) fails the dial
// once 1 MiB was read, instead of filling memory until a timeout.
func TestWebSocketHandshakeHeadersCapped(t *testing.T) {
	for _, endless := range []string{"X-Junk: " + strings.Repeat("a", 1000) + "\r\n", strings.Repeat("a", 1000)} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			go io.Copy(io.Discard, c)
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
			for {
				if _, err := io.WriteString(c, endless); err != nil {
					return
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err = transport.DialWebSocket(ctx, "ws://"+ln.Addr().String()+"/", nil)
		cancel()
		ln.Close()
		// Endless header lines hit the cap; one endless line is refused
		// as malformed when the cap cuts it. Either way the text is short.
		if err == nil || len(err.Error()) > 400 {
			t.Errorf("endless %.20q: error %.500v, want a short dial error", endless, err)
		} else if strings.HasPrefix(endless, "X-Junk") && !strings.Contains(err.Error(), "handshake response over 1048576 bytes") {
			t.Errorf("endless header lines: error %v, want the handshake cap", err)
		}
	}
}
