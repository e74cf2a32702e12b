package conform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// The server-side steps (docs/conformance.md §6.7): the family of step
// kinds a client case (side: client) is made of. sioconform plays the
// server; each step does one thing the server does or checks one thing the
// client does next, read from the scripted server's inbox in arrival order.

// srvOf returns the case's scripted server; a srv_* step in a server case
// is a broken case.
func (r *runner) srvOf() (*scriptServer, error) {
	if r.srv == nil {
		return nil, &brokenCase{"srv_* steps belong to client cases (side: client)"}
	}
	return r.srv, nil
}

// waitCtx bounds one wait: within, else the case's deadline.
func waitCtx(ctx context.Context, within time.Duration) (context.Context, context.CancelFunc) {
	if within > 0 {
		return context.WithTimeout(ctx, within)
	}
	return context.WithCancel(ctx)
}

// srvWaiting is a srv_* step waiting on the client: the case's server,
// the wait's context, and its start, which "nothing came within" reports.
type srvWaiting struct {
	s      *scriptServer
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time
}

// srvWait starts a srv_* step's wait on the client, bounded by within
// (else the case's deadline); the caller cancels it.
func (r *runner) srvWait(ctx context.Context, within time.Duration) (*srvWaiting, error) {
	s, err := r.srvOf()
	if err != nil {
		return nil, err
	}
	w := &srvWaiting{s: s, start: time.Now()}
	w.ctx, w.cancel = waitCtx(ctx, within)
	return w, nil
}

// waited is how long the wait has lasted, as messages show it.
func (w *srvWaiting) waited() time.Duration { return time.Since(w.start).Round(time.Millisecond) }

// srvHandshake waits within for the client's next handshake request (want
// names it in messages): what srv_accept and srv_refuse answer.
func (r *runner) srvHandshake(ctx context.Context, within time.Duration, skip []string, want string) (*scriptServer, srvItem, error) {
	w, err := r.srvWait(ctx, within)
	if err != nil {
		return nil, srvItem{}, err
	}
	defer w.cancel()
	it, err := w.s.nextHandshake(w.ctx, skip)
	if err != nil {
		return nil, it, mis("a handshake request", "nothing", "want %s, nothing came within %v", want, w.waited())
	}
	if it.hs == nil {
		return nil, it, mis("a handshake request", it.describe(), "want %s, got %s", want, shorten(it.describe()))
	}
	return w.s, it, nil
}

// nextHandshake is next, passing over the close of the previous transport
// (a reconnect: no step of its own) and the requests of the closed session.
func (s *scriptServer) nextHandshake(ctx context.Context, skip []string) (srvItem, error) {
	for {
		it, err := s.next(ctx, skip)
		if err != nil || it.hs != nil || it.event != "" || it.frame.Kind != transport.CloseFrame {
			return it, err
		}
	}
}

// srvAccept is the srv_accept step: the next thing the client does must be
// a handshake request (no sid) whose query matches; it is answered with an
// open packet carrying the chosen settings, over polling or by accepting
// the WebSocket, as the request asked.
type srvAccept struct {
	query        []srvQuery
	sid          string
	pingInterval int
	pingTimeout  int
	maxPayload   int
	upgrades     []string
	hasUpgrades  bool
	within       time.Duration
	skip         []string
}

type srvQuery struct {
	key string
	m   *strMatcher
}

