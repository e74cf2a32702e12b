package conform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/transport"
)

// The WebSocket steps (docs/conformance.md §3.2): each names its
// connection ("ws" unless said); ws_open opens it.

// wsOpen is the ws_open step; expect defaults to status 101.
type wsOpen struct {
	name    string
	query   []kv
	path    string
	headers []kv
	expect  *httpExpect
}

func (o *wsOpen) setExpect(x *httpExpect) { o.expect = x }

func (o *wsOpen) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Name    *string `yaml:"name"`
		Query   kvList  `yaml:"query"`
		Path    string  `yaml:"path"`
		Headers kvList  `yaml:"headers"`
	}
	d.Decode(n, field, &b)
	*o = wsOpen{name: or(b.Name, "ws"), query: b.Query, path: b.Path, headers: b.Headers, expect: o.expect}
}

func (o *wsOpen) run(ctx context.Context, r *runner, _ *step) error { return r.wsOpen(ctx, o) }

func (r *runner) wsScheme() string {
	if r.base.Scheme == "https" {
		return "wss"
	}
	return "ws"
}

// wsOpen opens a named WebSocket. A refused open whose status the case
// accepts leaves a connection that reads as closed, so "refused or closed
// right after the 101" can be one ws_expect close step.
func (r *runner) wsOpen(ctx context.Context, o *wsOpen) error {
	x := o.expect
	u, err := r.buildURL(r.wsScheme(), o.path, o.query)
	if err != nil {
		return err
	}
	h := http.Header{}
	for _, e := range o.headers {
		v, err := r.subst(e.V)
		if err != nil {
			return err
		}
		h.Add(e.K, v)
	}
	r.mu.Lock()
	_, dup := r.conns[o.name]
	r.mu.Unlock()
	if dup {
		return &brokenCase{fmt.Sprintf("WebSocket %q opened twice", o.name)}
	}
	r.noteSecrets(u, h)
	r.addTrace(time.Now(), "send", "ws-open", o.name, requestLine("GET", u))
	rc, resp, err := transport.DialRaw(ctx, u, &transport.Options{Header: h})
	wc := &wsConn{rc: rc}
	var he *transport.HandshakeError
	if err != nil && !errors.As(err, &he) {
		r.addTrace(time.Now(), "recv", "ws-open", o.name, "transport error: "+err.Error())
		return fmt.Errorf("opening WebSocket %s: %w", o.name, err)
	}
	if err != nil {
		wc.refused = true
		r.addTrace(resp.Received, "recv", "ws-open", o.name, fmt.Sprintf("refused: %d %s", resp.Status, bodyText(resp.Body, "")))
	} else {
		r.addTrace(resp.Received, "recv", "ws-open", o.name, fmt.Sprintf("%d", resp.Status))
	}
	r.mu.Lock()
	r.conns[o.name] = wc
	r.mu.Unlock()
	if x == nil {
		x = &httpExpect{status: []int{101}}
	}
	if len(x.status) == 0 {
		x2 := *x
		x2.status = []int{101}
		x = &x2
	}
	return r.checkHTTP(x, resp, nil, false)
}

func (r *runner) conn(name string) (*wsConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	wc := r.conns[name]
	if wc == nil {
		return nil, &brokenCase{fmt.Sprintf("no WebSocket named %q is open", name)}
	}
	return wc, nil
}

// wsSend is the ws_send step: one text or binary frame.
type wsSend struct {
	ws     string
	text   string
	binary []byte
	isBin  bool
	pad    padding

	// rawText (text_hex) is sent as a text frame as is, without substitution.
	rawText []byte
}

func (w *wsSend) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		WS        *string   `yaml:"ws"`
		Text      *string   `yaml:"text"`
		TextHex   *hexBytes `yaml:"text_hex"`
		BinaryHex *hexBytes `yaml:"binary_hex"`
		Padded    padded    `yaml:",inline"`
	}
	d.Decode(n, field, &b)
	*w = wsSend{ws: or(b.WS, "ws")}
	if b.TextHex != nil {
		// A text frame of exactly these bytes, valid UTF-8 or not (the
		// invalid-UTF-8 cases); YAML escapes can only write code points.
		if b.Text != nil {
			d.Errorf(n, field, "want exactly one of text, text_hex and binary_hex")
			return
		}
		w.rawText = *b.TextHex
	}
	w.pad = b.Padded.padding(d, n, field, b.BinaryHex != nil)
	hasText := b.Text != nil || b.TextHex != nil
	switch {
	case hasText == (b.BinaryHex != nil):
		d.Errorf(n, field, "want exactly one of text and binary_hex")
	case b.Text != nil:
		w.text = *b.Text
	case b.BinaryHex != nil:
		w.isBin, w.binary = true, *b.BinaryHex
	}
}

