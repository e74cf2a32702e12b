package server

import (
	"bytes"
	"encoding/base64"
	"io"
	"slices"

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
// before the answer is written, as Node does. The POST counts as active from
// the moment its handler runs, which NewHTTPServer makes the arrival of the
// body's first byte, until its body is read and dispatched: a second POST in
// that time is refused (engine.io lib/transports/polling.ts onDataRequest).
func (s *Session) post(ctx *fasthttp.RequestCtx) {
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
		// engine.io-protocol v4: "the client MUST NOT have more than one
		// active POST request. Should it happen, the server MUST return a
		// HTTP 400 status code and close the session."
		s.mu.Unlock()
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	s.readPost(ctx)
	s.mu.Lock()
	s.postActive = false
	s.mu.Unlock()
}

// readPost reads and dispatches the body of the session's active POST.
func (s *Session) readPost(ctx *fasthttp.RequestCtx) {
	if bytes.HasPrefix(ctx.Request.Header.ContentType(), octetStream) {
		// v4 polling never carries raw binary (§1.4): 400, session closed.
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
		return
	}
	scratch := getFrame()
	defer scratch.release()
	body, tooLarge, err := postBody(ctx, s.srv.cfg.MaxHTTPBufferSize, scratch)
	switch {
	case tooLarge:
		// Node ≥ engine.io 6.2: 413, session untouched.
		ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
		return
	case err != nil:
		// Node: "data request connection closed prematurely", a transport
		// error. Nobody reads the answer.
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		s.close(reasonTransportError)
		return
	}
	s.mu.Lock()
	open := s.state == stateOpen
	s.mu.Unlock()
	if !open {
		// Closed while the body was arriving (a concurrent POST, a ping
		// timeout): answered as a POST on a closed session is.
		writeError(ctx, codeUnknownSID)
		return
	}
	err = engineio.ParsePayload(engineio.V4, body, false, s.onPacket)
	if err != nil && err != errStop {
		s.close(reasonParseError)
	}
	// Node answers ok even when the payload closed the session.
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/html")
	ctx.Response.SetBodyRaw(bodyOK)
}

// postBody returns a POST's body, read into f when it comes from the request
// stream (NewHTTPServer streams every body, so that the handler runs while it
// is still arriving); tooLarge when it is over limit.
func postBody(ctx *fasthttp.RequestCtx, limit int, f *frame) (body []byte, tooLarge bool, err error) {
	r := ctx.RequestBodyStream()
	if r == nil {
		// A server that read the body whole before the handler.
		body = ctx.PostBody()
		return body, len(body) > limit, nil
	}
	n := ctx.Request.Header.ContentLength()
	if n > limit {
		if n <= drainBound(limit) {
			_, _ = io.Copy(io.Discard, r)
		}
		return nil, true, nil
	}
	buf := f.b[:0]
	if n > 0 {
		buf = slices.Grow(buf, n)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		m, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if len(buf) > limit {
			// A chunked body, which declares no length.
			tooLarge = true
			_, _ = io.CopyN(io.Discard, r, int64(max(drainBound(limit)-len(buf), 0)))
			break
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	f.b = buf // the frame keeps the grown buffer
	return buf, tooLarge, err
}

// drainBound is how much of a body over limit is read and dropped before
// the 413 goes out, as Node's server drains a request its handler did not
// read: a client still sending would otherwise have its connection reset
// (fasthttp closes one left with much unread) and never see the 413. It is
// the bound fasthttp applied when it read bodies whole (the larger of twice
// the limit and 4 MiB); a body over it has its connection closed, as then.
func drainBound(limit int) int { return max(2*limit, 4<<20) }

func setTextHeaders(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=UTF-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
}
