package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
