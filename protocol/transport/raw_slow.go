package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// RawSlowRequest sends one HTTP/1.1 request whose body goes out chunk
// bytes at a time, every apart, on a connection of its own, and then reads
// the response: so that a request is held open, mid-body, for as long as
// a conformance case needs (two concurrent POSTs of one session). A
// client library cannot do this: it writes a body as fast as it can.
//
// The request carries the body's Content-Length and "Connection: close".
// If the server answers or drops the connection before the whole body is
// out, the rest is not sent and what the server answered is read all the
// same. Response.Sent is when the last byte went out. ctx must have a
// deadline, which bounds the dial, the writes and the read; the body kept
// is capped as RawRequest's is (Options.MaxMessageSize). Content-Encoding
// is not decoded. Only opts.TLSConfig is used (https).
func RawSlowRequest(ctx context.Context, method, rawURL string, header http.Header, body []byte, chunk int, every time.Duration, opts *Options) (*Response, error) {
	if opts == nil {
		opts = &Options{}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, ErrNoDeadline
	}
	if chunk < 1 {
		return nil, errors.New("transport: slow request: chunk must be at least 1 byte")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: %w", method, rawURL, err)
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("transport: %s %s: %s: %w", method, rawURL, what, err)
	}
	conn, err := dialRaw(ctx, u, opts)
	if err != nil {
		return nil, fail("dial", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	// A cancelled ctx ends a write or read at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("Connection", "close")
	_ = h.Write(&head)
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		return nil, fail("sending the head", err)
	}
	for off := 0; off < len(body); off += chunk {
		if off > 0 {
			select {
			case <-time.After(every):
			case <-ctx.Done():
				return nil, fail("sending the body", ctx.Err())
			}
		}
		if _, err := conn.Write(body[off:min(off+chunk, len(body))]); err != nil {
			break // the server answered early or dropped us: read what it said
		}
	}
	out := &Response{Sent: time.Now()}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, fail("reading the response", err)
	}
	defer resp.Body.Close()
	out.Received = time.Now()
	out.Status, out.Header = resp.StatusCode, resp.Header
	limit := rawLimit(opts)
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fail("reading the body", err)
	}
	if int64(len(out.Body)) > limit {
		out.Body, out.Truncated = out.Body[:limit], true
	}
	return out, nil
}

// dialRaw opens a TCP (or, for https, TLS) connection to u's host.
func dialRaw(ctx context.Context, u *url.URL, opts *Options) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	if u.Scheme == "https" {
		cfg := opts.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		}
		d := &tls.Dialer{Config: cfg}
		return d.DialContext(ctx, "tcp", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", host)
}