func (w *wsSend) run(_ context.Context, r *runner, _ *step) error { return r.wsSend(w) }

func (r *runner) wsSend(s *wsSend) error {
	wc, err := r.conn(s.ws)
	if err != nil {
		return err
	}
	kind, data, summary := transport.BinaryFrame, s.binary, "binary "+hexShort(s.binary)
	if s.rawText != nil {
		kind, data, summary = transport.TextFrame, s.rawText, "text hex "+hexShort(s.rawText)
	} else if !s.isBin {
		text, err := r.subst(s.text)
		if err != nil {
			return err
		}
		kind, data, summary = transport.TextFrame, []byte(text), "text "+shorten(text)
		r.noteSecrets(text, nil)
	}
	if s.pad.to > 0 {
		if data, err = s.pad.apply(data); err != nil {
			return err
		}
		summary = fmt.Sprintf("%s (padded to %d bytes)", summary, len(data))
	}
	if wc.rc == nil || wc.ended {
		return mis("an open WebSocket", "closed", "cannot send on %s: the connection is closed", s.ws)
	}
	at, err := wc.rc.Send(kind, data)
	if at.IsZero() {
		at = time.Now()
	}
	r.addTrace(at, "send", kind.String(), s.ws, summary)
	if err != nil {
		// The server may close the connection while a large frame is still
		// being written (a 1009 for an over-size frame): the write fails,
		// and the close is what the next step sees and judges. A send that
		// should have succeeded fails that next step all the same.
		r.addTrace(time.Now(), "send", "error", s.ws, "write failed: "+err.Error())
	}
	return nil
}

// next returns the next frame of a connection, skipping the listed texts;
// a refused connection yields one synthetic close.
func (r *runner) next(ctx context.Context, name string, wc *wsConn, skip []string) (transport.Frame, error) {
	if wc.ended {
		return transport.Frame{}, mis("a frame", "nothing", "the connection %s is already closed", name)
	}
	if wc.rc == nil {
		wc.ended = true
		return transport.Frame{Kind: transport.CloseFrame, Code: 1006, Time: time.Now()}, nil
	}
	for {
		f, err := wc.rc.Next(ctx)
		if err != nil {
			return f, err
		}
		r.traceFrame(name, f, "")
		if f.Kind == transport.CloseFrame {
			wc.ended = true
			return f, nil
		}
		if f.Kind == transport.TextFrame && slices.Contains(skip, string(f.Data)) {
			continue
		}
		return f, nil
	}
}

type frameMatch struct {
	text     *strMatcher
	binHex   []byte
	hasBin   bool
	packet   *pktMatcher
	sio      *sioMatcher
	close    bool
	code     int
	hasClose bool
}

// frameFields are the keys that say what the next frame must be
// (ws_expect, srv_expect).
type frameFields struct {
	Text      *strMatcher `yaml:"text"`
	BinaryHex *hexBytes   `yaml:"binary_hex"`
	Packet    *pktMatcher `yaml:"packet"`
	SIO       *sioMatcher `yaml:"sio"`
	Close     *bool       `yaml:"close"`
}

// match makes the matcher of the keys decoded from n, and reports whether
// n holds exactly one of them (saying so at n when not).
func (b *frameFields) match(d *yamldoc.Decoder, n *yaml.Node, field string) (frameMatch, bool) {
	m := frameMatch{text: b.Text, packet: b.Packet, sio: b.SIO}
	if b.BinaryHex != nil {
		m.binHex, m.hasBin = *b.BinaryHex, true
	}
	if b.Close != nil {
		m.close, m.hasClose = *b.Close, true
	}
	return m, exactlyOne(d, n, field, "text", "binary_hex", "packet", "sio", "close")
}

// wsExpect is the ws_expect step: the next frame must match.
type wsExpect struct {
	ws        string
	match     frameMatch
	within    time.Duration
	notBefore time.Duration
	skip      []string
}

