package server

import (
	"bytes"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// Handler returns the fasthttp handler serving the server's path; other
// paths get 404. When mounting it on your own fasthttp.Server, give that
// server NewHTTPServer's StreamRequestBody and MaxRequestBodySize: a server
// that reads bodies whole before the handler hides a POST still arriving, so
// a second POST meanwhile is served instead of refused, and one whose
// MaxRequestBodySize is not above MaxHTTPBufferSize answers oversized POSTs
// with its own error instead of Node's 413.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// Handles reports whether the request path belongs to this server, so that
// several servers (say /socket.io/ and /engine.io/) can share one listener.
func (s *Server) Handles(ctx *fasthttp.RequestCtx) bool {
	return bytes.HasPrefix(ctx.Path(), []byte(s.cfg.Path))
}

// handle checks a request in Node's order (engine.io lib/server.ts verify): transport,
// then sid (known, same transport unless upgrading), then for handshakes the
// method, the Upgrade header and the protocol version.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if !s.Handles(ctx) {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if s.cfg.CORSOrigin != "" {
		h := &ctx.Response.Header
		h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		if s.cfg.CORSOrigin != "*" {
			h.Set("Vary", "Origin")
		}
		if ctx.IsOptions() {
			h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
			if rh := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(rh) > 0 {
				h.SetBytesV("Access-Control-Allow-Headers", rh)
			}
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return
		}
	}
	if s.http.Closed() {
		writeError(ctx, codeUnknownSID)
		return
	}
	args := ctx.QueryArgs()
	transport := args.Peek("transport")
	isWS := string(transport) == WebSocket
	if !(isWS && s.cfg.websocket || string(transport) == Polling && s.cfg.polling) {
		writeError(ctx, codeTransportUnknown)
		return
	}
	upgradeReq := websocket.FastHTTPIsWebSocketUpgrade(ctx)
	if sid := args.Peek("sid"); len(sid) > 0 {
		sess := s.session(sid)
		if sess == nil {
			if upgradeReq {
				writeUpgradeError(ctx, codeUnknownSID)
			} else {
				writeError(ctx, codeUnknownSID)
			}
			return
		}
		if isWS {
			if !upgradeReq || s.cfg.NoUpgrades {
				writeError(ctx, codeBadRequest)
				return
			}
			s.serveUpgrade(ctx, sess)
			return
		}
		switch {
		case ctx.IsGet():
			sess.poll(ctx)
		case ctx.IsPost():
			sess.post(ctx)
		default:
			// Node: 500 for other methods on a known session (§6.1 X-E11).
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		}
		return
	}
	if !ctx.IsGet() {
		writeError(ctx, codeBadHandshakeMethod)
		return
	}
	if isWS && !upgradeReq {
		writeError(ctx, codeBadRequest)
		return
	}
	if string(args.Peek("EIO")) != "4" {
		writeError(ctx, codeUnsupportedVersion)
		return
	}
	if isWS {
		s.serveWebSocketOnly(ctx)
		return
	}
	sess := s.newSession(nil)
	var upgrades []string
	if s.cfg.websocket && !s.cfg.NoUpgrades {
		upgrades = []string{WebSocket}
	}
	setTextHeaders(ctx)
	ctx.SetBody(sess.openPacket(upgrades))
}
