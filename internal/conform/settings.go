package conform

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// Settings are the server settings the cases judge against. The built-in
// cases are written for the contract's (docs/conformance.md §1); a server
// as deployed has its library's defaults or its own, which the user states
// (sioconform run --ping-interval ...) or reads from the handshake.
type Settings struct {
	PingInterval   time.Duration
	PingTimeout    time.Duration
	MaxPayload     int
	ConnectTimeout time.Duration
}

// ContractSettings are the settings of docs/conformance.md §1.
var ContractSettings = Settings{
	PingInterval:   300 * time.Millisecond,
	PingTimeout:    200 * time.Millisecond,
	MaxPayload:     1000000,
	ConnectTimeout: time.Second,
}

// vars are the built-in variables a case can use for the settings:
// ${pingInterval}, ${pingTimeout}, ${connectTimeout} in ms, ${maxPayload}.
func (s Settings) vars() map[string]string {
	return map[string]string{
		"pingInterval":   strconv.FormatInt(s.PingInterval.Milliseconds(), 10),
		"pingTimeout":    strconv.FormatInt(s.PingTimeout.Milliseconds(), 10),
		"maxPayload":     strconv.Itoa(s.MaxPayload),
		"connectTimeout": strconv.FormatInt(s.ConnectTimeout.Milliseconds(), 10),
	}
}

// handshakeKeys are the handshake fields whose contract value (a literal
// in the built-in cases) is replaced by the stated setting.
var handshakeKeys = map[string]string{
	".pingInterval": "pingInterval", ".pingTimeout": "pingTimeout", ".maxPayload": "maxPayload",
}

