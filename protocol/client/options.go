package client

import (
	"crypto/tls"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
	"github.com/siokit/siokit/protocol/transport"
)

// Mode selects the transports a client uses.
type Mode uint8

// Transport modes.
const (
	// PollingThenUpgrade opens with HTTP long-polling and upgrades to
	// WebSocket when the server offers it (the reference client's default).
	PollingThenUpgrade Mode = iota
	// PollingOnly never leaves long-polling.
	PollingOnly
	// WebSocketOnly opens the session directly over WebSocket.
	WebSocketOnly
)

func (m Mode) String() string {
	switch m {
	case PollingThenUpgrade:
		return "polling+websocket"
	case PollingOnly:
		return "polling"
	case WebSocketOnly:
		return "websocket"
	}
	return "unknown"
}

// Defaults of the reference client (socket.io-client 4.x) unless noted.
const (
	DefaultPath              = socketio.DefaultPath
	DefaultReconnectDelay    = time.Second
	DefaultReconnectDelayMax = 5 * time.Second
	DefaultRandomization     = 0.5
	// DefaultUpgradeTimeout bounds the WebSocket dial plus probe; the
	// reference client has no own limit and relies on the server's 10 s.
	DefaultUpgradeTimeout = 10 * time.Second
	// DefaultHandshakeTimeout bounds the Engine.IO open, from the first
	// request to the open packet: the reference client's "timeout".
	DefaultHandshakeTimeout = 20 * time.Second
	// DefaultOpenTimeout is the former name of DefaultHandshakeTimeout.
	DefaultOpenTimeout = DefaultHandshakeTimeout
	// DefaultConnectTimeout bounds the wait for the answer to a namespace
	// CONNECT. The reference client sets no timer there; without one a
	// server that never answers would hold the caller forever, so the
	// handshake's 20 s is used.
	DefaultConnectTimeout = 20 * time.Second
	// MaxHandshakeSize caps the handshake response (the open packet and
	// what came with it), read before the server has told its maxPayload,
	// and is the least limit of a session. It is twice Node's default
	// maxPayload: the handshake and the sessions of such a server then
	// share one pooled HTTP client (pooled per limit), hence connections.
	MaxHandshakeSize = 2000000
)

// Options configures a client. The zero value connects like the
// reference client: path /socket.io/, Engine.IO v4, polling then
// WebSocket, reconnection on.
type Options struct {
	// Path is the Engine.IO request path; DefaultPath when empty.
	Path string
	// EIO is the Engine.IO protocol version (4, or 3 for socket.io 2.x
	// servers). The Socket.IO version follows: 5 over v4, 4 over v3.
	EIO engineio.Version
	// Mode picks the transports.
	Mode Mode
	// Query is added to every request URL.
	Query url.Values
	// Header is sent with every HTTP request and the WebSocket handshake.
	Header http.Header
	// TLSConfig verifies servers with the system roots when nil.
	TLSConfig *tls.Config
	// InsecureSkipVerify turns certificate verification off. It must be
	// asked for explicitly; it overrides TLSConfig's setting.
	InsecureSkipVerify bool
	// LocalAddr binds outgoing connections to this source address.
	LocalAddr *net.TCPAddr
	// NoCookies stops the client from keeping and returning cookies
	// (load balancers use them for sticky sessions).
	NoCookies bool
	// Transport overrides advanced transport settings (shared HTTP
	// client, message size limit); its Header, TLSConfig, LocalAddr and
	// Jar are filled from the fields above.
	Transport transport.Options
	// Reconnect controls reconnection after an unexpected disconnect.
	Reconnect Reconnect
	// HandshakeTimeout bounds the Engine.IO open on either transport,
	// whatever the caller's context allows (DefaultHandshakeTimeout when
	// 0); reconnection attempts use it too.
	HandshakeTimeout time.Duration
	// UpgradeTimeout bounds the WebSocket upgrade attempt
	// (DefaultUpgradeTimeout when 0).
	UpgradeTimeout time.Duration
	// ConnectTimeout bounds each Socket.Connect's wait for the server's
	// answer (DefaultConnectTimeout when 0).
	ConnectTimeout time.Duration
	// MaxMessageSize caps one received polling body or WebSocket message.
	// 0 means twice the maxPayload the server advertised in its handshake
	// but at least MaxHandshakeSize (transport.DefaultMaxMessageSize when
	// it advertised none), and MaxHandshakeSize for the handshake itself.
	// A larger one ends the session with a *transport.TooLargeError
	// saying so; it is never buffered whole. Transport.MaxMessageSize is
	// used when this is 0.
	MaxMessageSize int64
	// Hook observes every phase; nil observes nothing.
	Hook Hook
}

// Reconnect is the reconnection policy. The zero value reconnects forever
// with the reference client's backoff: delay 1 s doubling up to 5 s, each
// randomised by ±50 %.
type Reconnect struct {
	Disabled bool
	// MaxAttempts is the number of attempts before giving up; 0 means no
	// limit.
	MaxAttempts   int
	Delay         time.Duration
	DelayMax      time.Duration
	Randomization float64 // 0 means DefaultRandomization; negative means none
}

// backoff returns the delay before attempt n (1-based), following the
// reference client: min(Delay*2^(n-1), DelayMax), jittered by
// ±Randomization, then capped again.
func (r *Reconnect) backoff(n int) time.Duration {
	base, maxd := r.Delay, r.DelayMax
	if base <= 0 {
		base = DefaultReconnectDelay
	}
	if maxd <= 0 {
		maxd = DefaultReconnectDelayMax
	}
	f := r.Randomization
	if f == 0 {
		f = DefaultRandomization
	}
	ms := float64(base)
	for i := 1; i < n && ms < float64(maxd); i++ {
		ms *= 2
	}
	if f > 0 {
		dev := rand.Float64() * f * ms
		if rand.IntN(2) == 0 {
			ms -= dev
		} else {
			ms += dev
		}
	}
	d := time.Duration(ms)
	if d > maxd {
		d = maxd
	}
	if d < 0 {
		d = 0
	}
	return d
}