func (a *srvAccept) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Query        *yaml.Node `yaml:"query"`
		SID          *string    `yaml:"sid"`
		PingInterval *int       `yaml:"ping_interval"`
		PingTimeout  *int       `yaml:"ping_timeout"`
		MaxPayload   *int       `yaml:"max_payload"`
		Upgrades     *[]string  `yaml:"upgrades"`
		Within       duration   `yaml:"within"`
		Skip         []string   `yaml:"skip"`
	}
	d.Decode(settingsOrEmpty(n), field, &b)
	*a = srvAccept{sid: or(b.SID, "c0nf0rmS1d"), pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000,
		within: time.Duration(b.Within), skip: b.Skip}
	if b.PingInterval != nil {
		a.pingInterval = *b.PingInterval
	}
	if b.PingTimeout != nil {
		a.pingTimeout = *b.PingTimeout
	}
	if b.MaxPayload != nil {
		a.maxPayload = *b.MaxPayload
	}
	if b.Upgrades != nil {
		a.upgrades, a.hasUpgrades = *b.Upgrades, true
	}
	if q := b.Query; q != nil {
		if !mapping(d, q, yamldoc.Join(field, "query")) {
			return
		}
		for i := 0; i+1 < len(q.Content); i += 2 {
			k := q.Content[i].Value
			a.query = append(a.query, srvQuery{k, parseStrMatcher(d, q.Content[i+1], yamldoc.Join(yamldoc.Join(field, "query"), k), true)})
		}
	}
}

func (a *srvAccept) run(ctx context.Context, r *runner, _ *step) error {
	s, it, err := r.srvHandshake(ctx, a.within, a.skip, "a handshake request")
	if err != nil {
		return err
	}
	q := queryOf(it.hs.req)
	c := caps{}
	for _, qm := range a.query {
		vals, present := q[qm.key]
		v := ""
		if present {
			v = vals[0]
		}
		if err := qm.m.match(v, present, r.subst, c); err != nil {
			var mm *mismatch
			if errors.As(err, &mm) {
				mm.msg = "handshake query " + qm.key + ": " + mm.msg
			}
			it.hs.answer <- badRequest
			return err
		}
	}
	sid, err := r.subst(a.sid)
	if err != nil {
		return err
	}
	ws := q.Get("transport") == "websocket"
	ups := a.upgrades
	if !a.hasUpgrades {
		ups = []string{}
		if !ws && r.c.Transport != "polling" {
			ups = []string{"websocket"}
		}
	}
	h := engineio.Handshake{SID: sid, Upgrades: ups, PingInterval: a.pingInterval, PingTimeout: a.pingTimeout}
	if r.c.EIO == 4 {
		h.MaxPayload = a.maxPayload
	}
	s.answerHandshake(it.hs, h, ws)
	c["sid"] = sid
	r.commit(c)
	return nil
}

// srvExpect is the srv_expect step: the next packet the client sends (in a
// POST or on its WebSocket) must match; via says over which.
type srvExpect struct {
	match  frameMatch
	via    string
	within time.Duration
	skip   []string
	// among lets the packet be any of the next among items, for what the
	// spec leaves unordered (the first POST and the upgrade probe race);
	// the others stay, in order, for the next steps.
	among int
}

func (x *srvExpect) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Frame  frameFields `yaml:",inline"`
		Via    string      `yaml:"via"`
		Within duration    `yaml:"within"`
		Skip   []string    `yaml:"skip"`
		Among  int         `yaml:"among"`
	}
	d.Decode(n, field, &b)
	*x = srvExpect{via: b.Via, within: time.Duration(b.Within), skip: b.Skip, among: b.Among}
	if b.Among < 0 || b.Among > 16 {
		d.Fieldf(yamldoc.Join(field, "among"), "want 1 to 16, got %d", b.Among)
	}
	x.match, _ = b.Frame.match(d, n, field)
	checkVia(d, field, b.Via)
}

// checkVia refuses a via other than poll or ws: the transport a
// server-side step waits on or sends over.
func checkVia(d *yamldoc.Decoder, field, via string) {
	if via != "" && via != "poll" && via != "ws" {
		d.Fieldf(yamldoc.Join(field, "via"), "want poll or ws, got %q", via)
	}
}

