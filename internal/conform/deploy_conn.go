package conform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// The deployment checks' client: a minimal Engine.IO v4 / Socket.IO v5 session over raw
// requests and raw WebSockets, so that every status code, header and close the proxy produces
// is seen as it came (the full client would retry and hide them).

// requestTimeout bounds one HTTP request or WebSocket handshake of a deployment check. Long:
// a loaded machine must not turn into a verdict; a long-poll is held up to pingInterval.
const requestTimeout = 40 * time.Second

// dconn is one session of a deployment check over polling or WebSocket.
type dconn struct {
	run  *deployRun
	opts *transport.Options
	ws   *transport.RawConn
	sid  string
	hs   engineio.Handshake
	// node is the node that answered the handshake ("" when the server does not say).
	node string

	mu    sync.Mutex
	nodes []string // node of every HTTP answer, in order (polling)
	// backlog holds packets expect skipped, for a later expect (a broadcast can overtake the ack
	// of the request that caused it).
	backlog []string
	packets chan string
	errc    chan error
	stop    chan struct{}
	once    sync.Once
}

// errSidUnknown is a request answered 400 "Session ID unknown" (engine.io error code 1): the
// proxy sent a request of the session to a node that does not hold it.
var errSidUnknown = errors.New(`400 {"code":1,"message":"Session ID unknown"}`)

// statusError is any other unexpected HTTP answer.
type statusError struct {
	what   string
	status int
	body   string
	node   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s", e.what, e.status, clip(e.body, 120))
}

// sidUnknownError carries where the handshake and the refused request landed.
type sidUnknownError struct{ handshakeNode, refusedNode, what string }

func (e *sidUnknownError) Error() string { return e.what + ": " + errSidUnknown.Error() }
func (e *sidUnknownError) Unwrap() error { return errSidUnknown }

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// newConn prepares session i: its own cookie jar and, against a loopback target, its own
// source address 127.0.0.k, so that a proxy that hashes the client address spreads the
// sessions over its nodes as it would spread distinct users.
func (r *deployRun) newConn(i int) *dconn {
	o := &transport.Options{Jar: &transport.Jar{}}
	if r.spread {
		o.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))}
	}
	if r.cfg.Origin != "" {
		o.Header = http.Header{"Origin": {r.cfg.Origin}}
	}
	return &dconn{run: r, opts: o, packets: make(chan string, 256), errc: make(chan error, 1), stop: make(chan struct{})}
}

func (c *dconn) pollURL() string {
	q := "EIO=4&transport=polling"
	if c.sid != "" {
		q += "&sid=" + url.QueryEscape(c.sid)
	}
	return c.run.base + c.run.path + "?" + q
}

