package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
	"github.com/siokit/siokit/protocol/transport"
)

// Transport names as they appear in Engine.IO URLs and in Event.Transport.
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// Disconnect reasons, as the reference client names them.
const (
	ReasonClientDisconnect = "io client disconnect"
	ReasonServerDisconnect = "io server disconnect"
	ReasonPingTimeout      = "ping timeout"
	ReasonTransportClose   = "transport close"
	ReasonTransportError   = "transport error"
	ReasonParseError       = "parse error"
)

// Errors returned by the client.
var (
	// ErrClosed: the connection was closed by Close.
	ErrClosed = errors.New("client: connection closed")
	// ErrNotConnected: the namespace or session is not connected (yet, or
	// any more, for example during reconnection).
	ErrNotConnected = errors.New("client: not connected")
	// ErrAckTimeout: an acknowledgement did not arrive in time.
	ErrAckTimeout = errors.New("client: ack timeout")
)

// DisconnectError tells why a session ended.
type DisconnectError struct {
	Reason string
	Err    error
}

func (e *DisconnectError) Error() string {
	if e.Err != nil {
		return "client: disconnected: " + e.Reason + ": " + e.Err.Error()
	}
	return "client: disconnected: " + e.Reason
}

func (e *DisconnectError) Unwrap() error { return e.Err }

