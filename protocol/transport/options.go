package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Options configures how a transport reaches the server. The zero value is
// ready to use: a shared HTTP client, no extra headers, verified TLS.
type Options struct {
	// HTTPClient carries polling requests. Nil gives each session its own
	// two keep-alive connections (see the package doc); a client set here
	// pools connections across the sessions that use it.
	HTTPClient *fasthttp.Client
	// Header is sent with every polling request and the WebSocket handshake.
	Header http.Header
	// TLSConfig is used for https and wss. Nil means the system roots,
	// verified; set InsecureSkipVerify in it explicitly to skip checks.
	TLSConfig *tls.Config
	// LocalAddr binds outgoing connections to a source address, which is how
	// a load test exceeds one address's ephemeral port range.
	LocalAddr *net.TCPAddr
	// Dial opens every connection of both transports (network "tcp"; TLS,
	// if any, is layered on top by this package), in place of a
	// net.Dialer honouring LocalAddr, which it then overrides. Tests give
	// it an in-memory connection, so that a client and a server share a
	// testing/synctest bubble. ctx carries the dial's deadline. Polling
	// through a caller's HTTPClient dials as that client does; the client
	// RawRequest builds for a Dial is not pooled.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Jar keeps cookies across the requests of one session (sticky
	// sessions). Nil disables cookies.
	Jar *Jar
	// MaxMessageSize caps one incoming WebSocket message or polling
	// response body; 0 means DefaultMaxMessageSize. Whatever a server
	// sends, a session then holds at most this much of it: a longer one
	// ends with a *TooLargeError and is never buffered whole.
	MaxMessageSize int64
	// LimitReason tells where MaxMessageSize comes from ("2x maxPayload
	// 1000000"), for the *TooLargeError text.
	LimitReason string
	// WriteTimeout bounds one WebSocket write; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// DefaultWriteTimeout bounds a WebSocket write when Options leaves it 0.
const DefaultWriteTimeout = 10 * time.Second

// DefaultMaxMessageSize bounds a polling body or WebSocket message when
// Options leaves MaxMessageSize 0 (the session layer sets its own).
const DefaultMaxMessageSize = 16 << 20

type clientKey struct {
	tls     *tls.Config
	local   string
	maxBody int
}

var (
	sharedMu      sync.Mutex
	sharedClients = map[clientKey]*fasthttp.Client{}
)

// sharedClient returns one fasthttp.Client per (TLS config, source
// address, body limit) so that thousands of sessions pool their
// connections. The limit is part of the key because fasthttp enforces it
// per client, while reading: a body over it is cut, never buffered whole.
// Sessions of one server share a limit (it follows the server's
// maxPayload), hence a client.
func sharedClient(o *Options, maxBody int64) *fasthttp.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	if o.Dial != nil {
		// A func cannot key the pool; a caller's Dial is for tests and
		// raw requests, not for thousands of sessions.
		c := newHTTPClient(o.TLSConfig, o.Dial)
		c.MaxResponseBodySize = int(maxBody)
		return c
	}
	k := clientKey{tls: o.TLSConfig, maxBody: int(maxBody)}
	if o.LocalAddr != nil {
		k.local = o.LocalAddr.String()
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if c := sharedClients[k]; c != nil {
		return c
	}
	c := newHTTPClient(o.TLSConfig, dialFunc(o))
	c.MaxResponseBodySize = k.maxBody
	sharedClients[k] = c
	return c
}

// NewHTTPClient returns a fasthttp client suited to long-polling: no
// per-host connection cap (every session keeps a GET pending), idle
// connections dropped before common servers drop them, and optional
// source-address binding, dialled as every connection of this package is.
func NewHTTPClient(tlsConfig *tls.Config, local *net.TCPAddr) *fasthttp.Client {
	return newHTTPClient(tlsConfig, dialFunc(&Options{LocalAddr: local}))
}

func newHTTPClient(tlsConfig *tls.Config, dial func(context.Context, string, string) (net.Conn, error)) *fasthttp.Client {
	return &fasthttp.Client{
		Name:            "siokit",
		MaxConnsPerHost: 1 << 20,
		// Below Node's 5 s keep-alive timeout: reusing a connection the
		// server is closing fails the request ("server closed connection
		// before returning the first response byte"), and fasthttp does
		// not always retry it.
		MaxIdleConnDuration:           3 * time.Second,
		TLSConfig:                     tlsConfig,
		NoDefaultUserAgentHeader:      false,
		DisableHeaderNamesNormalizing: true,
		// Responses are read whole: a polling body is one payload. The
		// pooled clients of this package set their own, smaller limit.
		MaxResponseBodySize: 64 << 20,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			return dialWithin(dial, addr, timeout)
		},
	}
}

// dialFunc is the one way this package opens a connection, for polling
// and WebSocket alike: the caller's Dial, or a net.Dialer honouring
// LocalAddr. fasthttp's own dialer is not used: it cannot set
// IP_BIND_ADDRESS_NO_PORT (see bindNoPort).
func dialFunc(o *Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Dial != nil {
		return o.Dial
	}
	return netDialer(o).DialContext
}

// dialWithin dials addr over TCP within timeout, a timeout reported as
// fasthttp's dialers report it (fasthttp.ErrDialTimeout).
func dialWithin(dial func(context.Context, string, string) (net.Conn, error), addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("dial %s: %w", addr, fasthttp.ErrDialTimeout)
	}
	return c, err
}

// netDialer returns the dialer of LocalAddr: with a source address bound,
// its Control asks for the source port at connect (bindNoPort).
func netDialer(o *Options) *net.Dialer {
	d := &net.Dialer{}
	if o.LocalAddr != nil {
		d.LocalAddr = o.LocalAddr
		d.Control = bindNoPort
	}
	return d
}
