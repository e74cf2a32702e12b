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
	Status int
	Header http.Header
	Body   []byte
	// Truncated is set when the body was longer than the raw limit
	// (Options.MaxMessageSize, else DefaultRawMaxBody): Body holds its
	// first bytes only and the rest was not read.
	Truncated bool
	Sent      time.Time
	Received  time.Time
}

// DefaultRawMaxBody caps what RawRequest keeps of a response body and
// RawConn of a message when Options.MaxMessageSize is 0: twice what any
// conformance case reads (a 1 MB echo), and small enough that parallel
// cases against a server that never stops sending stay bounded.
const DefaultRawMaxBody = 2 << 20

func rawLimit(o *Options) int64 {
	if o.MaxMessageSize > 0 {
		return o.MaxMessageSize
	}
	return DefaultRawMaxBody
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
	// The body is streamed so that an over-long one can be cut at the
	// limit and its first bytes still reported.
	resp.StreamBody = true
	defer resp.ReleaseBody(maxPooledBody)
	limit := rawLimit(opts)
	out := &Response{Sent: time.Now()}
	if err := sharedClient(opts, 0).DoDeadline(req, resp, deadline); err != nil {
		return nil, fmt.Errorf("transport: %s %s: %w", method, url, err)
	}
	out.Received = time.Now()
	opts.Jar.storeFrom(&resp.Header)
	out.Status = resp.StatusCode()
	out.Header = http.Header{}
	for k, v := range resp.Header.All() {
		out.Header.Add(string(k), string(v))
	}
	raw, truncated, err := readStream(resp, limit)
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: reading body: %w", method, url, err)
	}
	if truncated {
		// A cut body cannot be decoded; it is reported as it came.
		out.Body, out.Truncated = raw, true
		return out, nil
	}
	if len(bytes.TrimSpace(resp.Header.ContentEncoding())) == 0 {
		out.Body = raw // already a copy of its own
		return out, nil
	}
	resp.SetBodyRaw(raw)
	b, tooLarge, err := uncompressed(resp, limit)
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: decoding body: %w", method, url, err)
	}
	if tooLarge {
		b = b[:limit]
	}
	out.Body, out.Truncated = bytes.Clone(b), tooLarge
	return out, nil
}

// readStream reads a streamed response body, keeping at most limit bytes;
// truncated reports that more followed (the connection is then dropped,
// not drained).
func readStream(resp *fasthttp.Response, limit int64) (body []byte, truncated bool, err error) {
	s := resp.BodyStream()
	if s == nil {
		return resp.Body(), false, nil
	}
	// Read into one buffer of the announced size (within the limit), or
	// grow one up to the limit: never a copy past it.
	size := int64(resp.Header.ContentLength())
	if size < 0 || size > limit {
		size = min(limit+1, 64<<10)
	}
	body = make([]byte, 0, size+1)
	for {
		if len(body) == cap(body) {
			body = grow(body, limit+1)
		}
		n, rerr := s.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
		if int64(len(body)) > limit {
			break
		}
	}
	if int64(len(body)) > limit {
		body, truncated = body[:limit], true
	}
	if c, ok := s.(fasthttp.ReadCloserWithError); ok {
		var cause error
		if truncated {
			cause = errors.New("body over the raw limit")
		}
		c.CloseWithError(cause)
	} else {
		resp.CloseBodyStream()
	}
	return body, truncated, err
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
	// Note explains a CloseFrame the tester made itself, such as a
	// message over the raw limit (the connection was then cut, Code 1006).
	Note string
}

// maxQueuedBytes bounds the data of frames received but not yet taken by
// Next: past it the reader stops reading until Next catches up, so a
// server that floods a connection cannot fill memory.
const maxQueuedBytes = 32 << 20

// RawConn is a WebSocket for the conformance suite: it sends whatever it is
// given and queues everything that arrives, so no frame is missed between
// two expectations. A reader goroutine runs until the connection ends.
type RawConn struct {
	ws     *WebSocket
	frames chan Frame
	done   chan struct{}

	mu     sync.Mutex
	closed bool

	qmu    sync.Mutex
	qcond  *sync.Cond
	queued int64 // bytes of data in frames
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
	c.ws.SetLimit(rawLimit(opts), "raw limit")
	c.qcond = sync.NewCond(&c.qmu)
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
			var (
				ce   *CloseError
				tl   *TooLargeError
				note string
			)
			if errors.As(err, &ce) {
				code = ce.Code
			}
			if errors.As(err, &tl) {
				note = fmt.Sprintf("message over %d bytes: the tester cut the connection", tl.Limit)
				c.ws.Abort()
			}
			c.frames <- Frame{Kind: CloseFrame, Code: code, Time: now, Note: note}
			close(c.frames)
			return
		}
		kind := TextFrame
		if bin {
			kind = BinaryFrame
		}
		c.qmu.Lock()
		for c.queued > 0 && c.queued+int64(len(data)) > maxQueuedBytes {
			c.qcond.Wait()
		}
		c.queued += int64(len(data))
		c.qmu.Unlock()
		c.frames <- Frame{Kind: kind, Data: data, Time: now}
	}
}

// taken releases the queue space of a frame handed out.
func (c *RawConn) taken(f Frame) {
	if len(f.Data) == 0 {
		return
	}
	c.qmu.Lock()
	c.queued -= int64(len(f.Data))
	c.qmu.Unlock()
	c.qcond.Broadcast()
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
		c.taken(f)
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
	for f := range c.frames {
		c.taken(f)
	}
	<-c.done
}
