package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// StatusError reports a polling response whose status was not 200. Body is
// a copy of the response body (Node puts a JSON {code,message} there).
type StatusError struct {
	Method string
	Status int
	Body   []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("transport: %s answered %d: %.200q", e.Method, e.Status, e.Body)
}

// ErrNoDeadline is returned when a polling call gets a context without a
// deadline and no default wait: fasthttp cannot be interrupted by a
// context, so an unbounded long poll could never be abandoned.
var ErrNoDeadline = errors.New("transport: polling call needs a context deadline")

// Polling issues the HTTP requests of one long-polling session. Its methods
// may be called from two goroutines at once (one GET, one POST), which is
// exactly what the protocol allows; the session layer enforces that bound.
type Polling struct {
	client doer
	conns  *sessionConns // the session's own connections, unless opts.HTTPClient is set
	url    string        // includes the sid once the handshake is done
	opts   *Options
	limit  int64  // largest response body accepted
	why    string // where limit comes from, for TooLargeError
}

// NewPolling returns a polling transport for the given request URL (which
// carries EIO, transport=polling and, after the handshake, sid). Response
// bodies are limited to opts.MaxMessageSize.
func NewPolling(url string, opts *Options) *Polling {
	if opts == nil {
		opts = &Options{}
	}
	p := &Polling{url: url, opts: opts}
	p.SetLimit(limitOf(opts))
	return p
}

// SetLimit changes the largest response body accepted (0 or less:
// DefaultMaxMessageSize); why explains it in the *TooLargeError. Call it
// before requests run, as with SetURL.
func (p *Polling) SetLimit(limit int64, why string) {
	if limit <= 0 {
		limit, why = DefaultMaxMessageSize, "default limit"
	}
	p.limit, p.why = limit, why
	if p.opts.HTTPClient != nil {
		p.client = p.opts.HTTPClient
		return
	}
	if p.conns == nil {
		sc, err := newSessionConns(p.url, p.opts, limit)
		if err != nil {
			// An unparsable URL: the shared client reports it on the
			// first request, as before.
			p.client = sharedClient(p.opts, limit)
			return
		}
		p.conns = sc
		p.client = sc
	}
	p.conns.limit = int(limit)
}

// doer is what carries requests: the session's own connections, or a
// caller-supplied fasthttp.Client.
type doer interface {
	DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error
}

// SetURL switches to another request URL, typically once the sid is known.
// The host must stay the same: the session keeps its connections.
func (p *Polling) SetURL(url string) { p.url = url }

// Close drops the session's kept connections (a request in flight keeps
// its connection until it ends). Requests after Close still work, each on
// a new connection.
func (p *Polling) Close() {
	if p.conns != nil {
		p.conns.CloseIdle()
	}
}

// Abort ends the session's requests now, a long-poll GET in flight
// included, and makes later ones fail: the session is dead and its reader
// must not wait out its GET. With Options.HTTPClient set, requests in
// flight run to their deadline.
func (p *Polling) Abort() {
	if p.conns != nil {
		p.conns.Abort()
	}
}

// URL returns the request URL in use.
func (p *Polling) URL() string { return p.url }

// Get performs one long-poll GET and appends the body to dst. binary
// reports an application/octet-stream body (the Engine.IO v3 XHR2 form).
//
// The wait ends at the earlier of deadline (zero: none) and the context's
// deadline. fasthttp cannot be interrupted once a request is in flight, so
// cancelling ctx is noticed only before the request starts; a call with no
// deadline at all is refused with ErrNoDeadline rather than risk hanging.
func (p *Polling) Get(ctx context.Context, deadline time.Time, dst []byte) (body []byte, binary bool, err error) {
	return p.do(ctx, deadline, fasthttp.MethodGet, nil, false, dst)
}

// GetFunc performs one long-poll GET and hands the body to fn without
// copying it; body is valid only during fn. Unlike Get it needs no
// buffer while the request waits, which matters when thousands of idle
// sessions each hold a pending GET.
func (p *Polling) GetFunc(ctx context.Context, deadline time.Time, fn func(body []byte, binary bool) error) error {
	return p.doFunc(ctx, deadline, fasthttp.MethodGet, nil, false, fn)
}

// Post sends one payload, with the same deadline rules as Get. binary
// selects Content-Type application/octet-stream (v3 XHR2 payloads only).
func (p *Polling) Post(ctx context.Context, deadline time.Time, payload []byte, binary bool) error {
	_, _, err := p.do(ctx, deadline, fasthttp.MethodPost, payload, binary, nil)
	return err
}

var octetStream = []byte("application/octet-stream")

func (p *Polling) do(ctx context.Context, deadline time.Time, method string, payload []byte, binary bool, dst []byte) ([]byte, bool, error) {
	var isBinary bool
	err := p.doFunc(ctx, deadline, method, payload, binary, func(body []byte, bin bool) error {
		dst, isBinary = append(dst, body...), bin
		return nil
	})
	return dst, isBinary, err
}

func (p *Polling) doFunc(ctx context.Context, deadline time.Time, method string, payload []byte, binary bool, fn func([]byte, bool) error) error {
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if deadline.IsZero() {
		return ErrNoDeadline
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	// Runs before ReleaseResponse: a buffer that read a large body is
	// dropped rather than kept at its peak by the pool.
	defer resp.ReleaseBody(maxPooledBody)
	req.SetRequestURI(p.url)
	req.Header.SetMethod(method)
	setHeaders(req, p.opts)
	if method == fasthttp.MethodPost {
		if binary {
			req.Header.SetContentTypeBytes(octetStream)
		} else {
			req.Header.SetContentType("text/plain;charset=UTF-8")
		}
		req.SetBodyRaw(payload)
	}
	if err := p.client.DoDeadline(req, resp, deadline); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) && ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			return &TooLargeError{What: "polling body", Limit: p.limit, Why: p.why}
		}
		return fmt.Errorf("transport: %s: %w", method, err)
	}
	p.opts.Jar.storeFrom(&resp.Header)
	body, tooLarge, err := uncompressed(resp, p.limit)
	if err != nil {
		return fmt.Errorf("transport: %s: decoding body: %w", method, err)
	}
	if tooLarge {
		// A caller-supplied HTTPClient has its own limit, or the body
		// was compressed: the decoded size is what counts.
		return &TooLargeError{What: "polling body", Limit: p.limit, Why: p.why}
	}
	if sc := resp.StatusCode(); sc != fasthttp.StatusOK {
		return &StatusError{Method: method, Status: sc, Body: bytes.Clone(body)}
	}
	return fn(body, bytes.HasPrefix(resp.Header.ContentType(), octetStream))
}

func setHeaders(req *fasthttp.Request, o *Options) {
	for k, vs := range o.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c := o.Jar.Header(); c != "" {
		req.Header.Set("Cookie", c)
	}
}