// TimeoutError reports a phase (handshake, upgrade, connect) that did not
// complete within its own timeout. It unwraps to context.DeadlineExceeded.
type TimeoutError struct {
	// Phase is "handshake", "upgrade" or "connect /nsp".
	Phase string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return "client: " + e.Phase + " timed out after " + e.After.String()
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Conn is one Engine.IO session and the namespaces multiplexed on it.
// Create it with New (no I/O) or Dial (New then Open).
type Conn struct {
	// The fields a round trip touches come first and together: a
	// connection idle since its last message finds its Conn out of the
	// cache, and each further 64-byte line of it was one more miss on
	// every emit and every packet read (the send path's lock and
	// transport, the reader's dispatch, the ack table).
	mu      sync.Mutex
	open    bool // a transport is up
	closed  bool // Close was called
	eio     engineio.Version
	sio     socketio.Version
	ws      *transport.WebSocket
	q       *pollQueue // the polling session's send queue
	hook    Hook
	onFrame func([]byte, bool) error // c.handleFrame, made once: a method value made in readLoop would widen its frame
	// root is the socket of "/", which nearly every packet is for: the
	// dispatch finds it without c.mu and the sockets map.
	root      atomic.Pointer[Socket]
	acks      ackTable
	inHandler atomic.Int32 // the reader is inside user code
	// wd is pingInterval+pingTimeout of the session in milliseconds (the
	// handshake's unit): 32 bits, so that it and beat take the room of
	// one nanosecond count and two fields.
	wd        atomic.Int32
	transport string
	// rxAt is when the packet being dispatched arrived, read only when a
	// hook observes: its KindPacket and KindAck events share one clock
	// read, which costs nearly what parsing the ack does.
	rxAt time.Time
	// Reader-goroutine state.
	dec     socketio.Decoder
	msg     Message
	readErr error // why the last session's read ended

	opts  Options
	base  url.URL // scheme, host, path; query assembled per request
	query string  // user query, encoded, with trailing '&' when non-empty
	topts transport.Options

	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	done     chan struct{} // closed when the reader ends, or by Close if none ran
	doneOnce sync.Once

	hs        engineio.Handshake
	poll      *transport.Polling
	sockets   map[string]*Socket
	lastErr   error
	pingTimer *time.Timer

	openCancel context.CancelFunc // abandons an Open in progress

	opened  atomic.Bool // Open was called
	started atomic.Bool // the reader runs
	// beat is when, in Unix ns, the v4 session last heard a ping (or was
	// opened): the watchdog's deadline is beat+wd. Only a ping moves it.
	beat atomic.Int64
}

// New returns an unopened client for rawURL (http, https, ws or wss; the
// path is ignored, set Options.Path instead). It does no I/O, so handlers
// can be registered on its sockets before anything arrives.
func New(rawURL string, opts *Options) (*Conn, error) {
	t, err := socketio.ParseTarget(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: bad url %q: %w", rawURL, err)
	}
	c := &Conn{sockets: map[string]*Socket{}, done: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	o.Path = socketio.EnginePath(o.Path)
	switch o.EIO {
	case 0, engineio.V4:
		c.eio, c.sio = engineio.V4, socketio.V5
	case engineio.V3:
		c.eio, c.sio = engineio.V3, socketio.V4
	default:
		return nil, fmt.Errorf("client: unsupported Engine.IO version %d", o.EIO)
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = o.Transport.MaxMessageSize
	}
	q := t.Query
	for k, vs := range o.Query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	for _, k := range []string{"EIO", "transport", "sid"} {
		q.Del(k)
	}
	if enc := q.Encode(); enc != "" {
		c.query = enc + "&"
	}
	c.base = url.URL{Scheme: t.HTTPScheme(), Host: t.Host, Path: o.Path}
	c.topts = o.Transport
	c.topts.Header = o.Header
	c.topts.LocalAddr = o.LocalAddr
	c.topts.TLSConfig = o.TLSConfig
	if o.InsecureSkipVerify {
		c.topts.TLSConfig = insecure(o.TLSConfig)
	}
	if !o.NoCookies {
		c.topts.Jar = &transport.Jar{}
	}
	c.hook = o.Hook
	c.dec.Version = c.sio
	c.onFrame = c.handleFrame
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if c.sio == socketio.V4 {
		// Socket.IO v4 servers connect "/" without being asked; the root
		// socket must exist to receive what follows.
		c.Socket("/")
	}
	return c, nil
}

// insecureConfigs maps a caller's TLS config (nil included) to its
// non-verifying twin, so that clients sharing a config keep sharing one
// pooled HTTP client (the transport pools per config pointer).
var insecureConfigs sync.Map

func insecure(tc *tls.Config) *tls.Config {
	if v, ok := insecureConfigs.Load(tc); ok {
		return v.(*tls.Config)
	}
	twin := &tls.Config{}
	if tc != nil {
		twin = tc.Clone()
	}
	twin.InsecureSkipVerify = true
	v, _ := insecureConfigs.LoadOrStore(tc, twin)
	return v.(*tls.Config)
}

// Dial creates a client and opens its Engine.IO session.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Conn, error) {
	c, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := c.Open(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Connect dials rawURL and connects the namespace named by its path ("/"
// when empty), like the reference client's io(url).
func Connect(ctx context.Context, rawURL string, auth any, opts *Options) (*Socket, error) {
	t, err := socketio.ParseTarget(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: bad url %q: %w", rawURL, err)
	}
	nsp := t.Namespace()
	c, err := Dial(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	s := c.Socket(nsp)
	if err := s.Connect(ctx, auth); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// Handshake returns the open packet of the current session.
func (c *Conn) Handshake() engineio.Handshake {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hs
}

// Transport returns the name of the transport in use.
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Done is closed when the connection is finished for good: closed by
// Close, or disconnected with reconnection disabled or exhausted.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection finished, once Done is closed.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *Conn) emit(e Event) {
	if c.hook != nil {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		e.Conn = c
		c.hook.Observe(e)
	}
}

func (c *Conn) requestURL(scheme, transportName, sid string) string {
	var b strings.Builder
	b.Grow(len(c.base.Host) + len(c.base.Path) + len(c.query) + 64)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(c.base.Host)
	b.WriteString(c.base.Path)
	b.WriteByte('?')
	b.WriteString(c.query)
	b.WriteString("EIO=")
	b.WriteString(c.eio.String())
	b.WriteString("&transport=")
	b.WriteString(transportName)
	if sid != "" {
		b.WriteString("&sid=")
		b.WriteString(url.QueryEscape(sid))
	}
	return b.String()
}

func (c *Conn) wsScheme() string {
	if c.base.Scheme == "https" {
		return "wss"
	}
	return "ws"
}

// Open performs the Engine.IO handshake (and upgrade, per Mode) and starts
// the reader. It does not connect any namespace: use Socket.Connect.
// A Conn is opened at most once; reconnection reuses it.
func (c *Conn) Open(ctx context.Context) error {
	if !c.opened.CompareAndSwap(false, true) {
		return errors.New("client: Open called twice")
	}
	if c.isClosed() {
		return ErrClosed
	}
	// Close must be able to abandon an Open in progress. It calls
	// openCancel rather than Open watching c.ctx (context.AfterFunc), which
	// would leave a children map on c.ctx for the life of every client.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.openCancel = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.openCancel = nil
		c.mu.Unlock()
	}()
	if err := c.openSession(ctx); err != nil {
		return err
	}
	c.started.Store(true)
	go c.run()
	return nil
}

func (c *Conn) closeDone() {
	c.doneOnce.Do(func() {
		close(c.done)
		c.emit(Event{Kind: KindDone, Err: c.Err()})
	})
}

// openSession does the handshake and the upgrade; on success the session
// is open and packets that came with the handshake have been dispatched.
func (c *Conn) openSession(ctx context.Context) error {
	start := time.Now()
	var (
		extra []engineio.Packet
		err   error
	)
	// The handshake has its own timeout, whatever ctx allows: a server
	// that accepts and never answers is an error at that timeout, not
	// whenever the caller gives up.
	hctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	hd, _ := hctx.Deadline()
	if c.opts.Mode == WebSocketOnly {
		err = c.openWebSocket(hctx, start)
	} else {
		extra, err = c.openPolling(hctx, start)
	}
	cancel()
	if err != nil {
		// Deadlines are compared with the clock, not read from the
		// contexts: a transport deadline set to the same instant may
		// fire before the context's timer does.
		now := time.Now()
		if d, ok := ctx.Deadline(); ok && !now.Before(d) {
			// The caller's deadline passed: report it as the caller's,
			// so that it is told apart from a handshake that failed.
			<-ctx.Done()
			return fmt.Errorf("client: handshake: %w", ctx.Err())
		}
		if ctx.Err() == nil && !now.Before(hd) && !errors.Is(err, ErrClosed) {
			return &TimeoutError{Phase: "handshake", After: c.opts.HandshakeTimeout}
		}
		return err
	}
	c.armPing()
	c.inHandler.Add(1)
	defer c.inHandler.Add(-1)
	for _, p := range extra {
		c.handlePacket(p)
	}
	if c.opts.Mode == PollingThenUpgrade && c.hs.CanUpgrade(WebSocket) {
		c.upgrade(ctx)
	}
	return nil
}

// handshakeLimit is the receive limit before the server told its
// maxPayload.
func (c *Conn) handshakeLimit() (int64, string) {
	if c.opts.MaxMessageSize > 0 {
		return c.opts.MaxMessageSize, "max message size"
	}
	return MaxHandshakeSize, "handshake limit"
}

// sessionLimit is the receive limit of a session: twice the server's
// maxPayload but at least MaxHandshakeSize, unless the caller set one.
// maxPayload bounds what a server accepts, not what it sends: a polling
// response batches every packet queued since the last GET, so a server
// with a small maxPayload legitimately sends bodies many times larger.
func (c *Conn) sessionLimit(hs engineio.Handshake) (int64, string) {
	switch {
	case c.opts.MaxMessageSize > 0:
		return c.opts.MaxMessageSize, "max message size"
	case hs.MaxPayload > 0 && 2*int64(hs.MaxPayload) >= MaxHandshakeSize:
		return 2 * int64(hs.MaxPayload), "2x maxPayload " + strconv.Itoa(hs.MaxPayload)
	case hs.MaxPayload > 0:
		return MaxHandshakeSize, "floor of the limit; 2x maxPayload " + strconv.Itoa(hs.MaxPayload) + " is less"
	}
	return transport.DefaultMaxMessageSize, "default limit: the server advertised no maxPayload"
}

func (c *Conn) openPolling(ctx context.Context, start time.Time) ([]engineio.Packet, error) {
	p := transport.NewPolling(c.requestURL(c.base.Scheme, Polling, ""), &c.topts)
	p.SetLimit(c.handshakeLimit())
	body, binary, err := p.Get(ctx, time.Time{}, nil)
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	pkts, err := engineio.DecodePayload(c.eio, body, binary)
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	if len(pkts) == 0 || pkts[0].Type != engineio.Open {
		return nil, fmt.Errorf("client: handshake: first packet is not open: %.100q", body)
	}
	hs, err := engineio.ParseHandshake(pkts[0].Data)
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	p.SetURL(c.requestURL(c.base.Scheme, Polling, hs.SID))
	p.SetLimit(c.sessionLimit(hs))
	if err := c.setSession(hs, nil, p); err != nil {
		return nil, err
	}
	c.emit(Event{Kind: KindHandshake, Duration: time.Since(start), Transport: Polling, SID: hs.SID})
	return pkts[1:], nil
}

func (c *Conn) openWebSocket(ctx context.Context, start time.Time) error {
	ws, err := transport.DialWebSocket(ctx, c.requestURL(c.wsScheme(), WebSocket, ""), &c.topts)
	if err != nil {
		return fmt.Errorf("client: handshake: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(d)
	}
	ws.SetLimit(c.handshakeLimit())
	frame, bin, err := ws.Read(nil)
	var p engineio.Packet
	if err == nil {
		p, err = engineio.ParseFrame(c.eio, frame, bin)
		if err == nil && p.Type != engineio.Open {
			err = fmt.Errorf("first packet is %v, not open", p.Type)
		}
	}
	var hs engineio.Handshake
	if err == nil {
		hs, err = engineio.ParseHandshake(p.Data)
	}
	if err != nil {
		ws.Abort()
		return fmt.Errorf("client: handshake: %w", err)
	}
	ws.SetLimit(c.sessionLimit(hs))
	if err := c.setSession(hs, ws, nil); err != nil {
		ws.Abort()
		return err
	}
	c.emit(Event{Kind: KindHandshake, Duration: time.Since(start), Transport: WebSocket, SID: hs.SID})
	return nil
}

// setSession installs a freshly opened session, unless Close came first.
func (c *Conn) setSession(hs engineio.Handshake, ws *transport.WebSocket, poll *transport.Polling) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.hs, c.ws, c.poll, c.open, c.q = hs, ws, poll, true, nil
	c.transport = WebSocket
	if poll != nil {
		c.transport = Polling
		c.q = newPollQueue(poll, c.eio, hs)
	}
	// Summed in milliseconds, which cannot overflow (ParseHandshake bounds
	// each field); capped at 24 days, a deadline as good as none.
	c.wd.Store(int32(min(int64(hs.PingInterval)+int64(hs.PingTimeout), math.MaxInt32)))
	c.beat.Store(time.Now().UnixNano())
	return nil
}

var (
	probePing = []byte("2probe")
	probePong = []byte("3probe")
	upgradePk = []byte("5")
)

// upgrade moves an open polling session to WebSocket. Nothing polls while
// it runs (the reader has not started), so the spec's "pause polling"
// holds by construction; the server keeps what it wants to send and
// flushes it on the WebSocket after the upgrade packet.
func (c *Conn) upgrade(ctx context.Context) {
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.opts.UpgradeTimeout)
	defer cancel()
	err := func() error {
		ws, err := transport.DialWebSocket(ctx, c.requestURL(c.wsScheme(), WebSocket, c.hs.SID), &c.topts)
		if err != nil {
			return err
		}
		ws.SetLimit(c.sessionLimit(c.hs))
		fail := func(err error) error { ws.Abort(); return err }
		if err := ws.WriteText(probePing); err != nil {
			return fail(err)
		}
		d, _ := ctx.Deadline()
		ws.SetReadDeadline(d)
		frame, _, err := ws.Read(nil)
		if err != nil {
			return fail(err)
		}
		if string(frame) != string(probePong) {
			return fail(fmt.Errorf("probe answered %.100q, want 3probe", frame))
		}
		// Send what the session queued for polling before switching, with
		// the POST slot held, so nothing is lost, reordered or sent twice.
		c.mu.Lock()
		q, poll := c.q, c.poll
		c.mu.Unlock()
		pending, err := q.takeOver(ctx)
		if err != nil {
			return fail(err)
		}
		if len(pending) > 0 {
			if err := poll.Post(ctx, time.Time{}, pending, false); err != nil {
				return fail(err)
			}
		}
		if err := ws.WriteText(upgradePk); err != nil {
			return fail(err)
		}
		c.mu.Lock()
		c.ws, c.poll, c.q, c.transport = ws, nil, nil, WebSocket
		c.mu.Unlock()
		poll.Close() // its connections are not needed any more
		return nil
	}()
	if err != nil && parent.Err() == nil {
		now := time.Now()
		ud, _ := ctx.Deadline()
		pd, ok := parent.Deadline()
		if !now.Before(ud) && (!ok || now.Before(pd)) {
			err = &TimeoutError{Phase: "upgrade", After: c.opts.UpgradeTimeout}
		}
	}
	c.emit(Event{Kind: KindUpgrade, Duration: time.Since(start), Transport: c.Transport(), Err: err})
}

// armPing schedules the Engine.IO v3 client's next ping, pingInterval
// from now: at the open, then on each pong, as the spec says ("after a
// pong, wait pingInterval") and engine.io-client 3.x's setPing does.
func (c *Conn) armPing() {
	if c.eio != engineio.V3 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	iv := c.hs.PingIntervalDuration()
	if c.pingTimer != nil {
		c.pingTimer.Reset(iv)
		return
	}
	c.pingTimer = time.AfterFunc(iv, c.ping)
}

// ping sends the v3 client's ping. From then the server has pingTimeout
// to send something (any packet renews the watchdog, see readWatchdog):
// on WebSocket the read deadline is brought forward to that, as
// engine.io-client 3.x's onHeartbeat(pingTimeout). A polling GET already
// under way keeps its deadline, pingInterval+pingTimeout from its start.
func (c *Conn) ping() {
	c.mu.Lock()
	ws, timeout := c.ws, c.hs.PingTimeoutDuration()
	c.mu.Unlock()
	// Before the send: a pong quicker than this goroutine must find the
	// deadline already tight, and renew it as any packet does.
	if ws != nil {
		ws.SetReadDeadline(time.Now().Add(timeout))
	}
	c.sendEngine(engineio.Packet{Type: engineio.Ping})
}

// watchdog is the spec's pingInterval + pingTimeout: how long the reader
// waits for a ping (v4) or for any packet (v3) before declaring the server
// gone.
func (c *Conn) watchdog() time.Duration { return time.Duration(c.wd.Load()) * time.Millisecond }

// pingDeadline is when a v4 session is dead unless a ping comes first.
func (c *Conn) pingDeadline() time.Time {
	return time.Unix(0, c.beat.Load()).Add(c.watchdog())
}

// pinged renews a v4 session's watchdog on a ping, as the reference
// client's resetPingTimeout does and only then: a server that keeps
// sending messages but stopped pinging is dead by the spec. On WebSocket
// the read deadline moves here, once per ping, instead of before every
// read; polling reads beat when it starts each GET.
func (c *Conn) pinged() {
	now := time.Now()
	c.beat.Store(now.UnixNano())
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.SetReadDeadline(now.Add(c.watchdog()))
	}
}

// run is the reader goroutine: it reads the current transport until the
// session ends, then reconnects if the policy says so.
func (c *Conn) run() {
	for c.readLoop(); c.sessionEnded(); c.readLoop() {
	}
	c.closeDone()
}

// sessionEnded handles the end of a session read by readLoop (c.readErr
// is what ended it) and reports whether a new session is up to read.
//
// The reader's frames (run, readLoop, readWebSocket, ReadFunc) sit under
// every idle client's blocked read, on top of the library's own: kept
// small, the whole idle stack uses under a quarter of 8 KiB (counting the
// runtime's 800-byte guard), so the GC shrinks it to 4 KiB. Hence this
// function, kept out of run, and no defer in run.
//
//go:noinline
func (c *Conn) sessionEnded() bool {
	// A session that went down is back up or given up on when this
	// returns, so when it went down need not outlive the call.
	var down time.Time
	downAt := &down
	err := c.readErr
	c.readErr = nil
	reason := c.closeReason(err)
	if reason == ReasonClientDisconnect {
		err = nil // the read error is only our own close
	}
	c.sessionDown(reason, err)
	if downAt.IsZero() {
		*downAt = time.Now()
	}
	if !c.shouldReconnect(reason) {
		c.finish(&DisconnectError{Reason: reason, Err: err})
		return false
	}
	if !c.reconnect(*downAt) {
		return false
	}
	*downAt = time.Time{}
	return true
}

func (c *Conn) closeReason(err error) string {
	var (
		ce *transport.CloseError
		de *DisconnectError
		pe *engineio.Error
		se *socketio.Error
	)
	switch {
	case c.isClosed():
		return ReasonClientDisconnect
	case errors.As(err, &de):
		return de.Reason
	case errors.As(err, &pe), errors.As(err, &se):
		return ReasonParseError
	case isTimeout(err):
		return ReasonPingTimeout
	case errors.As(err, &ce):
		return ReasonTransportClose
	}
	return ReasonTransportError
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// quiesceLocked stops the ping timer and returns the sockets, for
// sessionDown and Close to tell once c.mu is released. c.mu is held.
func (c *Conn) quiesceLocked() []*Socket {
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	return c.socketsLocked()
}

// socketsLocked returns a copy of the sockets, for telling them after
// c.mu is released (their methods take it). c.mu is held.
func (c *Conn) socketsLocked() []*Socket {
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	return socks
}

// sessionDown tears the transport down and tells every socket.
func (c *Conn) sessionDown(reason string, err error) {
	c.mu.Lock()
	ws, poll, q, wasOpen := c.ws, c.poll, c.q, c.open
	c.open, c.ws, c.poll, c.q = false, nil, nil, nil
	socks := c.quiesceLocked()
	c.mu.Unlock()
	if ws != nil {
		ws.Abort()
	}
	if q != nil {
		q.kill()
	}
	if poll != nil {
		poll.Close()
	}
	c.dec.Reset()
	// The event comes first: a Connect woken below returns the cause, and
	// an observer must already know the session is gone, so that the
	// loss is counted once, as a disconnect.
	if wasOpen {
		c.emit(Event{Kind: KindDisconnect, Reason: reason, Err: err})
	}
	down := fmt.Errorf("%w: %w", ErrNotConnected, &DisconnectError{Reason: reason, Err: err})
	for _, s := range socks {
		s.transportDown(down)
	}
	c.acks.failAll(&DisconnectError{Reason: reason, Err: err})
}

func (c *Conn) shouldReconnect(reason string) bool {
	if c.opts.Reconnect.Disabled || reason == ReasonClientDisconnect {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sockets) == 0 {
		return true
	}
	for _, s := range c.sockets {
		if s.wanted() {
			return true
		}
	}
	return false
}

func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.lastErr == nil {
		c.lastErr = err
	}
	c.mu.Unlock()
}

// reconnect runs the backoff loop on the reader goroutine; it returns
// false when the client gave up or was closed.
func (c *Conn) reconnect(downAt time.Time) bool {
	r := &c.opts.Reconnect
	var lastErr error
	for attempt := 1; ; attempt++ {
		if r.MaxAttempts > 0 && attempt > r.MaxAttempts {
			c.emit(Event{Kind: KindReconnectFailed, Attempt: attempt - 1, Err: lastErr})
			c.finish(&DisconnectError{Reason: "reconnect failed", Err: lastErr})
			return false
		}
		delay := r.backoff(attempt)
		c.emit(Event{Kind: KindReconnectAttempt, Attempt: attempt, Delay: delay, Err: lastErr})
		t := time.NewTimer(delay)
		select {
		case <-c.ctx.Done():
			t.Stop()
			c.finish(ErrClosed)
			return false
		case <-t.C:
		}
		err := c.openSession(c.ctx)
		lastErr = err
		if err != nil {
			if c.isClosed() {
				c.finish(ErrClosed)
				return false
			}
			continue
		}
		c.emit(Event{Kind: KindReconnect, Attempt: attempt, Duration: time.Since(downAt), Transport: c.Transport()})
		c.mu.Lock()
		socks := c.socketsLocked()
		c.mu.Unlock()
		for _, s := range socks {
			s.resume()
		}
		return true
	}
}

// readLoop reads the current transport until it fails or ends, and
// leaves the cause in c.readErr for sessionEnded (returning it would
// cost run a larger frame).
func (c *Conn) readLoop() {
	ws, poll := c.transports()
	if ws != nil {
		c.readErr = ws.ReadEach(c.readWatchdog(ws), c.onFrame)
		return
	}
	c.readOther(poll)
}

// readWatchdog prepares ws's read deadline and returns what ReadEach
// should renew it by on every message: in v3 any packet proves the server
// alive (engine.io-client 3.x's "heartbeat" on every packet), so
// pingInterval+pingTimeout from each; in v4 nothing, the deadline is
// beat+wd, moved by pinged. Out of line to keep readLoop's frame small.
//
//go:noinline
func (c *Conn) readWatchdog(ws *transport.WebSocket) time.Duration {
	if c.eio == engineio.V3 {
		return c.watchdog()
	}
	ws.SetReadDeadline(c.pingDeadline())
	return 0
}

// transports returns the session's transports; out of line to keep
// readLoop's frame small.
//
//go:noinline
func (c *Conn) transports() (*transport.WebSocket, *transport.Polling) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws, c.poll
}

//go:noinline
func (c *Conn) readOther(poll *transport.Polling) {
	if poll != nil {
		c.readErr = c.readPolling(poll)
		return
	}
	c.readErr = ErrNotConnected
}

// handleFrame parses and dispatches one WebSocket message. ReadFunc lends
// the frame for the parse: an idle session waiting for its next message
// holds no buffer of ours.
func (c *Conn) handleFrame(frame []byte, bin bool) error {
	p, err := engineio.ParseFrame(c.eio, frame, bin)
	if err != nil {
		return err
	}
	return c.handlePacket(p)
}

func (c *Conn) readPolling(poll *transport.Polling) error {
	// v3: a v3 server holds the GET until it has something, at the
	// latest until our ping's pong: allow pingInterval + pingTimeout from
	// each GET, plus a margin for scheduling on a loaded generator. v4:
	// every GET ends at the last ping's deadline, as on WebSocket, so
	// responses without a ping do not keep a session that stopped pinging.
	v3 := c.eio == engineio.V3
	wd := c.watchdog() + time.Second
	parse := func(body []byte, bin bool) error {
		return engineio.ParsePayload(c.eio, body, bin, c.handlePacket)
	}
	for {
		if c.isClosed() {
			return ErrClosed
		}
		deadline := c.pingDeadline()
		if v3 {
			deadline = time.Now().Add(wd)
		}
		// GetFunc lends the response body for the parse: an idle session
		// waiting on its GET holds no buffer of ours.
		if err := poll.GetFunc(c.ctx, deadline, parse); err != nil {
			return c.postFailed(err)
		}
	}
}

// postFailed returns why the polling session's GET ended: the failed
// POST that aborted it, if one did, else the GET's own err.
func (c *Conn) postFailed(err error) error {
	c.mu.Lock()
	q := c.q
	c.mu.Unlock()
	if q != nil {
		if perr := q.failure(); perr != nil {
			return perr
		}
	}
	return err
}

var errServerClose = &DisconnectError{Reason: ReasonTransportClose, Err: errors.New("server sent close packet")}

// handlePacket dispatches one Engine.IO packet; an error ends the session.
func (c *Conn) handlePacket(p engineio.Packet) error {
	if c.hook != nil {
		c.rxAt = time.Now()
		c.emit(Event{Kind: KindPacket, Time: c.rxAt, Type: uint8(p.Type), Bytes: len(p.Data) + 1, Binary: p.Binary, Transport: c.transport})
	}
	switch p.Type {
	case engineio.Ping:
		// v4: the server's heartbeat. v3 servers never ping, but answering
		// costs nothing and keeps a confused server alive.
		if c.eio != engineio.V3 {
			c.pinged()
		}
		return c.sendEngine(engineio.Packet{Type: engineio.Pong, Data: p.Data})
	case engineio.Close:
		return errServerClose
	case engineio.Message:
		return c.handleMessage(p.Data, p.Binary)
	case engineio.Pong:
		c.armPing() // v3: the next ping is due pingInterval after this pong
	}
	// open, upgrade and noop need no action here.
	return nil
}

// sendEngine writes one Engine.IO packet on the current transport.
func (c *Conn) sendEngine(p engineio.Packet) error {
	c.mu.Lock()
	ws, q, open := c.ws, c.q, c.open
	c.mu.Unlock()
	if !open {
		return ErrNotConnected
	}
	if ws != nil {
		buf := getBuf()
		frame, bin := engineio.AppendFrame(*buf, c.eio, p)
		var err error
		if bin {
			err = ws.WriteBinary(frame)
		} else {
			err = ws.WriteText(frame)
		}
		putBuf(buf, frame)
		return err
	}
	if err := q.add(p); err != nil {
		return err
	}
	return q.flush(c.ctx)
}

// Close ends the session: it disconnects every namespace, tells the server
// (a close packet over polling; over WebSocket Node ignores that packet,
// so the WebSocket close frame is what ends it) and stops the reader.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.openCancel != nil {
		c.openCancel()
	}
	ws, q, open := c.ws, c.q, c.open
	socks := c.quiesceLocked()
	c.mu.Unlock()
	if open {
		for _, s := range socks {
			s.closeFromConn()
		}
		if q != nil && q.add(engineio.Packet{Type: engineio.Close}) == nil {
			q.flush(c.ctx)
			// Another goroutine may hold the POST slot: give it the time
			// of one POST to carry the close packet too.
			q.drain(time.Second)
		}
		if ws != nil {
			ws.Close()
		}
	}
	c.cancel()
	switch {
	case !c.isStarted():
		c.finish(ErrClosed)
		c.closeDone()
	case open && c.inHandler.Load() == 0:
		// The transport is closed, so the reader ends promptly. Waiting
		// from inside a handler would deadlock; during reconnection the
		// reader may be in a request that cannot be interrupted, and Done
		// reports when it has gone.
		<-c.done
	}
	return nil
}

// isStarted reports whether the reader was started (a failed Open leaves
// none to wait for).
func (c *Conn) isStarted() bool { return c.started.Load() }
