package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// sessionConns keeps the two keep-alive connections of one polling
// session, one for its GETs and one for its POSTs, as a browser tab or
// socket.io-client does, instead of drawing them from a pool shared by
// every session.
//
// With a shared pool, a connection a session has just finished with is
// taken by another session, so a session's next request often needs a new
// TCP connection. Against a saturated server that new connection waits in
// the server's full listen backlog (the kernel drops the handshake's last
// ACK and retransmits it after 1, 3, 7, 15, 31 s): measured here with
// 1,000 clients ramping up against Node, every one of 149 ack timeouts was
// a POST on a connection Node accepted 10 to 32 s after it was dialled,
// and Node acked each one within a millisecond of reading it. With its
// own connections, a session dials only during its handshake and connect,
// where such waits belong, and its emits and polls reuse connections the
// server has already accepted.
//
// Nothing runs in the background: a connection idle for longer than
// idleMax is closed at its next use rather than by a cleaner goroutine, so
// an idle session costs no goroutine. Read and write buffers come from
// pools shared by all sessions and are held only during a request.
type sessionConns struct {
	addr   string // host:port
	isTLS  bool
	tlsCfg *tls.Config // with ServerName, made once
	opts   *Options    // how to dial (see dialFunc); no dialer is kept per session
	limit  int         // largest response body

	get, post connSlot
	closed    atomic.Bool // CloseIdle was called: keep no connection
}

// connSlot is one kept connection; its mutex is held for a whole request,
// so that a second concurrent request of the same kind (which the session
// layer never makes) gets a connection of its own instead of sharing it.
type connSlot struct {
	mu      sync.Mutex
	conn    net.Conn
	lastUse time.Time
	spare   bool // a one-off slot: close the connection after its request
	first   firstByte
	wait    answerWait

	// amu guards active and aborted, which abort reads from another
	// goroutine while the request holds mu.
	amu     sync.Mutex
	active  net.Conn // the connection of the request in flight
	aborted bool     // abort was called: no request may start
}

// begin marks conn as the slot's request in flight, unless the slot was
// aborted.
func (s *connSlot) begin(conn net.Conn) bool {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.aborted {
		return false
	}
	s.active = conn
	return true
}

func (s *connSlot) end() {
	s.amu.Lock()
	s.active = nil
	s.amu.Unlock()
}

// abort ends the request in flight, if any, by closing its connection,
// and refuses the slot's later requests.
func (s *connSlot) abort() {
	s.amu.Lock()
	defer s.amu.Unlock()
	s.aborted = true
	if s.active != nil {
		s.active.Close()
	}
}

// firstByte hands out what was read of the response before a pooled
// reader was taken, then reads from the connection: a long-poll GET waits
// for its answer holding no 4 KiB buffer.
type firstByte struct {
	b    [1]byte
	head []byte // read ahead: b[:1], or the start of a pooled headBufs buffer
	conn net.Conn
}

func (f *firstByte) Read(p []byte) (int, error) {
	if len(f.head) > 0 {
		n := copy(p, f.head)
		f.head = f.head[n:]
		return n, nil
	}
	return f.conn.Read(p)
}

// headBufs hold what awaitAnswer read of a GET's answer.
var headBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// answerWait is a slot's state for awaitAnswer, kept so that a round trip
// allocates nothing: the descriptor access of the slot's connection and
// the callback are made once per connection.
type answerWait struct {
	conn net.Conn // the connection rc belongs to
	rc   syscall.RawConn
	fn   func(fd uintptr) bool
	buf  *[]byte
	n    int
	err  error
}

// read is the RawConn callback: a non-blocking read into a pooled buffer,
// taken only for the read and given back if nothing came.
func (w *answerWait) read(fd uintptr) bool {
	w.buf = headBufs.Get().(*[]byte)
	for {
		w.n, w.err = syscall.Read(int(fd), *w.buf)
		if w.err != syscall.EINTR {
			break
		}
	}
	if w.err == syscall.EAGAIN {
		headBufs.Put(w.buf)
		w.buf = nil
		return false // wait for the descriptor to be readable
	}
	return true
}