// do sends one polling request and classifies the answer: 400 "Session ID unknown" becomes a
// *sidUnknownError, any other non-200 a *statusError.
func (c *dconn) do(ctx context.Context, what, method string, body []byte) (*transport.Response, error) {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var h http.Header
	if body != nil {
		h = http.Header{"Content-Type": {"text/plain;charset=UTF-8"}}
	}
	resp, err := transport.RawRequest(rctx, method, c.pollURL(), h, body, c.opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	node := resp.Header.Get(c.run.cfg.NodeHeader)
	c.mu.Lock()
	c.nodes = append(c.nodes, node)
	c.mu.Unlock()
	if resp.Status == 400 && bytes.Contains(resp.Body, []byte("Session ID unknown")) {
		return resp, &sidUnknownError{handshakeNode: c.node, refusedNode: node, what: what}
	}
	if resp.Status != 200 {
		return resp, &statusError{what: what, status: resp.Status, body: string(resp.Body), node: node}
	}
	return resp, nil
}

// openPolling performs the polling handshake.
func (c *dconn) openPolling(ctx context.Context) error {
	resp, err := c.do(ctx, "handshake GET", "GET", nil)
	if err != nil {
		return err
	}
	pkts, err := engineio.DecodePayload(engineio.V4, resp.Body, false)
	if err != nil || len(pkts) == 0 || pkts[0].Type != engineio.Open {
		return fmt.Errorf("handshake GET: not an open packet: %q", clip(string(resp.Body), 120))
	}
	if c.hs, err = engineio.ParseHandshake(pkts[0].Data); err != nil {
		return fmt.Errorf("handshake GET: %v", err)
	}
	c.sid = c.hs.SID
	c.node = resp.Header.Get(c.run.cfg.NodeHeader)
	return nil
}

// post sends text packets in one polling POST.
func (c *dconn) post(ctx context.Context, what string, pkts ...string) error {
	_, err := c.do(ctx, what, "POST", []byte(strings.Join(pkts, "\x1e")))
	return err
}

// poll sends one polling GET and returns its text packets ("4…" messages keep their type digit).
func (c *dconn) poll(ctx context.Context, what string) ([]string, error) {
	resp, err := c.do(ctx, what, "GET", nil)
	if err != nil {
		return nil, err
	}
	pkts, err := engineio.DecodePayload(engineio.V4, resp.Body, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	out := make([]string, 0, len(pkts))
	for _, p := range pkts {
		out = append(out, string(rune('0'+p.Type))+string(p.Data))
	}
	return out, nil
}

// wsURL is the WebSocket URL of a fresh WebSocket-only session.
func (r *deployRun) wsURL() string {
	u := r.base
	if strings.HasPrefix(u, "https://") {
		u = "wss://" + strings.TrimPrefix(u, "https://")
	} else {
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u + r.path + "?EIO=4&transport=websocket"
}

// openWS opens a WebSocket-only session (no polling first, so no stickiness is needed) and
// reads its open packet. On refusal the handshake response is returned with the error.
func (c *dconn) openWS(ctx context.Context) (*transport.Response, error) {
	dctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ws, resp, err := transport.DialRaw(dctx, c.run.wsURL(), c.opts)
	if err != nil {
		return resp, err
	}
	c.ws = ws
	if resp != nil && resp.Header != nil {
		c.node = resp.Header.Get(c.run.cfg.NodeHeader)
	}
	f, err := ws.Next(dctx)
	if err != nil || f.Kind != transport.TextFrame || len(f.Data) == 0 || f.Data[0] != '0' {
		return resp, fmt.Errorf("WebSocket open: no open packet (%v, %v %q)", err, f.Kind, clip(string(f.Data), 80))
	}
	if c.hs, err = engineio.ParseHandshake(f.Data[1:]); err != nil {
		return resp, fmt.Errorf("WebSocket open: %v", err)
	}
	c.sid = c.hs.SID
	return resp, nil
}

// start runs the session's reader: WebSocket frames or a long-polling loop feed c.packets and
// pings are answered. The first failure lands on c.errc.
func (c *dconn) start(ctx context.Context) {
	fail := func(err error) {
		select {
		case c.errc <- err:
		default:
		}
	}
	if c.ws != nil {
		go func() {
			for {
				f, err := c.ws.Next(ctx)
				if err != nil {
					fail(fmt.Errorf("WebSocket: %v", err))
					return
				}
				if f.Kind == transport.CloseFrame {
					fail(fmt.Errorf("WebSocket closed (code %d)", f.Code))
					return
				}
				if f.Kind != transport.TextFrame {
					continue
				}
				s := string(f.Data)
				if s == "2" {
					_, _ = c.ws.Send(transport.TextFrame, []byte("3"))
					continue
				}
				if !c.deliver(s) {
					return
				}
			}
		}()
		return
	}
	go func() {
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			pkts, err := c.poll(ctx, "long-poll GET")
			if err != nil {
				select {
				case <-c.stop:
				default:
					fail(err)
				}
				return
			}
			for _, s := range pkts {
				if s == "2" {
					if err := c.post(ctx, "pong POST", "3"); err != nil {
						fail(err)
						return
					}
					continue
				}
				if s == "1" {
					fail(errors.New("the server closed the session (close packet)"))
					return
				}
				if !c.deliver(s) {
					return
				}
			}
		}
	}()
}

func (c *dconn) deliver(s string) bool {
	select {
	case c.packets <- s:
		return true
	case <-c.stop:
		return false
	}
}

// send writes Engine.IO text packets ("40", "42[…]").
func (c *dconn) send(ctx context.Context, what string, pkts ...string) error {
	if c.ws != nil {
		for _, p := range pkts {
			if _, err := c.ws.Send(transport.TextFrame, []byte(p)); err != nil {
				return fmt.Errorf("%s: %v", what, err)
			}
		}
		return nil
	}
	return c.post(ctx, what, pkts...)
}

// expect waits for a packet with the given prefix, skipping others, until ctx ends or the
// session fails.
func (c *dconn) expect(ctx context.Context, what, prefix string) (string, error) {
	c.mu.Lock()
	for i, s := range c.backlog {
		if strings.HasPrefix(s, prefix) {
			c.backlog = append(c.backlog[:i], c.backlog[i+1:]...)
			c.mu.Unlock()
			return s, nil
		}
	}
	c.mu.Unlock()
	for {
		select {
		case s := <-c.packets:
			if strings.HasPrefix(s, prefix) {
				return s, nil
			}
			// The cluster peer names its node in an event; keep it when no header said so.
			if c.node == "" && strings.HasPrefix(s, `42["node","`) {
				c.node = strings.TrimSuffix(strings.TrimPrefix(s, `42["node","`), `"]`)
			}
			if !strings.HasPrefix(s, `42["message-back","keepalive"]`) {
				c.mu.Lock()
				if len(c.backlog) < 256 {
					c.backlog = append(c.backlog, s)
				}
				c.mu.Unlock()
			}
		case err := <-c.errc:
			c.errc <- err
			return "", fmt.Errorf("%s: %w", what, err)
		case <-ctx.Done():
			return "", fmt.Errorf("%s: nothing within the check's time limit", what)
		}
	}
}

// connect opens the Socket.IO "/" namespace on a started session.
func (c *dconn) connect(ctx context.Context) error {
	if err := c.send(ctx, "CONNECT", "40"); err != nil {
		return err
	}
	_, err := c.expect(ctx, "CONNECT reply", "40{")
	return err
}

// failed reports the session's failure, if any, without waiting.
func (c *dconn) failed() error {
	select {
	case err := <-c.errc:
		c.errc <- err
		return err
	default:
		return nil
	}
}

// close ends the session.
func (c *dconn) close() {
	c.once.Do(func() {
		close(c.stop)
		if c.ws != nil {
			_ = c.ws.Abort()
		}
	})
}