func (x *srvExpect) run(ctx context.Context, r *runner, _ *step) error {
	w, err := r.srvWait(ctx, x.within)
	if err != nil {
		return err
	}
	defer w.cancel()
	s := w.s
	want := x.match.describe()
	var aside []srvItem
	defer func() { s.back = append(aside, s.back...) }()
	for tries := 1; ; tries++ {
		it, err := s.next(w.ctx, x.skip)
		if err != nil {
			if len(aside) > 0 {
				return mis(want, aside[0].describe(), "want %s from the client, got only %s", shorten(want), shorten(aside[0].describe()))
			}
			return mis(want, "nothing", "want %s from the client, nothing came within %v", shorten(want), w.waited())
		}
		if x.via == "poll" && it.via == "ws" && it.hs == nil && it.event == "" && it.frame.Kind == transport.CloseFrame {
			// A probe WebSocket going away while the case waits for
			// polling is no packet of the session (a failed upgrade).
			tries--
			continue
		}
		err = x.check(r, it, want)
		if err == nil || tries >= x.among || it.hs != nil {
			return err
		}
		aside = append(aside, it)
	}
}

// check matches one item.
func (x *srvExpect) check(r *runner, it srvItem, want string) error {
	if it.hs != nil || it.event != "" {
		if it.hs != nil {
			it.hs.answer <- badRequest
		}
		return mis(want, it.describe(), "want %s, got %s", shorten(want), shorten(it.describe()))
	}
	if x.via != "" && it.via != x.via {
		return mis(want+" via "+x.via, it.describe(), "want %s via %s, got %s", shorten(want), x.via, shorten(it.describe()))
	}
	c := caps{}
	if err := x.match.match(it.frame, r.c.EIO, r.subst, c); err != nil {
		return err
	}
	r.commit(c)
	return nil
}

// srvSend is the srv_send step: one packet to the client, in the answer to
// its GET in flight (or the next one) or on its WebSocket. command builds a
// contract command (docs/conformance.md §6.2) as an EVENT.
type srvSend struct {
	text    string
	texts   []string // several packets in one polling answer
	binary  []byte
	isBin   bool
	command string
	arg     any
	nsp     string
	id      *int
	via     string
}

func (w *srvSend) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Text      *string    `yaml:"text"`
		Texts     []string   `yaml:"texts"`
		BinaryHex *hexBytes  `yaml:"binary_hex"`
		Command   string     `yaml:"command"`
		Arg       *yaml.Node `yaml:"arg"`
		NSP       string     `yaml:"nsp"`
		ID        *int       `yaml:"id"`
		Via       string     `yaml:"via"`
	}
	d.Decode(n, field, &b)
	*w = srvSend{command: b.Command, nsp: b.NSP, id: b.ID, via: b.Via}
	n1 := 0
	if b.Text != nil {
		w.text, n1 = *b.Text, n1+1
	}
	if b.BinaryHex != nil {
		w.binary, w.isBin, n1 = *b.BinaryHex, true, n1+1
	}
	if b.Texts != nil {
		if w.texts, n1 = b.Texts, n1+1; len(b.Texts) < 2 || b.Via == "ws" {
			d.Fieldf(yamldoc.Join(field, "texts"), "texts is two or more packets in one polling answer (via poll)")
		}
	}
	if b.Command != "" {
		n1++
		switch b.Command {
		case "emit", "answer", "join", "disconnect":
		default:
			d.Fieldf(yamldoc.Join(field, "command"), "want emit, answer, join or disconnect, got %q", b.Command)
		}
		w.arg = map[string]any{}
		if b.Arg != nil {
			var v any
			if err := b.Arg.Decode(&v); err != nil {
				d.Errorf(b.Arg, yamldoc.Join(field, "arg"), "%v", err)
			} else {
				w.arg = v
			}
		}
	}
	if n1 != 1 {
		d.Errorf(n, field, "want exactly one of text, texts, binary_hex, command")
	}
	checkVia(d, field, b.Via)
}