func (x *wsExpect) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		WS        *string     `yaml:"ws"`
		Frame     frameFields `yaml:",inline"`
		Code      int         `yaml:"code,signed"`
		Within    duration    `yaml:"within"`
		NotBefore duration    `yaml:"not_before"`
		Skip      []string    `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	*x = wsExpect{ws: or(b.WS, "ws"), within: time.Duration(b.Within), notBefore: time.Duration(b.NotBefore), skip: b.Skip}
	m, one := b.Frame.match(d, n, field)
	x.match, x.match.code = m, b.Code
	if one && x.match.code != 0 && !x.match.close {
		d.Errorf(n, yamldoc.Join(field, "code"), "code needs close: true")
	}
}

func (x *wsExpect) run(ctx context.Context, r *runner, _ *step) error { return r.wsExpect(ctx, x) }

func (r *runner) wsExpect(ctx context.Context, x *wsExpect) error {
	wc, err := r.conn(x.ws)
	if err != nil {
		return err
	}
	start := time.Now()
	wctx, cancel := waitCtx(ctx, x.within)
	defer cancel()
	f, err := r.next(wctx, x.ws, wc, x.skip)
	if err != nil {
		var mm *mismatch
		if errors.As(err, &mm) {
			return err
		}
		waited := time.Since(start).Round(time.Millisecond)
		return mis(x.match.describe(), "nothing", "want %s on %s, nothing came within %v", shorten(x.match.describe()), x.ws, waited)
	}
	c := caps{}
	if err := x.match.match(f, r.c.EIO, r.subst, c); err != nil {
		return err
	}
	after := f.Time.Sub(start)
	if x.within > 0 && after > x.within {
		return mis(x.match.describe()+" within "+x.within.String(), "after "+after.Round(time.Millisecond).String(),
			"want %s within %v, it came after %v", shorten(x.match.describe()), x.within, after.Round(time.Millisecond))
	}
	if x.notBefore > 0 && after < x.notBefore {
		return mis(x.match.describe()+" not before "+x.notBefore.String(), "after "+after.Round(time.Millisecond).String(),
			"want %s not before %v, it came after %v", shorten(x.match.describe()), x.notBefore, after.Round(time.Millisecond))
	}
	r.commit(c)
	return nil
}

// wsSilent is the ws_silent step: no frame for a while.
type wsSilent struct {
	ws   string
	dur  time.Duration
	skip []string
}

func (w *wsSilent) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		WS   *string   `yaml:"ws"`
		For  *duration `yaml:"for"`
		Skip []string  `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	*w = wsSilent{ws: or(b.WS, "ws"), skip: b.Skip}
	w.dur, _ = need(d, n, field, "for", b.For)
}

func (w *wsSilent) run(ctx context.Context, r *runner, _ *step) error { return r.wsSilent(ctx, w) }

func (r *runner) wsSilent(ctx context.Context, s *wsSilent) error {
	wc, err := r.conn(s.ws)
	if err != nil {
		return err
	}
	if wc.ended || wc.rc == nil {
		return mis("an open, silent connection", "closed", "want %s silent for %v, but it is closed", s.ws, s.dur)
	}
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, s.dur)
	defer cancel()
	f, err := r.next(sctx, s.ws, wc, s.skip)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // nothing came: the silence held
	}
	return mis("nothing for "+s.dur.String(), frameText(f), "want no frame on %s for %v, got %s after %v",
		s.ws, s.dur, shorten(frameText(f)), f.Time.Sub(start).Round(time.Millisecond))
}

// wsClose is the ws_close step: we close the connection or drop it.
type wsClose struct {
	ws    string
	abort bool
}

func (c *wsClose) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		WS    *string `yaml:"ws"`
		Abort bool    `yaml:"abort"`
	}
	d.Decode(n, field, &b)
	*c = wsClose{ws: or(b.WS, "ws"), abort: b.Abort}
}

func (c *wsClose) run(_ context.Context, r *runner, _ *step) error { return r.wsClose(c) }

func (r *runner) wsClose(c *wsClose) error {
	wc, err := r.conn(c.ws)
	if err != nil {
		return err
	}
	if wc.rc == nil {
		return nil
	}
	what := "close 1000"
	if c.abort {
		what = "abort (TCP drop)"
		_ = wc.rc.Abort()
	} else {
		_ = wc.rc.Close()
	}
	wc.ended = true
	r.addTrace(time.Now(), "send", "close", c.ws, what)
	return nil
}
