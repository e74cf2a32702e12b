package conform

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/transport"
)

// More server-side steps (docs/conformance.md §6.7): what the reconnection,
// batching and malformed-packet cases need besides step_srv.go's family.

// gapBound is a {min, max} bound on a delay.
type gapBound struct {
	min, max time.Duration
	set      bool
}

func parseGap(d *yamldoc.Decoder, n *yaml.Node, field string) gapBound {
	var b struct {
		Min *duration `yaml:"min"`
		Max *duration `yaml:"max"`
	}
	d.Decode(n, field, &b)
	g := gapBound{set: true}
	if b.Min != nil {
		g.min = time.Duration(*b.Min)
	}
	if b.Max != nil {
		g.max = time.Duration(*b.Max)
	}
	if b.Min == nil && b.Max == nil || g.max > 0 && g.max < g.min {
		d.Fieldf(field, "want min and/or max, min ≤ max")
	}
	return g
}

// srvRefuse is the srv_refuse step: the next thing the client does must be
// a handshake request (a reconnection attempt), arriving gap after the
// server's last close or refusal; it is refused with status. So a case
// measures each delay of the client's reconnection backoff.
type srvRefuse struct {
	gap    gapBound
	status int
	within time.Duration
	skip   []string
}

func (a *srvRefuse) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Gap    *yaml.Node `yaml:"gap"`
		Status *int       `yaml:"status"`
		Within duration   `yaml:"within"`
		Skip   []string   `yaml:"skip"`
	}
	d.Decode(settingsOrEmpty(n), field, &b)
	*a = srvRefuse{status: http.StatusServiceUnavailable, within: time.Duration(b.Within), skip: b.Skip}
	if b.Gap != nil {
		a.gap = parseGap(d, b.Gap, yamldoc.Join(field, "gap"))
	}
	if b.Status != nil {
		if a.status = *b.Status; a.status < 400 || a.status > 599 {
			d.Fieldf(yamldoc.Join(field, "status"), "want an HTTP error status (400–599), got %d", a.status)
		}
	}
}

func (a *srvRefuse) run(ctx context.Context, r *runner, _ *step) error {
	s, it, err := r.srvHandshake(ctx, a.within, a.skip, "a reconnection attempt (a handshake request)")
	if err != nil {
		return err
	}
	status := a.status
	it.hs.answer <- func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "refused by the case", status)
	}
	s.mu.Lock()
	mark := s.mark
	s.mark = time.Now()
	s.mu.Unlock()
	r.addTrace(time.Now(), "send", "http", "", fmt.Sprintf("%d (handshake refused)", status))
	return checkGap(a.gap, mark, it.at)
}

// checkGap checks that at came within g after mark.
func checkGap(g gapBound, mark, at time.Time) error {
	if !g.set {
		return nil
	}
	if mark.IsZero() {
		return &brokenCase{"a gap is measured from the server's last srv_close or srv_refuse, and there was none"}
	}
	gap := at.Sub(mark)
	want := fmt.Sprintf("a delay of %v to %v", g.min, g.max)
	if g.max == 0 {
		want = fmt.Sprintf("a delay of at least %v", g.min)
	}
	if gap < g.min || g.max > 0 && gap > g.max {
		return mis(want, gap.Round(time.Millisecond).String(), "want the reconnection attempt after %s, it came after %v", want[2:], gap.Round(time.Millisecond))
	}
	return nil
}

// srvAlive is the srv_alive step: the client program must still be
// running after for (a malformed packet must not crash it). The inbox is
// left as it is.
type srvAlive struct{ dur time.Duration }

func (a *srvAlive) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		For *duration `yaml:"for"`
	}
	d.Decode(n, field, &b)
	a.dur, _ = need(d, n, field, "for", b.For)
}

func (a *srvAlive) run(ctx context.Context, r *runner, _ *step) error {
	if r.proc == nil {
		return &brokenCase{"srv_alive belongs to client cases (side: client)"}
	}
	t := time.NewTimer(a.dur)
	defer t.Stop()
	select {
	case <-r.proc.done:
	case <-t.C:
		return nil
	case <-ctx.Done():
		select {
		case <-r.proc.done:
		case <-time.After(100 * time.Millisecond):
			return ctx.Err()
		}
	}
	code, _ := r.proc.exitCode()
	return mis("a running client program", fmt.Sprintf("exit code %d", code), "want the client program still running after %v, it exited with code %d", a.dur, code)
}

