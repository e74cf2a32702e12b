package conform

import (
	"context"
	"encoding/json"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// The session shortcuts of docs/conformance.md §3.5 (eio_open_polling,
// eio_open_ws, sio_connect_ws) run as the plain steps they stand for, so
// their traces and messages look the same.

// sidObject wants a JSON object with a string sid, captured under capture
// when set: the open packet's data and the Socket.IO v5 CONNECT reply's.
func sidObject(capture string) *jsonMatcher {
	return &jsonMatcher{kind: "object", keys: []string{"sid"},
		fields: []*jsonMatcher{{kind: "type", typ: "string", capture: capture}}}
}

// openPacket wants an open packet whose JSON has a string sid, captured
// under capture when set.
func openPacket(capture string) *pktMatcher {
	return &pktMatcher{typ: "open", json: sidObject(capture)}
}

// openPolling is the eio_open_polling step.
type openPolling struct {
	capture string
	query   []kv
}

func (o *openPolling) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Capture *string `yaml:"capture"`
		Query   kvList  `yaml:"query"`
	}
	d.Decode(n, field, &b)
	*o = openPolling{capture: or(b.Capture, "sid"), query: b.Query}
}

func (o *openPolling) run(ctx context.Context, r *runner, _ *step) error {
	q := append([]kv{{"transport", "polling"}}, o.query...)
	resp, err := r.doHTTP(ctx, &httpReq{method: "GET", query: q})
	// The handshake body may carry more packets after the open one (a
	// socket.io 2.x server piggy-backs "40"), so only the first is checked.
	x := &httpExpect{status: []int{200}}
	if err := r.checkHTTP(x, resp, err, false); err != nil {
		return err
	}
	pkts, derr := decodeForShortcut(r.c.EIO, resp.Body, resp.Header.Get("Content-Type"))
	if derr != nil {
		return derr
	}
	c := caps{}
	if err := openPacket(o.capture).match(pkts[0], r.c.EIO, r.subst, c); err != nil {
		return prefixErr(err, "handshake: ")
	}
	r.commit(c)
	return nil
}

// openWS is the eio_open_ws step.
type openWS struct {
	name    string
	capture string
	query   []kv
}

func (o *openWS) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Name    *string `yaml:"name"`
		Capture string  `yaml:"capture"`
		Query   kvList  `yaml:"query"`
	}
	d.Decode(n, field, &b)
	*o = openWS{name: or(b.Name, "ws"), capture: b.Capture, query: b.Query}
}

func (o *openWS) run(ctx context.Context, r *runner, _ *step) error {
	q := append([]kv{{"transport", "websocket"}}, o.query...)
	if err := r.wsOpen(ctx, &wsOpen{name: o.name, query: q}); err != nil {
		return err
	}
	return r.wsExpect(ctx, &wsExpect{ws: o.name, match: frameMatch{packet: openPacket(o.capture)}})
}

// sioConnect is the sio_connect_ws step.
type sioConnect struct {
	name    string
	nsp     string
	auth    string // JSON text, "" for none
	hasAuth bool
	query   []kv
}

func (s *sioConnect) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Name  *string    `yaml:"name"`
		NSP   *string    `yaml:"nsp"`
		Auth  *yaml.Node `yaml:"auth"`
		Query kvList     `yaml:"query"`
	}
	d.Decode(n, field, &b)
	*s = sioConnect{name: or(b.Name, "ws"), nsp: or(b.NSP, "/"), query: b.Query}
	if b.Auth != nil {
		f := yamldoc.Join(field, "auth")
		var val any
		d.Decode(b.Auth, f, &val)
		if _, isObj := val.(map[string]any); !isObj {
			d.Errorf(b.Auth, f, "want a mapping")
			return
		}
		j, _ := json.Marshal(val)
		s.auth, s.hasAuth = string(j), true
	}
}

// run opens a WebSocket session and joins a namespace. Socket.IO v5
// (EIO 4) sends CONNECT with the auth payload and captures the reply's sid
// as ${sio_sid}; Socket.IO v4 (EIO 3) is joined to "/" by the server
// without asking, and a custom namespace is joined with "40/nsp,".
func (s *sioConnect) run(ctx context.Context, r *runner, _ *step) error {
	if err := (&openWS{name: s.name, query: s.query}).run(ctx, r, nil); err != nil {
		return err
	}
	ping := []string{"2"}
	expectJoin := func(nsp string, v5 bool) error {
		cm := &sioMatcher{typ: "CONNECT", nsp: &nsp}
		if v5 {
			cm.data = sidObject("sio_sid")
		}
		if err := r.wsExpect(ctx, &wsExpect{ws: s.name, skip: ping, match: frameMatch{sio: cm}}); err != nil {
			return prefixErr(err, "CONNECT reply: ")
		}
		auth := `42["auth"`
		if nsp != "/" {
			auth = "42" + nsp + `,["auth"`
		}
		return prefixErr(r.wsExpect(ctx, &wsExpect{ws: s.name, skip: ping,
			match: frameMatch{text: &strMatcher{kind: "prefix", val: auth}}}), "auth event: ")
	}
	prefix := "40"
	if s.nsp != "/" {
		prefix += s.nsp + ","
	}
	if r.c.EIO == 3 {
		if err := expectJoin("/", false); err != nil {
			return err
		}
		if s.nsp == "/" {
			return nil
		}
		if err := r.wsSend(&wsSend{ws: s.name, text: prefix}); err != nil {
			return err
		}
		return expectJoin(s.nsp, false)
	}
	if err := r.wsSend(&wsSend{ws: s.name, text: prefix + s.auth}); err != nil {
		return err
	}
	return expectJoin(s.nsp, true)
}

// decodeForShortcut decodes a handshake payload and insists on at least
// one packet.
func decodeForShortcut(eio int, body []byte, ctype string) ([]enginePacket, error) {
	pkts, err := decodePayload(eio, body, strings.Contains(ctype, "octet-stream"))
	if err != nil {
		return nil, mis("a polling payload", string(body), "handshake body is not a valid EIO%d payload (%v): %s", eio, err, quoteShort(string(body)))
	}
	if len(pkts) == 0 {
		return nil, mis("an open packet", "no packets", "handshake body holds no packet")
	}
	return pkts, nil
}
