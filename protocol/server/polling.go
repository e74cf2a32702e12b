package server

import (
	"bytes"
	"encoding/base64"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/valyala/fasthttp"
)

// poll answers a polling GET: it holds the request until something is
// queued (a message, a ping, a noop during an upgrade, the close), then
// sends the whole queue as one payload (engine.io-protocol v4, "HTTP long-polling").
func (s *Session) poll(ctx *fasthttp.RequestCtx) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		writeError(ctx, codeUnknownSID)
		return
	}
	if s.ws != nil {
		s.mu.Unlock()
		writeError(ctx, codeBadRequest)
		return
	}
	if s.getActive {
		// A second concurrent GET: 400 (empty body) and the session ends;
		// the first GET then gets the close packet.
		s.mu.Unlock()
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
		return
	}
	s.getActive = true
	for s.state == stateOpen && len(s.queue) == 0 && !s.noop && s.ws == nil {
		s.mu.Unlock()
		<-s.wake
		s.mu.Lock()
	}
	batch := s.queue
	s.queue, s.spare = s.spare[:0], nil
	closing := s.state == stateClosing
	var dropReply []byte
	if s.state == stateClosed {
		// Dropped while this GET was pending (Session.end).
		dropReply = s.dropReply
		if dropReply == nil {
			dropReply = pktClose
		}
	}
	noop := s.noop || s.ws != nil
	s.noop = false
	closeNoop := s.closeNoop
	s.mu.Unlock()

	setTextHeaders(ctx)
	scratch := getFrame()
	body := scratch.b
	var n, nb int64
	for i := range batch {
		it := &batch[i]
		if i > 0 {
			body = append(body, 0x1e)
		}
		if it.binary {
			body = append(body, 'b')
			body = base64.StdEncoding.AppendEncode(body, it.data)
		} else {
			body = append(body, it.data...)
		}
		if it.msg {
			n++
			nb += int64(len(it.data)) + b2i(it.binary)
		}
		it.release()
	}
	clear(batch)
	switch {
	case closing:
		// Node: "1" to a GET pending at close time, else "6\x1e1".
		if len(batch) > 0 {
			body = append(body, 0x1e)
			body = append(body, pktClose...)
		} else if closeNoop {
			body = append(body, noopClose...)
		} else {
			body = append(body, pktClose...)
		}
	case dropReply != nil:
		// Node has written what was queued to this GET before the close
		// comes; with nothing queued, a noop after the client's close
		// packet, else the close packet.
		if len(batch) == 0 {
			body = append(body, dropReply...)
		}
	case len(batch) == 0 && noop:
		body = append(body, pktNoop...)
	}
	ctx.SetBody(body)
	scratch.b = body
	scratch.release()
	s.srv.stats.msgOut.Add(n)
	s.srv.stats.bytesOut.Add(nb)

	s.mu.Lock()
	s.getActive = false
	if s.spare == nil {
		s.spare = batch[:0]
	}
	var left []item
	if dropReply != nil {
		// Queued after this GET took its batch: nobody will send it.
		left, s.queue = s.queue, nil
	}
	s.mu.Unlock()
	for i := range left {
		left[i].release()
	}
	if closing {
		s.finalize()
	}
}

var octetStream = []byte("application/octet-stream")

// post handles a polling POST: the body's packets are dispatched, in order,
// before the answer is written, as Node does.
func (s *Session) post(ctx *fasthttp.RequestCtx) {
	body := ctx.PostBody()
	if len(body) > s.srv.cfg.MaxHTTPBufferSize {
		// Node ≥ engine.io 6.2: 413, session untouched.
		ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	switch {
	case s.state != stateOpen:
		s.mu.Unlock()
		writeError(ctx, codeUnknownSID)
		return
	case s.ws != nil:
		s.mu.Unlock()
		writeError(ctx, codeBadRequest)
		return
	case s.postActive:
		s.mu.Unlock()
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	var err error
	if bytes.HasPrefix(ctx.Request.Header.ContentType(), octetStream) {
		// v4 polling never carries raw binary (§1.4): 400, session closed.
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
	} else {
		err = engineio.ParsePayload(engineio.V4, body, false, s.onPacket)
		if err != nil && err != errStop {
			s.close(reasonParseError)
		}
		// Node answers ok even when the payload closed the session.
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetContentType("text/html")
		ctx.Response.SetBodyRaw(bodyOK)
	}
	s.mu.Lock()
	s.postActive = false
	s.mu.Unlock()
}

func setTextHeaders(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=UTF-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
}
