package socketio

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPath is where a Socket.IO server listens unless told otherwise
// (the reference client's and server's `path` option).
const DefaultPath = "/socket.io/"

// Target is a Socket.IO server address as a user writes it for the
// reference client's io(url): scheme and host say where to dial, the path
// names the namespace (not the HTTP path, which is an option, DefaultPath
// by default), the query goes into every handshake request.
type Target struct {
	// Scheme is the scheme as written, lower case: http, https, ws or
	// wss. Both transports are reached from either pair.
	Scheme string
	// Host is host[:port] as written.
	Host string
	// User is the URL's userinfo, nil without one: kept so that callers
	// can refuse or redact it, never sent by the transports.
	User *url.Userinfo
	// Path is the URL's path as written ("" when it has none).
	Path string
	// Query is the URL's query, in the order written.
	Query url.Values
	// RawQuery is the query as written, for callers that must not
	// reorder it.
	RawQuery string
	// Fragment is the URL's fragment, which no request carries.
	Fragment string
}

// ErrTargetURL is wrapped by every error of ParseTarget.
var ErrTargetURL = errors.New("not a Socket.IO server URL")

// ParseTarget parses raw as a Socket.IO target: an http, https, ws or wss
// URL with a host. A bare "host:port" is refused: url.Parse reads it as
// scheme "host", and dialling that would fail far from the typo.
func ParseTarget(raw string) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTargetURL, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return nil, fmt.Errorf("%w: scheme must be http, https, ws or wss", ErrTargetURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: no host", ErrTargetURL)
	}
	return &Target{Scheme: u.Scheme, Host: u.Host, User: u.User, Path: u.Path,
		Query: u.Query(), RawQuery: u.RawQuery, Fragment: u.Fragment}, nil
}

// Secure reports whether the target wants TLS (https or wss).
func (t *Target) Secure() bool { return t.Scheme == "https" || t.Scheme == "wss" }

// HTTPScheme is the scheme of the target's polling requests: http, or
// https when Secure (a ws:// target is polled over http://, as the
// reference client does).
func (t *Target) HTTPScheme() string {
	if t.Secure() {
		return "https"
	}
	return "http"
}

// WSScheme is the scheme of the target's WebSocket: ws, or wss when
// Secure.
func (t *Target) WSScheme() string {
	if t.Secure() {
		return "wss"
	}
	return "ws"
}

// Namespace is the namespace the URL names: its path, "/" when it has
// none (io("http://host/admin") connects /admin).
func (t *Target) Namespace() string {
	if t.Path == "" {
		return "/"
	}
	return t.Path
}

// Origin is the target's http(s)://host, without userinfo, path or
// query: what request URLs are built on.
func (t *Target) Origin() *url.URL { return &url.URL{Scheme: t.HTTPScheme(), Host: t.Host} }

// HostPort is the target's host:port with the scheme's default port
// (80, or 443 when Secure) filled in: the address a TCP dial needs.
func (t *Target) HostPort() string {
	u := url.URL{Host: t.Host}
	if u.Port() != "" {
		return t.Host
	}
	port := "80"
	if t.Secure() {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// EnginePath normalises an HTTP path option for the handshake requests:
// DefaultPath when empty, else with a leading and a trailing slash added
// where missing ("socket" and "/socket" both mean "/socket/").
func EnginePath(p string) string {
	if p == "" {
		return DefaultPath
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