// settingLiteral returns the stated setting a JSON literal at path stands
// for: the contract's value of a handshake key. ok is false for any other
// literal.
func settingLiteral(path string, lit any, sub subster) (any, bool) {
	for suffix, name := range handshakeKeys {
		if !strings.HasSuffix(path, suffix) {
			continue
		}
		n, isNum := lit.(float64)
		if !isNum || strconv.FormatFloat(n, 'f', -1, 64) != ContractSettings.vars()[name] {
			return nil, false
		}
		v, err := sub("${" + name + "}")
		if err != nil {
			return nil, false
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return nil, false
}

// settingBound lists the cases whose waits and timings are written for the
// contract's settings, by the settings they depend on. With any of those
// settings not the contract's, such a case cannot be judged within its
// timeout (a 25 s ping interval outlasts every case), so it is n/a.
var settingBound = []struct {
	glob  string
	needs []string
}{
	{"*.heartbeat.*", []string{"pingInterval", "pingTimeout"}},
	{"eio4.polling.long-poll-held-until-ping", []string{"pingInterval", "pingTimeout"}},
	{"sio5.connect.timeout", []string{"connectTimeout", "pingInterval", "pingTimeout"}},
	{"sio5.connect.connect-timeout", []string{"connectTimeout", "pingInterval", "pingTimeout"}},
	{"sio5.disconnect-me.*", []string{"pingInterval", "pingTimeout"}},
	{"sio5.disconnect.*", []string{"pingInterval", "pingTimeout"}},
	{"*payload-limit*", []string{"maxPayload"}},
}

// unjudgeable says why c cannot be judged against s, or "" when it can.
func unjudgeable(c *Case, s Settings) string {
	if s == ContractSettings {
		return ""
	}
	cv, sv := ContractSettings.vars(), s.vars()
	for _, b := range settingBound {
		if !globMatch(b.glob, c.ID) {
			continue
		}
		var diff []string
		for _, n := range b.needs {
			if cv[n] != sv[n] {
				diff = append(diff, fmt.Sprintf("%s %s (the case is timed for %s)", n, sv[n], cv[n]))
			}
		}
		if len(diff) > 0 {
			return "the server's settings differ from the contract's this case is timed for: " + strings.Join(diff, ", ")
		}
	}
	return ""
}

// Endpoint is what the preflight found at one path.
type Endpoint struct {
	Path string
	// Status is the HTTP status of the handshake GET (0: no answer).
	Status int
	// Open is true when the answer was an Engine.IO open packet.
	Open bool
	// Got describes a non-open answer: status, content type, body prefix.
	Got string
	// Refusal is set when the answer was an Engine.IO error body
	// ({"code":5,"message":"Unsupported protocol version"}): the path is
	// served by Engine.IO, which refused this handshake.
	Refusal *EngineError
	// Settings holds what the open packet advertised (zero = not advertised).
	Settings Settings
	// Err is a transport error (nothing answering at all).
	Err error
}

// EngineError is an Engine.IO server's refusal of a request: the JSON body
// {"code":N,"message":"..."} that engine.io (and siokit's server) answer
// with a 400 or 403 (code 5 "Unsupported protocol version" for an EIO=
// the server does not speak).
type EngineError struct {
	Code    int
	Message string
}

// engineErrUnsupportedVersion is Engine.IO's error code for an EIO= query
// the server does not speak (engine.io: UNSUPPORTED_PROTOCOL_VERSION).
const engineErrUnsupportedVersion = 5

// engineRefusal parses body as an Engine.IO error, or returns nil.
func engineRefusal(body []byte) *EngineError {
	var e struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == nil || e.Message == nil {
		return nil
	}
	return &EngineError{Code: *e.Code, Message: *e.Message}
}

// Preflight is what answers at a target before any case runs.
type Preflight struct {
	EngineIO, SocketIO Endpoint
	// EIO is the Engine.IO version the handshakes asked for.
	EIO int
}

// RunPreflight sends one polling handshake to /engine.io/ and one to
// /socket.io/ and records what answered.
func RunPreflight(ctx context.Context, target string, eio int) (*Preflight, error) {
	base, err := targetBase(target)
	if err != nil {
		return nil, err
	}
	if eio == 0 {
		eio = 4
	}
	one := func(p string) Endpoint {
		ep := Endpoint{Path: p}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		u := base.Scheme + "://" + base.Host + p + "?EIO=" + strconv.Itoa(eio) + "&transport=polling"
		resp, err := transport.RawRequest(pctx, "GET", u, nil, nil, nil)
		if err != nil {
			ep.Err = err
			return ep
		}
		ep.Status = resp.Status
		pkts, derr := engineio.DecodePayload(eioVersion(eio), resp.Body, strings.Contains(resp.Header.Get("Content-Type"), "octet-stream"))
		if resp.Status == 200 && derr == nil && len(pkts) > 0 && pkts[0].Type == engineio.Open {
			var h struct {
				PingInterval, PingTimeout, MaxPayload float64
			}
			if json.Unmarshal([]byte(pkts[0].Data), &h) == nil {
				ep.Open = true
				ep.Settings = Settings{PingInterval: time.Duration(h.PingInterval) * time.Millisecond,
					PingTimeout: time.Duration(h.PingTimeout) * time.Millisecond, MaxPayload: int(h.MaxPayload)}
				return ep
			}
		}
		if ep.Refusal = engineRefusal(resp.Body); ep.Refusal != nil {
			ep.Got = fmt.Sprintf("%d code %d %s", resp.Status, ep.Refusal.Code, capQuoted(ep.Refusal.Message))
			return ep
		}
		ep.Got = fmt.Sprintf("%d %s %s", resp.Status, resp.Header.Get("Content-Type"), capQuoted(string(resp.Body[:min(len(resp.Body), 40)])))
		return ep
	}
	return &Preflight{EngineIO: one("/engine.io/"), SocketIO: one("/socket.io/"), EIO: eio}, nil
}

// describe is one endpoint's answer for the preflight's messages.
func (e Endpoint) describe() string {
	if e.Err != nil {
		return "no answer (" + e.Err.Error() + ")"
	}
	return "answered " + e.Got
}

// refused is the error for a target where nothing opened but Engine.IO
// answered with a refusal: the server is there, it said no to the
// handshake (most often to its EIO= version).
func (p *Preflight) refused(target string) error {
	e, s := p.EngineIO, p.SocketIO
	got := "GET /engine.io/ " + e.describe() + ", GET /socket.io/ " + s.describe()
	if e.Got == s.Got && e.Err == nil && s.Err == nil {
		got = "GET /engine.io/ and GET /socket.io/ " + e.describe()
	}
	r := e.Refusal
	if r == nil {
		r = s.Refusal
	}
	if r.Code == engineErrUnsupportedVersion {
		hint := "it may speak only Engine.IO v3: try --eio 3"
		if p.EIO == 3 {
			hint = "Node's socket.io needs allowEIO3: true (or run with --eio 4)"
		}
		return fmt.Errorf("%s is an Engine.IO server that refuses EIO=%d (%s); %s; nothing can be judged", target, p.EIO, got, hint)
	}
	return fmt.Errorf("%s is an Engine.IO server that refuses the handshake (%s); nothing can be judged", target, got)
}

// judge decides, from what answered, the settings the cases judge against
// and the paths nothing serves. A non-empty notice says in one line what
// the target is when it is not a full contract server; an error says why
// nothing can be judged.
func (p *Preflight) judge(stated *Settings, fromHandshake bool, target string) (*Settings, map[string]string, string, error) {
	e, s := p.EngineIO, p.SocketIO
	if !e.Open && !s.Open {
		if e.Refusal != nil || s.Refusal != nil {
			return nil, nil, "", p.refused(target)
		}
		return nil, nil, "", fmt.Errorf("%s is not an Engine.IO or Socket.IO server: GET /engine.io/ %s, GET /socket.io/ %s; nothing can be judged",
			target, e.describe(), s.describe())
	}
	absent := map[string]string{}
	var notice string
	switch {
	case !e.Open:
		absent[e.Path] = "no Engine.IO server at /engine.io/ (the contract's echo server): GET " + e.Path + " " + e.describe()
		notice = fmt.Sprintf("%s: Socket.IO only: nothing serves /engine.io/ (%s), so the cases on that path are n/a", target, e.describe())
	case !s.Open:
		absent[s.Path] = "no Socket.IO server at /socket.io/: GET " + s.Path + " " + s.describe()
		notice = fmt.Sprintf("%s: Engine.IO only: nothing serves /socket.io/ (%s), so the cases on that path are n/a", target, s.describe())
	}
	seen := s.Settings
	if !s.Open {
		seen = e.Settings
	}
	if fromHandshake {
		set := ContractSettings
		if stated != nil {
			set = *stated
		}
		if seen.PingInterval > 0 {
			set.PingInterval = seen.PingInterval
		}
		if seen.PingTimeout > 0 {
			set.PingTimeout = seen.PingTimeout
		}
		if seen.MaxPayload > 0 {
			set.MaxPayload = seen.MaxPayload
		}
		return &set, absent, notice, nil
	}
	if stated != nil {
		return stated, absent, notice, nil
	}
	// Nothing stated: a server whose handshake advertises other settings
	// than the contract's would fail every timed case for a reason that is
	// not a bug. Say so and judge nothing.
	var diff, flags []string
	c := ContractSettings
	if seen.PingInterval > 0 && seen.PingInterval != c.PingInterval {
		diff = append(diff, fmt.Sprintf("pingInterval %v (contract %v)", seen.PingInterval, c.PingInterval))
		flags = append(flags, "--ping-interval "+seen.PingInterval.String())
	}
	if seen.PingTimeout > 0 && seen.PingTimeout != c.PingTimeout {
		diff = append(diff, fmt.Sprintf("pingTimeout %v (contract %v)", seen.PingTimeout, c.PingTimeout))
		flags = append(flags, "--ping-timeout "+seen.PingTimeout.String())
	}
	if seen.MaxPayload > 0 && seen.MaxPayload != c.MaxPayload {
		diff = append(diff, fmt.Sprintf("maxPayload %d (contract %d)", seen.MaxPayload, c.MaxPayload))
		flags = append(flags, "--max-payload "+strconv.Itoa(seen.MaxPayload))
	}
	if len(diff) > 0 {
		return nil, nil, "", fmt.Errorf("%s advertises settings other than the contract's: %s; state the server's settings (%s, and --connect-timeout) or use --settings-from-handshake; nothing judged",
			target, strings.Join(diff, ", "), strings.Join(flags, " "))
	}
	return nil, absent, notice, nil
}