// awaitAnswer waits for conn to have something to read, holding no buffer
// while it waits, then reads what came in one syscall into a pooled
// buffer. It replaces a one-byte read followed by a buffered read: a
// round trip's GET then costs one read syscall instead of two. ok is
// false when conn gives no access to its descriptor (TLS).
func (w *answerWait) awaitAnswer(conn net.Conn) (buf *[]byte, n int, ok bool, err error) {
	if w.conn != conn {
		w.conn, w.rc = conn, nil
		if sc, isSys := conn.(syscall.Conn); isSys {
			w.rc, _ = sc.SyscallConn()
		}
		if w.fn == nil {
			w.fn = w.read
		}
	}
	if w.rc == nil {
		return nil, 0, false, nil
	}
	w.buf, w.n, w.err = nil, 0, nil
	err = w.rc.Read(w.fn)
	buf, n = w.buf, w.n
	switch {
	case err == nil && w.err != nil:
		err = &net.OpError{Op: "read", Net: "tcp", Source: conn.LocalAddr(), Addr: conn.RemoteAddr(), Err: os.NewSyscallError("read", w.err)}
	case err == nil && n <= 0:
		err = io.EOF
	}
	w.buf, w.err = nil, nil
	if err != nil {
		if buf != nil {
			headBufs.Put(buf)
		}
		return nil, 0, true, err
	}
	return buf, n, true, nil
}

// idleMax is how long a kept connection may sit idle and still be reused:
// below Node's 5 s keep-alive timeout, as NewHTTPClient's pool does.
const idleMax = 3 * time.Second

// dialTimeout bounds one TCP connect, as fasthttp's default dialer does.
const dialTimeout = 3 * time.Second

