package client

import (
	"crypto/tls"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
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
	DefaultPath              = "/socket.io/"
	DefaultReconnectDelay    = time.Second
	DefaultReconnectDelayMax = 5 * time.Second
	DefaultRandomization     = 0.5
	// DefaultUpgradeTimeout bounds the WebSocket dial plus probe; the
	// reference client has no own limit and relies on the server's 10 s.
	DefaultUpgradeTimeout = 10 * time.Second
	// DefaultOpenTimeout bounds the handshake when the caller's context
	// has no deadline (the reference client's "timeout" option).
	DefaultOpenTimeout = 20 * time.Second
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
	// UpgradeTimeout bounds the WebSocket upgrade attempt.
	UpgradeTimeout time.Duration
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