// srvRaw is the srv_raw step: bytes the server sends verbatim, whatever
// they mean: one WebSocket frame, or the whole body of the answer to the
// client's GET (held now, or within 2 s). For malformed packets and
// payloads the other steps would refuse to build.
type srvRaw struct {
	data  []byte
	isBin bool
	via   string
}

func (w *srvRaw) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Text      *string   `yaml:"text"`
		BinaryHex *hexBytes `yaml:"binary_hex"`
		Via       string    `yaml:"via"`
	}
	d.Decode(n, field, &b)
	*w = srvRaw{via: b.Via}
	switch {
	case b.Text != nil && b.BinaryHex == nil:
		w.data = []byte(*b.Text)
	case b.BinaryHex != nil && b.Text == nil:
		w.data, w.isBin = *b.BinaryHex, true
	default:
		d.Errorf(n, field, "want exactly one of text, binary_hex")
	}
	checkVia(d, field, b.Via)
}

func (w *srvRaw) run(ctx context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	if s.via(w.via) == "ws" {
		kind := frameKind(w.isBin)
		r.addTrace(time.Now(), "send", kind.String(), "ws", "raw "+quoteShort(string(w.data)))
		return s.sendWS(kind, w.data)
	}
	answered := s.awaitHeld(ctx, 2*time.Second, func(h *heldGET) {
		s.held = nil
		h.answer <- w.data
	})
	if !answered {
		return mis("a GET in flight", "none", "cannot send the raw body: the client has no GET in flight")
	}
	r.addTrace(time.Now(), "send", "http", "poll", "raw 200 "+quoteShort(string(w.data)))
	return nil
}

// srvPostDelay is the srv_post_delay step: from now on the server answers
// each POST only after delay, so that what the client emits meanwhile
// queues up (and a second POST at once would show).
type srvPostDelay struct{ delay time.Duration }

func (p *srvPostDelay) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Delay *duration `yaml:"delay"`
	}
	d.Decode(n, field, &b)
	p.delay, _ = need(d, n, field, "delay", b.Delay)
}

func (p *srvPostDelay) run(_ context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.postWait = p.delay
	s.mu.Unlock()
	return nil
}

// srvBatch is the srv_batch step: the next packets the client sends must
// be texts, in order, all POSTed, each in a POST body of at most max_body
// bytes (the maxPayload the handshake advertised).
type srvBatch struct {
	texts   []string
	maxBody int
	within  time.Duration
	skip    []string
}

func (x *srvBatch) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Texts   []string `yaml:"texts"`
		MaxBody int      `yaml:"max_body"`
		Within  duration `yaml:"within"`
		Skip    []string `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	*x = srvBatch{texts: b.Texts, maxBody: b.MaxBody, within: time.Duration(b.Within), skip: b.Skip}
	if len(b.Texts) == 0 {
		d.Fieldf(yamldoc.Join(field, "texts"), "want one or more packets")
	}
	if b.MaxBody <= 0 {
		d.Fieldf(yamldoc.Join(field, "max_body"), "want a positive size in bytes")
	}
}

func (x *srvBatch) run(ctx context.Context, r *runner, _ *step) error {
	w, err := r.srvWait(ctx, x.within)
	if err != nil {
		return err
	}
	defer w.cancel()
	largest := 0
	for i, want := range x.texts {
		it, err := w.s.next(w.ctx, x.skip)
		if err != nil {
			return mis(fmt.Sprintf("%q", want), "nothing", "want packet %d of %d, %q, nothing came within %v", i+1, len(x.texts), want, w.waited())
		}
		got := it.describe()
		if it.hs != nil {
			it.hs.answer <- badRequest
		}
		if it.hs != nil || it.event != "" || it.via != "poll" || it.frame.Kind != transport.TextFrame || string(it.frame.Data) != want {
			return mis(fmt.Sprintf("%q (poll)", want), got, "want packet %d of %d, %q in a POST, got %s", i+1, len(x.texts), want, shorten(got))
		}
		if it.body > x.maxBody {
			return mis(fmt.Sprintf("POST bodies of at most %d bytes", x.maxBody), fmt.Sprintf("%d bytes", it.body),
				"packet %d of %d came in a POST body of %d bytes, over the advertised maxPayload %d", i+1, len(x.texts), it.body, x.maxBody)
		}
		largest = max(largest, it.body)
	}
	r.addTrace(time.Now(), "recv", "http", "poll", fmt.Sprintf("%d packets, largest POST body %d bytes", len(x.texts), largest))
	return nil
}
