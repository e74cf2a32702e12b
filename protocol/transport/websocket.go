package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// CloseError reports that the peer ended the WebSocket. Code is the close
// status (1005 when the close frame had none, 1006 when the TCP connection
// ended without a close frame).
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("transport: websocket closed: %d %s", e.Code, e.Text)
}

// HandshakeError reports a WebSocket upgrade the server refused; Status and
// Body are what it answered instead of 101 (0 and nil if it answered
// nothing usable).
type HandshakeError struct {
	Status int
	Body   []byte
	Err    error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("transport: websocket handshake refused: status %d: %.200q: %v", e.Status, e.Body, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// WebSocket is one client WebSocket connection. Reads must come from one
// goroutine at a time; writes are serialised internally and may come from
// any goroutine.
type WebSocket struct {
	// What a write touches comes first, in as few 64-byte lines as it
	// fits: a frame written on a connection idle since its last one
	// finds them out of the cache.
	wmu          sync.Mutex
	closed       atomic.Bool
	nc           net.Conn
	writeTimeout time.Duration
	deadline     time.Time // the write deadline set last, guarded by wmu

	conn  *websocket.Conn
	limit int64  // largest message Read accepts; read side only
	why   string // where limit comes from, for TooLargeError
}

// noWriteBuffers keeps the library from allocating a write buffer per
// connection: we never write through it.
type noWriteBuffers struct{}

func (noWriteBuffers) Get() any { return nil }
func (noWriteBuffers) Put(any)  {}

// DialWebSocket opens a WebSocket to url (ws:// or wss://). On refusal the
// error is a *HandshakeError carrying the server's status and body.
// Set-Cookie headers of the handshake response go into opts.Jar.
func DialWebSocket(ctx context.Context, url string, opts *Options) (*WebSocket, error) {
	if opts == nil {
		opts = &Options{}
	}
	conn, resp, err := dialer(opts).DialContext(ctx, url, requestHeader(opts))
	if err != nil {
		herr := &HandshakeError{Err: err}
		if resp != nil {
			herr.Status = resp.StatusCode
			herr.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			return nil, herr
		}
		if errors.Is(err, websocket.ErrBadHandshake) {
			return nil, herr
		}
		return nil, fmt.Errorf("transport: websocket dial: %w", shortErr{err})
	}
	if resp != nil {
		opts.Jar.storeHeader(resp.Header.Values("Set-Cookie"))
	}
	return newWebSocket(conn, opts), nil
}

func newWebSocket(conn *websocket.Conn, opts *Options) *WebSocket {
	disarm(conn.NetConn())
	w := &WebSocket{conn: conn, nc: conn.NetConn(), writeTimeout: opts.WriteTimeout}
	if w.writeTimeout == 0 {
		w.writeTimeout = DefaultWriteTimeout
	}
	// The limit is enforced by Read, not by the library: the library
	// answers an oversize message with a close frame written outside our
	// writer, which could cut into a frame being written.
	w.SetLimit(limitOf(opts))
	// Control replies must go through our writer so they never interleave
	// with a data frame we are writing on another goroutine.
	conn.SetPingHandler(func(data string) error {
		return w.writeFrame(opPong, []byte(data))
	})
	conn.SetCloseHandler(func(code int, text string) error {
		var payload []byte
		if code != websocket.CloseNoStatusReceived {
			payload = websocket.FormatCloseMessage(code, "")
		}
		_ = w.writeFrame(opClose, payload)
		return nil
	})
	return w
}

// MaxHandshakeResponse caps the bytes read before a WebSocket handshake
// completes (status line, headers, a refusal's body): the library reads
// headers without a limit, so a server sending endless header lines would
// otherwise fill memory until the handshake timeout.
const MaxHandshakeResponse = 1 << 20

var errHandshakeTooLarge = fmt.Errorf("transport: websocket handshake response over %d bytes", MaxHandshakeResponse)

// capConn limits reads until disarmed, which happens once the handshake
// is done; reads and the disarm happen on the dialing goroutine.
type capConn struct {
	net.Conn
	left  int64
	armed atomic.Bool
}

func (c *capConn) Read(p []byte) (int, error) {
	if !c.armed.Load() {
		return c.Conn.Read(p)
	}
	if c.left <= 0 {
		return 0, errHandshakeTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// disarm lifts the handshake cap of a dialed connection (plain, or the
// TCP connection under TLS).
func disarm(nc net.Conn) {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	if c, ok := nc.(*capConn); ok {
		c.armed.Store(false)
	}
}

func dialer(opts *Options) *websocket.Dialer {
	dial := dialFunc(opts)
	return &websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cc := &capConn{Conn: c, left: MaxHandshakeResponse}
			cc.armed.Store(true)
			return cc, nil
		},
		TLSClientConfig:  opts.TLSConfig,
		HandshakeTimeout: 30 * time.Second,
		// Every idle connection keeps this buffer: 512 bytes hold a few
		// small frames per read, and a message larger than the buffer is
		// read straight into ours by bufio.
		ReadBufferSize:  512,
		WriteBufferPool: noWriteBuffers{},
	}
}

func requestHeader(opts *Options) http.Header {
	h := opts.Header.Clone()
	if c := opts.Jar.Header(); c != "" {
		if h == nil {
			h = http.Header{}
		}
		h.Set("Cookie", c)
	}
	return h
}

// Opcodes of RFC 6455 section 5.2 that this writer emits.
const (
	opText   = 1
	opBinary = 2
	opClose  = 8
	opPong   = 10
)

// WriteText sends one text message.
func (w *WebSocket) WriteText(p []byte) error { return w.writeFrame(opText, p) }

// WriteBinary sends one binary message.
func (w *WebSocket) WriteBinary(p []byte) error { return w.writeFrame(opBinary, p) }

// WriteMessages sends a text message followed by binary messages with no
// other frame in between, as a Socket.IO packet with attachments needs.
func (w *WebSocket) WriteMessages(text []byte, binaries [][]byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.writeLocked(opText, text); err != nil {
		return err
	}
	for _, b := range binaries {
		if err := w.writeLocked(opBinary, b); err != nil {
			return err
		}
	}
	return nil
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("transport: websocket closed")

func (w *WebSocket) writeFrame(op byte, p []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.writeLocked(op, p)
}

// writeLocked builds header, mask key and masked payload in one buffer and
// writes it with a single syscall.
func (w *WebSocket) writeLocked(op byte, p []byte) error {
	if w.closed.Load() {
		return ErrClosed
	}
	n := len(p)
	bp := writeBufs.Get().(*[]byte)
	buf := append((*bp)[:0], 0x80|op)
	switch {
	case n < 126:
		buf = append(buf, 0x80|byte(n))
	case n <= 0xFFFF:
		buf = append(buf, 0x80|126, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0x80|127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	key := rand.Uint32()
	buf = binary.LittleEndian.AppendUint32(buf, key)
	start := len(buf)
	buf = append(buf, p...)
	maskBytes(buf[start:], key)
	// A peer that stops reading must not hold a writer, and with it every
	// other writer of this connection, forever. The deadline moves only
	// once half of it has gone, so a write fails between writeTimeout/2
	// and writeTimeout after it starts: moving it before every frame was
	// a runtime timer update per message, about 1% of a paced run's CPU.
	if now := time.Now(); w.deadline.Sub(now) < w.writeTimeout/2 {
		w.deadline = now.Add(w.writeTimeout)
		w.nc.SetWriteDeadline(w.deadline)
	}
	_, err := w.nc.Write(buf)
	if op == opClose {
		w.closed.Store(true)
	}
	// Small buffers go back for the next frame; large ones are let go so
	// that one big message does not pin its size.
	if cap(buf) <= maxPooledWrite {
		*bp = buf[:0]
		writeBufs.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("transport: websocket write: %w", err)
	}
	return nil
}

// maskBytes XORs b with the little-endian key, eight bytes at a time.
func maskBytes(b []byte, key uint32) {
	k8 := uint64(key) | uint64(key)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		binary.LittleEndian.PutUint64(b[i:], v^k8)
	}
	for j := 0; i < len(b); i, j = i+1, j+1 {
		b[i] ^= byte(key >> (8 * (j & 3)))
	}
}

// SetLimit changes the largest message Read accepts (0 or less:
// DefaultMaxMessageSize); why explains it in the *TooLargeError. Call it
// from the reading goroutine or before reading starts.
func (w *WebSocket) SetLimit(limit int64, why string) {
	if limit <= 0 {
		limit, why = DefaultMaxMessageSize, "default limit"
	}
	w.limit, w.why = limit, why
}

// writeBufs lends a frame being written its buffer: the one a P used last
// is still in its cache, where a connection's own buffer, untouched since
// its last frame, was a cache miss on every line written, and an idle
// connection holds none.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledWrite keeps one huge frame from pinning a huge buffer.
const maxPooledWrite = 4096

// readBufs lends ReadFunc its buffers. A buffer is taken only once a
// message has begun to arrive, so an idle connection waiting for its next
// message holds none: with thousands of idle clients, that is 4 KiB each.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledRead keeps one huge message from pinning a huge buffer.
const maxPooledRead = 64 << 10

// ReadFunc waits for the next data message, reads it into a pooled buffer
// and hands it to fn; data is valid only during fn. Errors are Read's;
// fn's error is returned as is.
func (w *WebSocket) ReadFunc(fn func(data []byte, binary bool) error) error {
	mt, r, err := w.conn.NextReader()
	if err != nil {
		return translateReadErr(err)
	}
	return w.readPooled(mt, r, fn)
}

// ReadEach calls ReadFunc(fn) until it fails, giving each read a deadline
// of watchdog from its start (no deadline when watchdog is 0), and returns
// the error. It is the whole read loop of a session in one small frame:
// that frame sits on the stack of every idle reader.
func (w *WebSocket) ReadEach(watchdog time.Duration, fn func(data []byte, binary bool) error) error {
	for {
		if watchdog > 0 {
			w.conn.SetReadDeadline(time.Now().Add(watchdog))
		}
		// ReadFunc, written out: one frame less under the idle read.
		mt, r, err := w.conn.NextReader()
		if err != nil {
			return translateReadErr(err)
		}
		if err := w.readPooled(mt, r, fn); err != nil {
			return err
		}
	}
}

// readPooled is ReadFunc once a message has begun. It is a separate,
// non-inlined function so that ReadFunc's frame, on the stack of every
// idle reader, stays small.
//
//go:noinline
func (w *WebSocket) readPooled(mt int, r io.Reader, fn func([]byte, bool) error) error {
	buf := readBufs.Get().(*[]byte)
	data, err := w.readAll(r, (*buf)[:0])
	if err == nil {
		err = fn(data, mt == websocket.BinaryMessage)
	}
	if cap(data) <= maxPooledRead {
		*buf = data[:0]
		readBufs.Put(buf)
	}
	return err
}

// Read returns the next data message, appended to buf[:0]. Control frames
// are handled on the way. A peer close yields a *CloseError; a message
// over the limit a *TooLargeError, after at most limit+1 bytes of it were
// buffered (the peer is sent close 1009, as the reference server does,
// and the connection must then be dropped).
func (w *WebSocket) Read(buf []byte) (data []byte, binary bool, err error) {
	mt, r, err := w.conn.NextReader()
	if err != nil {
		return buf[:0], false, translateReadErr(err)
	}
	data, err = w.readAll(r, buf[:0])
	return data, err == nil && mt == websocket.BinaryMessage, err
}

// readAll reads the message r into data, enforcing the limit.
func (w *WebSocket) readAll(r io.Reader, data []byte) ([]byte, error) {
	for {
		if len(data) == cap(data) {
			if int64(len(data)) > w.limit {
				w.closeTooBig()
				return data, &TooLargeError{What: "websocket message", Limit: w.limit, Why: w.why}
			}
			data = grow(data, w.limit+1)
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			if int64(len(data)) > w.limit {
				w.closeTooBig()
				return data, &TooLargeError{What: "websocket message", Limit: w.limit, Why: w.why}
			}
			return data, nil
		}
		if err != nil {
			return data, translateReadErr(err)
		}
	}
}

// grow returns data with more capacity, doubling but never beyond max, so
// that a message near the limit does not allocate far past it.
func grow(data []byte, max int64) []byte {
	n := 2 * int64(cap(data))
	if n < 512 {
		n = 512
	}
	if n > max {
		n = max
	}
	b := make([]byte, len(data), n)
	copy(b, data)
	return b
}

// closeTooBig tells the peer why the connection ends, unless a writer is
// busy (the caller drops the connection anyway).
func (w *WebSocket) closeTooBig() {
	if w.wmu.TryLock() {
		_ = w.writeLocked(opClose, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""))
		w.wmu.Unlock()
	}
}

// shortErr keeps an error's text to 300 bytes: a malformed handshake
// error quotes the offending line, which a hostile server makes 1 MiB.
type shortErr struct{ err error }

func (e shortErr) Error() string {
	s := e.err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (e shortErr) Unwrap() error { return e.err }

func translateReadErr(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Text: ce.Text}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &CloseError{Code: websocket.CloseAbnormalClosure, Text: "connection ended without close frame"}
	}
	return fmt.Errorf("transport: websocket read: %w", err)
}

// SetReadDeadline bounds the next Read; the session layer uses it as the
// heartbeat watchdog so that no timer per connection is needed.
func (w *WebSocket) SetReadDeadline(t time.Time) error { return w.conn.SetReadDeadline(t) }

// Close sends a normal close frame, unless a writer is stuck on the
// connection, and closes it without waiting for the peer's reply.
func (w *WebSocket) Close() error {
	if w.wmu.TryLock() {
		_ = w.writeLocked(opClose, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		w.wmu.Unlock()
	}
	return w.Abort()
}

// Abort drops the TCP connection without a close frame, as a crashing
// client or a cut network would. It never waits for a writer: closing the
// socket is what unblocks one.
func (w *WebSocket) Abort() error {
	w.closed.Store(true)
	return w.conn.Close()
}

// LocalAddr returns the local network address.
func (w *WebSocket) LocalAddr() net.Addr { return w.conn.LocalAddr() }
