package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// Response is one HTTP exchange exactly as it happened: what came back and
// when the request left and the answer arrived.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Sent     time.Time
	Received time.Time
}

// RawRequest sends an arbitrary HTTP request (any method, headers and body,
// valid or not) and returns the response as received, body decompressed.
// Only transport failures are errors; every status is a Response.
func RawRequest(ctx context.Context, method, url string, header http.Header, body []byte, opts *Options) (*Response, error) {
	if opts == nil {
		opts = &Options{}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, ErrNoDeadline
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(method)
	// Raw mode must be able to send a request without a Content-Type.
	req.Header.SetNoDefaultContentType(true)
	setHeaders(req, opts)
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.SetBodyRaw(body)
	}
	out := &Response{Sent: time.Now()}
	if err := sharedClient(opts).DoDeadline(req, resp, deadline); err != nil {
		return nil, fmt.Errorf("transport: %s %s: %w", method, url, err)
	}
	out.Received = time.Now()
	opts.Jar.storeFrom(&resp.Header)
	out.Status = resp.StatusCode()
	out.Header = http.Header{}
	for k, v := range resp.Header.All() {
		out.Header.Add(string(k), string(v))
	}
	b, err := resp.BodyUncompressed()
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: decoding body: %w", method, url, err)
	}
	out.Body = bytes.Clone(b)
	return out, nil
}

// FrameKind tells what a RawConn observed.
type FrameKind uint8

// Frame kinds seen on a raw WebSocket.
const (
	TextFrame FrameKind = iota + 1
	BinaryFrame
	// CloseFrame is the end of the connection: a close frame (Code is its
	// status, 1005 when it had none) or a dropped connection (Code 1006).
	CloseFrame
)

func (k FrameKind) String() string {
	switch k {
	case TextFrame:
		return "text"
	case BinaryFrame:
		return "binary"
	case CloseFrame:
		return "close"
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// Frame is one WebSocket message or the close, with its arrival time.
type Frame struct {
	Kind FrameKind
	Data []byte
	Code int // close code, for CloseFrame
	Time time.Time
}

// RawConn is a WebSocket for the conformance suite: it sends whatever it is
// given and queues everything that arrives, so no frame is missed between
// two expectations. A reader goroutine runs until the connection ends.
type RawConn struct {
	ws     *WebSocket
	frames chan Frame
	done   chan struct{}

	mu     sync.Mutex
	closed bool
}

// DialRaw opens a WebSocket and starts recording. The Response describes
// the handshake: status 101 and headers on success, or the refusal (with
// a nil RawConn and a *HandshakeError).
func DialRaw(ctx context.Context, url string, opts *Options) (*RawConn, *Response, error) {
	if opts == nil {
		opts = &Options{}
	}
	sent := time.Now()
	conn, resp, err := dialer(opts).DialContext(ctx, url, requestHeader(opts))
	out := &Response{Sent: sent, Received: time.Now()}
	if resp != nil {
		out.Status = resp.StatusCode
		out.Header = resp.Header
		if resp.Body != nil {
			out.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
	}
	if err != nil {
		return nil, out, &HandshakeError{Status: out.Status, Body: out.Body, Err: err}
	}
	c := &RawConn{ws: newWebSocket(conn, opts), frames: make(chan Frame, 1024), done: make(chan struct{})}
	go c.readLoop()
	return c, out, nil
}

func (c *RawConn) readLoop() {
	defer close(c.done)
	for {
		data, bin, err := c.ws.Read(nil)
		now := time.Now()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			var ce *CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			c.frames <- Frame{Kind: CloseFrame, Code: code, Time: now}
			close(c.frames)
			return
		}
		kind := TextFrame
		if bin {
			kind = BinaryFrame
		}
		c.frames <- Frame{Kind: kind, Data: data, Time: now}
	}
}

// Send writes one text or binary frame and returns when it left.
func (c *RawConn) Send(kind FrameKind, data []byte) (time.Time, error) {
	var err error
	switch kind {
	case TextFrame:
		err = c.ws.WriteText(data)
	case BinaryFrame:
		err = c.ws.WriteBinary(data)
	default:
		return time.Time{}, fmt.Errorf("transport: cannot send a %v frame", kind)
	}
	return time.Now(), err
}

// Next returns the next frame, waiting until ctx ends. After the close
// frame it returns io.EOF.
func (c *RawConn) Next(ctx context.Context) (Frame, error) {
	select {
	case f, ok := <-c.frames:
		if !ok {
			return Frame{}, io.EOF
		}
		return f, nil
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	}
}

// Close ends the connection with a normal close frame and waits for the
// reader to stop.
func (c *RawConn) Close() error {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if already {
		return nil
	}
	err := c.ws.Close()
	c.drain()
	return err
}

// Abort drops the TCP connection without a close frame.
func (c *RawConn) Abort() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.ws.Abort()
	c.drain()
	return err
}

// drain discards unread frames so a reader blocked on a full queue can
// finish, then waits for it.
func (c *RawConn) drain() {
	for range c.frames {
	}
	<-c.done
}
