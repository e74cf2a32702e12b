package server

import (
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Engine.IO HTTP error codes, as Node sends them in {"code":N,"message":…}
// bodies (engine.io lib/server.ts).
const (
	codeTransportUnknown   = 0
	codeUnknownSID         = 1
	codeBadHandshakeMethod = 2
	codeBadRequest         = 3
	codeUnsupportedVersion = 5
)

var codeMessages = [...]string{
	codeTransportUnknown:   "Transport unknown",
	codeUnknownSID:         "Session ID unknown",
	codeBadHandshakeMethod: "Bad handshake method",
	codeBadRequest:         "Bad request",
	4:                      "Forbidden",
	codeUnsupportedVersion: "Unsupported protocol version",
}

// writeError answers a non-upgrade request with Node's JSON error body.
func writeError(ctx *fasthttp.RequestCtx, code int) {
	ctx.SetStatusCode(fasthttp.StatusBadRequest)
	ctx.SetContentType("application/json")
	var arr [64]byte
	b := append(arr[:0], `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":"`...)
	b = append(b, codeMessages[code]...)
	b = append(b, `"}`...)
	ctx.SetBody(b)
}

// writeUpgradeError refuses a WebSocket upgrade before the 101 as Node's
// abortUpgrade does: always 400, the message as plain text.
func writeUpgradeError(ctx *fasthttp.RequestCtx, code int) {
	ctx.SetStatusCode(fasthttp.StatusBadRequest)
	ctx.SetContentType("text/html")
	ctx.SetConnectionClose()
	ctx.SetBodyString(codeMessages[code])
}

var (
	// ErrClosed is returned by sends on a socket or session that is closed.
	ErrClosed = errors.New("server: closed")
	// ErrAckTimeout is passed to an AckFunc whose answer did not arrive in
	// time.
	ErrAckTimeout = errors.New("server: ack timeout")
	// ErrNoAck is returned by Message.Ack when the client asked for no
	// acknowledgement, or it was already sent.
	ErrNoAck = errors.New("server: message has no ack to send")
	// ErrReservedEvent is returned when emitting one of the names Socket.IO
	// reserves (connect, disconnect, …), which clients would reject.
	ErrReservedEvent = errors.New("server: reserved event name")
	// ErrBadArgs is returned by the Raw emitters when args is not a JSON
	// array.
	ErrBadArgs = errors.New("server: args must be a JSON array")
)

// ConnectError is what a middleware returns to refuse a namespace with a
// message and optional data: the client gets
// CONNECT_ERROR {"message":Message,"data":Data}. Any other error refuses with
// its Error() as message and no data.
type ConnectError struct {
	Message string
	Data    any // marshalled with encoding/json; omitted when nil
}

func (e *ConnectError) Error() string { return e.Message }
