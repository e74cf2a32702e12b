package server

import "time"

// Defaults of Node's engine.io 6 / socket.io 4 servers unless noted.
const (
	DefaultPath              = "/socket.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultMaxHTTPBufferSize = 1_000_000
	DefaultConnectTimeout    = 45 * time.Second
	DefaultUpgradeTimeout    = 10 * time.Second
	// DefaultWriteTimeout bounds one WebSocket write batch; a client that
	// stops reading for longer loses its session instead of pinning the
	// goroutine that writes to it. Node has no such limit (it buffers).
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout is how long a closed polling session waits for
	// the GET that delivers its close packet (Node's closeTimeout).
	DefaultCloseTimeout = 30 * time.Second
)

// Transport names, as in the transport query parameter.
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// Options configures a Server. The zero value is Node's default server on
// /socket.io/ without CORS.
type Options struct {
	// Path is the request path prefix; DefaultPath when empty. A missing
	// trailing slash is added, as Node's addTrailingSlash does.
	Path string
	// PingInterval is the time between server pings (DefaultPingInterval).
	PingInterval time.Duration
	// PingTimeout is how long a client has to answer a ping
	// (DefaultPingTimeout).
	PingTimeout time.Duration
	// MaxHTTPBufferSize limits a polling POST body and a WebSocket
	// message, in bytes, and is advertised as maxPayload
	// (DefaultMaxHTTPBufferSize).
	MaxHTTPBufferSize int
	// ConnectTimeout closes a session that has joined no namespace within
	// it (DefaultConnectTimeout). Ignored in engine-only mode.
	ConnectTimeout time.Duration
	// UpgradeTimeout closes an upgrading WebSocket that has not sent the
	// upgrade packet within it (DefaultUpgradeTimeout).
	UpgradeTimeout time.Duration
	// WriteTimeout bounds a WebSocket write (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// CloseTimeout bounds the wait for the GET that takes a closed polling
	// session's close packet (DefaultCloseTimeout).
	CloseTimeout time.Duration
	// Transports enables transports by name (Polling, WebSocket); nil
	// enables both. A disabled transport is "Transport unknown" (code 0).
	Transports []string
	// NoUpgrades turns polling→WebSocket upgrades off (Node's
	// allowUpgrades: false): the handshake advertises no upgrade.
	NoUpgrades bool
	// CORSOrigin, when set, is sent as Access-Control-Allow-Origin on
	// every response and makes OPTIONS preflights answer 204 ("*" allows
	// any origin, as Node's cors:{origin:"*"}). Empty means no CORS
	// headers, and an OPTIONS handshake is then a bad method (code 2).
	CORSOrigin string
	// Engine, when set, puts the server in engine-only mode: no Socket.IO
	// layer, every Engine.IO message goes to Engine (see EngineHandler).
	Engine EngineHandler
}

// EngineHandler receives one Engine.IO message of an engine-only server:
// data is valid only during the call, binary tells a binary message from
// text. It runs on the session's reader (see the package documentation).
type EngineHandler func(s *Session, data []byte, binary bool)

// config is Options with defaults applied and derived values computed.
type config struct {
	Options
	polling, websocket bool
	pingInterval       int64 // ns
	pingTimeout        int64
	connectTimeout     int64
	upgradeTimeout     int64
	closeTimeout       int64
}

func newConfig(o *Options) config {
	var c config
	if o != nil {
		c.Options = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	def := func(d *time.Duration, v time.Duration) int64 {
		if *d <= 0 {
			*d = v
		}
		return int64(*d)
	}
	c.pingInterval = def(&c.PingInterval, DefaultPingInterval)
	c.pingTimeout = def(&c.PingTimeout, DefaultPingTimeout)
	c.connectTimeout = def(&c.ConnectTimeout, DefaultConnectTimeout)
	c.upgradeTimeout = def(&c.UpgradeTimeout, DefaultUpgradeTimeout)
	c.closeTimeout = def(&c.CloseTimeout, DefaultCloseTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if c.Transports == nil {
		c.polling, c.websocket = true, true
	}
	for _, t := range c.Transports {
		switch t {
		case Polling:
			c.polling = true
		case WebSocket:
			c.websocket = true
		}
	}
	return c
}