func (w *srvSend) run(_ context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	if w.texts != nil {
		pkts := make([]engineio.Packet, len(w.texts))
		for i, t := range w.texts {
			if pkts[i], err = r.textPacket(t); err != nil {
				return err
			}
		}
		r.addTrace(time.Now(), "send", "http", "poll", fmt.Sprintf("queued %d packets in one answer", len(pkts)))
		return s.sendPoll(pkts)
	}
	var pk engineio.Packet
	switch {
	case w.isBin:
		pk = engineio.Packet{Type: engineio.Message, Binary: true, Data: w.binary}
	case w.command != "":
		arg, err := json.Marshal(w.arg)
		if err != nil {
			return &brokenCase{fmt.Sprintf("command argument: %v", err)}
		}
		head := "2"
		if w.nsp != "" && w.nsp != "/" {
			head += w.nsp + ","
		}
		if w.id != nil {
			head += strconv.Itoa(*w.id)
		}
		pk = engineio.Packet{Type: engineio.Message, Data: []byte(head + `["sioconform:` + w.command + `",` + string(arg) + `]`)}
	default:
		if pk, err = r.textPacket(w.text); err != nil {
			return err
		}
	}
	summary := packetText(pk)
	if s.via(w.via) == "ws" {
		data, bin := engineio.AppendFrame(nil, eioVersion(r.c.EIO), pk)
		kind := frameKind(bin)
		r.addTrace(time.Now(), "send", kind.String(), "ws", shorten(summary))
		return s.sendWS(kind, data)
	}
	r.addTrace(time.Now(), "send", "http", "poll", "queued "+shorten(summary))
	return s.sendPoll([]engineio.Packet{pk})
}

// textPacket is a packet written as text, variables substituted.
func (r *runner) textPacket(t string) (engineio.Packet, error) {
	text, err := r.subst(t)
	if err != nil {
		return engineio.Packet{}, err
	}
	if text == "" || text[0] < '0' || text[0] > '6' {
		return engineio.Packet{}, &brokenCase{fmt.Sprintf("srv_send text %q is no Engine.IO packet (a type digit first)", text)}
	}
	return engineio.Packet{Type: engineio.PacketType(text[0] - '0'), Data: []byte(text[1:])}, nil
}

// srvHold is the srv_hold step: the client must have a GET in flight (held
// by the server) within the wait; it stays held.
type srvHold struct{ within time.Duration }

func (h *srvHold) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Within duration `yaml:"within"`
	}
	if n.Kind == yaml.MappingNode {
		d.Decode(n, field, &b)
	}
	h.within = time.Duration(b.Within)
	if h.within == 0 {
		h.within = 2 * time.Second
	}
}

func (h *srvHold) run(ctx context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	if !s.awaitHeld(ctx, h.within, nil) {
		return mis("a GET in flight", "none", "want the client to poll (a GET held by the server) within %v, it has none", h.within)
	}
	return nil
}

// srvClose is the srv_close step: the server drops the session (closes the
// WebSocket, answers the GET in flight 400, refuses the sid from now on).
type srvClose struct{}

func (*srvClose) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		d.Errorf(n, field, "srv_close takes no settings")
	}
}

func (*srvClose) run(_ context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	r.addTrace(time.Now(), "send", "close", "", "server closes the session")
	s.closeSession()
	return nil
}

// srvSilent is the srv_silent step: the client does nothing the server
// sees (no packet, no handshake, no slip) for a while.
type srvSilent struct {
	dur  time.Duration
	skip []string
}

func (w *srvSilent) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		For  *duration `yaml:"for"`
		Skip []string  `yaml:"skip"`
	}
	d.Decode(n, field, &b)
	w.skip = b.Skip
	w.dur, _ = need(d, n, field, "for", b.For)
}

func (w *srvSilent) run(ctx context.Context, r *runner, _ *step) error {
	s, err := r.srvOf()
	if err != nil {
		return err
	}
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, w.dur)
	defer cancel()
	it, err := s.next(sctx, w.skip)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	if it.hs != nil {
		it.hs.answer <- badRequest
	}
	return mis("nothing for "+w.dur.String(), it.describe(), "want nothing from the client for %v, got %s after %v",
		w.dur, shorten(it.describe()), it.at.Sub(start).Round(time.Millisecond))
}