var (
	pollReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	pollWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

func newSessionConns(rawURL string, o *Options, limit int64) (*sessionConns, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	s := &sessionConns{isTLS: u.Scheme == "https", opts: o, limit: int(limit)}
	s.addr = fasthttp.AddMissingPort(u.Host, s.isTLS)
	if s.isTLS {
		cfg := &tls.Config{}
		if o.TLSConfig != nil {
			cfg = o.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		s.tlsCfg = cfg
	}
	return s, nil
}

// DoDeadline performs one request on the session's GET or POST
// connection, with fasthttp.Client's results: fasthttp.ErrTimeout at the
// deadline, fasthttp.ErrBodyTooLarge over the limit, and a GET that failed
// on a reused connection before any response retried once on a new one.
func (s *sessionConns) DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	slot := &s.post
	if req.Header.IsGet() {
		slot = &s.get
	}
	if !slot.mu.TryLock() {
		// Not expected from the session layer: serve it on a connection
		// of its own rather than wait.
		var spare connSlot
		spare.spare = true
		spare.mu.Lock()
		slot = &spare
	}
	defer slot.mu.Unlock()
	if len(req.Header.UserAgent()) == 0 {
		req.Header.SetUserAgent("siokit")
	}
	for attempt := 0; ; attempt++ {
		reused, err := s.roundTrip(slot, req, resp, deadline)
		if err == nil || !reused || attempt > 0 || !req.Header.IsGet() || !isConnGone(err) {
			if isConnGone(err) {
				err = fasthttp.ErrConnectionClosed
			}
			return err
		}
	}
}

// isConnGone reports an error that means the server closed the connection
// before answering (typically a keep-alive connection it had just timed
// out).
func isConnGone(err error) bool {
	if err == nil {
		// The hot path: isReset's errors.As target escapes, an allocation per call.
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, fasthttp.ErrConnectionClosed) || isReset(err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && (strings.Contains(op.Err.Error(), "reset by peer") || strings.Contains(op.Err.Error(), "broken pipe"))
}

func (s *sessionConns) roundTrip(slot *connSlot, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) (reused bool, err error) {
	conn := slot.conn
	if conn != nil && time.Since(slot.lastUse) > idleMax {
		conn.Close()
		conn, slot.conn = nil, nil
	}
	reused = conn != nil
	if conn == nil {
		if conn, err = s.dial(deadline); err != nil {
			return false, err
		}
	}
	if !slot.begin(conn) {
		conn.Close()
		slot.conn = nil
		return false, net.ErrClosed
	}
	defer slot.end()
	fail := func(err error) (bool, error) {
		conn.Close()
		slot.conn = nil
		var to interface{ Timeout() bool }
		if errors.As(err, &to) && to.Timeout() {
			err = fasthttp.ErrTimeout
		}
		return reused, err
	}
	resp.Reset() // a retried request must not see the failed attempt's answer
	if err := conn.SetDeadline(deadline); err != nil {
		return fail(err)
	}
	bw := pollWriters.Get().(*bufio.Writer)
	bw.Reset(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	pollWriters.Put(bw)
	if err != nil {
		return fail(err)
	}
	resp.Header.DisableNormalizing()
	f := &slot.first
	f.conn, f.head = conn, nil
	var head *[]byte
	if req.Header.IsGet() {
		// A long-poll GET waits for the answer to begin before taking a
		// buffer. A POST is answered at once: the buffer is held for a
		// moment, and its answer costs one read syscall instead of two.
		buf, n, ok, err := slot.wait.awaitAnswer(conn)
		if !ok {
			n, err = conn.Read(f.b[:])
		}
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return fail(err)
		}
		if buf != nil {
			head, f.head = buf, (*buf)[:n]
		} else {
			f.head = f.b[:n]
		}
	}
	br := pollReaders.Get().(*bufio.Reader)
	br.Reset(f)
	err = resp.ReadLimitBody(br, s.limit)
	// HTTP/1.1 without pipelining: nothing may follow the response. A
	// server that sends more anyway gets its connection closed.
	extra := br.Buffered() > 0 || len(f.head) > 0
	f.conn, f.head = nil, nil
	if head != nil {
		headBufs.Put(head)
	}
	br.Reset(nil)
	pollReaders.Put(br)
	if err != nil {
		return fail(err)
	}
	if extra || slot.spare || s.closed.Load() || resp.ConnectionClose() || req.ConnectionClose() {
		conn.Close()
		slot.conn = nil
		return reused, nil
	}
	slot.conn, slot.lastUse = conn, time.Now()
	return reused, nil
}

func (s *sessionConns) dial(deadline time.Time) (net.Conn, error) {
	timeout := dialTimeout
	if left := time.Until(deadline); left < timeout {
		timeout = left
	}
	if timeout <= 0 {
		return nil, fasthttp.ErrTimeout
	}
	conn, err := dialWithin(dialFunc(s.opts), s.addr, timeout)
	if err != nil {
		return nil, err // net's errors name the address already
	}
	if !s.isTLS {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsCfg)
	tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		conn.Close()
		if x, ok := err.(net.Error); ok && x.Timeout() {
			return nil, fasthttp.ErrTLSHandshakeTimeout
		}
		return nil, err
	}
	return tc, nil
}

// Abort ends the session's requests at once, those in flight included (a
// long-poll GET fails with a closed connection), and refuses new ones.
func (s *sessionConns) Abort() {
	s.get.abort()
	s.post.abort()
	s.CloseIdle()
}

// CloseIdle closes the kept connections, now or when their request ends:
// the session is over.
func (s *sessionConns) CloseIdle() {
	s.closed.Store(true)
	for _, slot := range []*connSlot{&s.get, &s.post} {
		if slot.mu.TryLock() {
			if slot.conn != nil {
				slot.conn.Close()
				slot.conn = nil
			}
			slot.mu.Unlock()
		}
		// Otherwise the running request sees closed when it ends.
	}
}
