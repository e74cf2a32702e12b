package conform

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// actions are the step kinds of docs/conformance.md §3; exactly one per step.
var actions = []string{"http", "ws_open", "ws_send", "ws_expect", "ws_silent", "ws_close", "sleep",
	"wait", "pending", "parallel", "poll_until", "eio_open_polling", "eio_open_ws", "sio_connect_ws"}

var stepKeys = append([]string{"expect", "name", "async", "on_fail"}, actions...)

func (p *parser) parseStep(n *yaml.Node, field string) (*step, error) {
	_, m, err := p.mapping(n, field, stepKeys...)
	if err != nil {
		return nil, err
	}
	s := &step{line: n.Line}
	for _, a := range actions {
		if _, ok := m[a]; ok {
			if s.kind != "" {
				return nil, p.errf(n, field, "two actions in one step (%s and %s)", s.kind, a)
			}
			s.kind = a
		}
	}
	if s.kind == "" {
		return nil, p.errf(n, field, "no action (one of: %v)", actions)
	}
	field = join(field, s.kind)
	if v, ok := m["name"]; ok {
		if s.name, err = p.str(v, join(field, "name")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["async"]; ok {
		if s.async, err = p.boolean(v, join(field, "async")); err != nil {
			return nil, err
		}
		if s.async && (s.kind != "http" || s.name == "") {
			return nil, p.errf(v, join(field, "async"), "only a named http step can be async")
		}
	}
	if v, ok := m["on_fail"]; ok {
		if s.onFail, err = p.str(v, join(field, "on_fail")); err != nil {
			return nil, err
		}
		if s.onFail != "na" && s.onFail != "info" {
			return nil, p.errf(v, join(field, "on_fail"), "want na or info, got %q", s.onFail)
		}
	}
	if e, ok := m["expect"]; ok {
		if s.kind != "http" && s.kind != "ws_open" {
			return nil, p.errf(e, join(field, "expect"), "only http and ws_open steps take expect")
		}
		if s.expect, err = p.parseHTTPExpect(e, join(field, "expect")); err != nil {
			return nil, err
		}
	}
	v := m[s.kind]
	switch s.kind {
	case "http":
		s.http, err = p.parseHTTPReq(v, field)
	case "ws_open":
		s.wsOpen, err = p.parseWSOpen(v, field)
	case "ws_send":
		s.wsSend, err = p.parseWSSend(v, field)
	case "ws_expect":
		s.wsExpect, err = p.parseWSExpect(v, field)
	case "ws_silent":
		s.wsSilent, err = p.parseWSSilent(v, field)
	case "ws_close":
		s.wsClose, err = p.parseWSClose(v, field)
	case "sleep":
		s.sleep, err = p.duration(v, field)
	case "wait":
		s.wait, err = p.str(v, field)
	case "pending":
		s.pending, err = p.str(v, field)
	case "parallel":
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, p.errf(v, field, "want a non-empty list of steps")
		}
		for i, sn := range v.Content {
			sub, err := p.parseStep(sn, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			s.parallel = append(s.parallel, sub)
		}
	case "poll_until":
		s.pollUntil, err = p.parsePollUntil(v, field)
	case "eio_open_polling":
		s.openPoll, err = p.parseOpenPolling(v, field)
	case "eio_open_ws":
		s.openWS, err = p.parseOpenWS(v, field)
	case "sio_connect_ws":
		s.sioConnect, err = p.parseSIOConnect(v, field)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) parseHTTPReq(n *yaml.Node, field string) (*httpReq, error) {
	ents, _, err := p.mapping(n, field, "method", "query", "path", "headers", "body", "body_hex", "abort_after", "pad", "pad_to")
	if err != nil {
		return nil, err
	}
	r := &httpReq{method: "GET"}
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "method":
			r.method, err = p.str(e.val, f)
		case "query":
			r.query, err = p.kvs(e.val, f)
		case "path":
			r.path, err = p.str(e.val, f)
		case "headers":
			r.headers, err = p.kvs(e.val, f)
		case "body":
			r.body, err = p.str(e.val, f)
			r.hasBody = true
		case "body_hex":
			r.bodyBytes, err = p.hexBytes(e.val, f)
			r.hasBody = true
		case "abort_after":
			r.abortAfter, err = p.duration(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.bodyBytes != nil && r.body != "" {
		return nil, p.errf(n, field, "body and body_hex are exclusive")
	}
	if r.pad, err = p.padding(n, field, r.bodyBytes != nil); err != nil {
		return nil, err
	}
	if r.pad.to > 0 {
		r.hasBody = true
	}
	return r, nil
}

// padding reads pad_to and pad (a text unit, or hex bytes for binary
// content; default "a" or 00).
func (p *parser) padding(n *yaml.Node, field string, binary bool) (padding, error) {
	_, m, _ := p.mapping(n, field) // the caller has checked the keys
	var (
		pd  padding
		err error
	)
	v, ok := m["pad_to"]
	if !ok {
		if _, has := m["pad"]; has {
			return pd, p.errf(n, join(field, "pad"), "needs pad_to")
		}
		return pd, nil
	}
	if pd.to, err = p.integer(v, join(field, "pad_to")); err != nil {
		return pd, err
	}
	if pd.to < 1 || pd.to > 64<<20 {
		return pd, p.errf(v, join(field, "pad_to"), "must be between 1 and 64 MiB")
	}
	pd.unit = []byte("a")
	if binary {
		pd.unit = []byte{0}
	}
	if u, ok := m["pad"]; ok {
		if binary {
			pd.unit, err = p.hexBytes(u, join(field, "pad"))
		} else {
			var s string
			s, err = p.str(u, join(field, "pad"))
			pd.unit = []byte(s)
		}
		if err != nil {
			return pd, err
		}
		if len(pd.unit) == 0 {
			return pd, p.errf(u, join(field, "pad"), "must not be empty")
		}
	}
	return pd, nil
}

// apply grows b to exactly pd.to bytes with whole copies of the unit.
func (pd padding) apply(b []byte) ([]byte, error) {
	if pd.to == 0 {
		return b, nil
	}
	gap := pd.to - len(b)
	if gap < 0 || gap%len(pd.unit) != 0 {
		return nil, fmt.Errorf("cannot pad %d bytes to %d with %d-byte units", len(b), pd.to, len(pd.unit))
	}
	return append(b[:len(b):len(b)], bytes.Repeat(pd.unit, gap/len(pd.unit))...), nil
}

func (p *parser) parseHTTPExpect(n *yaml.Node, field string) (*httpExpect, error) {
	ents, _, err := p.mapping(n, field, "status", "headers", "body", "body_hex", "packets", "unordered",
		"json", "exact_keys", "within", "not_before")
	if err != nil {
		return nil, err
	}
	x := &httpExpect{}
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "status":
			if e.val.Kind == yaml.SequenceNode {
				for i, sn := range e.val.Content {
					st, err := p.integer(sn, fmt.Sprintf("%s[%d]", f, i))
					if err != nil {
						return nil, err
					}
					x.status = append(x.status, st)
				}
			} else {
				st, err := p.integer(e.val, f)
				if err != nil {
					return nil, err
				}
				x.status = []int{st}
			}
		case "headers":
			hents, _, err := p.mapping(e.val, f)
			if err != nil {
				return nil, err
			}
			for _, h := range hents {
				m, err := p.strMatcher(h.val, join(f, h.key), true)
				if err != nil {
					return nil, err
				}
				x.headers = append(x.headers, headerMatch{h.key, m})
			}
		case "body":
			x.body, err = p.strMatcher(e.val, f, false)
		case "body_hex":
			x.bodyHex, err = p.hexBytes(e.val, f)
			x.hasHex = true
		case "packets":
			x.hasPkts = true
			if e.val.Kind != yaml.SequenceNode {
				return nil, p.errf(e.val, f, "want a list of packet matchers")
			}
			for i, pn := range e.val.Content {
				pm, err := p.pktMatcher(pn, fmt.Sprintf("%s[%d]", f, i))
				if err != nil {
					return nil, err
				}
				x.packets = append(x.packets, pm)
			}
		case "unordered":
			x.unordered, err = p.boolean(e.val, f)
		case "json":
			x.json, err = p.jsonMatcher(e.val, f)
		case "exact_keys":
			x.exactKeys, err = p.boolean(e.val, f)
		case "within":
			x.within, err = p.duration(e.val, f)
		case "not_before":
			x.notBefore, err = p.duration(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (p *parser) parseWSOpen(n *yaml.Node, field string) (*wsOpen, error) {
	ents, _, err := p.mapping(n, field, "name", "query", "path", "headers")
	if err != nil {
		return nil, err
	}
	o := &wsOpen{name: "ws"}
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "name":
			o.name, err = p.str(e.val, f)
		case "query":
			o.query, err = p.kvs(e.val, f)
		case "path":
			o.path, err = p.str(e.val, f)
		case "headers":
			o.headers, err = p.kvs(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (p *parser) parseWSSend(n *yaml.Node, field string) (*wsSend, error) {
	_, m, err := p.mapping(n, field, "ws", "text", "text_hex", "binary_hex", "pad", "pad_to")
	if err != nil {
		return nil, err
	}
	s := &wsSend{ws: "ws"}
	if th, ok := m["text_hex"]; ok {
		// A text frame of exactly these bytes, valid UTF-8 or not (the
		// invalid-UTF-8 cases); YAML escapes can only write code points.
		if _, dup := m["text"]; dup {
			return nil, p.errf(n, field, "want exactly one of text, text_hex and binary_hex")
		}
		b, err := p.hexBytes(th, join(field, "text_hex"))
		if err != nil {
			return nil, err
		}
		m["text"] = th
		s.rawText = b
	}
	_, isBin := m["binary_hex"]
	if s.pad, err = p.padding(n, field, isBin); err != nil {
		return nil, err
	}
	if v, ok := m["ws"]; ok {
		if s.ws, err = p.str(v, join(field, "ws")); err != nil {
			return nil, err
		}
	}
	t, hasText := m["text"]
	b, hasBin := m["binary_hex"]
	switch {
	case hasText == hasBin:
		return nil, p.errf(n, field, "want exactly one of text and binary_hex")
	case hasText && s.rawText != nil:
	case hasText:
		s.text, err = p.str(t, join(field, "text"))
	default:
		s.isBin = true
		s.binary, err = p.hexBytes(b, join(field, "binary_hex"))
	}
	return s, err
}

func (p *parser) parseWSExpect(n *yaml.Node, field string) (*wsExpect, error) {
	ents, _, err := p.mapping(n, field, "ws", "text", "binary_hex", "packet", "sio", "close", "code",
		"within", "not_before", "skip")
	if err != nil {
		return nil, err
	}
	x := &wsExpect{ws: "ws"}
	kinds := 0
	for _, e := range ents {
		f := join(field, e.key)
		switch e.key {
		case "ws":
			x.ws, err = p.str(e.val, f)
		case "text":
			kinds++
			x.match.text, err = p.strMatcher(e.val, f, false)
		case "binary_hex":
			kinds++
			x.match.binHex, err = p.hexBytes(e.val, f)
			x.match.hasBin = true
		case "packet":
			kinds++
			x.match.packet, err = p.pktMatcher(e.val, f)
		case "sio":
			kinds++
			x.match.sio, err = p.sioMatcher(e.val, f)
		case "close":
			kinds++
			x.match.hasClose = true
			x.match.close, err = p.boolean(e.val, f)
		case "code":
			x.match.code, err = p.integer(e.val, f)
		case "within":
			x.within, err = p.duration(e.val, f)
		case "not_before":
			x.notBefore, err = p.duration(e.val, f)
		case "skip":
			x.skip, err = p.strList(e.val, f)
		}
		if err != nil {
			return nil, err
		}
	}
	if kinds != 1 {
		return nil, p.errf(n, field, "want exactly one of text, binary_hex, packet, sio, close")
	}
	if x.match.code != 0 && !x.match.close {
		return nil, p.errf(n, join(field, "code"), "code needs close: true")
	}
	return x, nil
}

func (p *parser) parseWSSilent(n *yaml.Node, field string) (*wsSilent, error) {
	_, m, err := p.mapping(n, field, "ws", "for", "skip")
	if err != nil {
		return nil, err
	}
	s := &wsSilent{ws: "ws"}
	if v, ok := m["ws"]; ok {
		if s.ws, err = p.str(v, join(field, "ws")); err != nil {
			return nil, err
		}
	}
	v, ok := m["for"]
	if !ok {
		return nil, p.errf(n, join(field, "for"), "missing")
	}
	if s.dur, err = p.duration(v, join(field, "for")); err != nil {
		return nil, err
	}
	if v, ok := m["skip"]; ok {
		if s.skip, err = p.strList(v, join(field, "skip")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) parseWSClose(n *yaml.Node, field string) (*wsClose, error) {
	_, m, err := p.mapping(n, field, "ws", "abort")
	if err != nil {
		return nil, err
	}
	c := &wsClose{ws: "ws"}
	if v, ok := m["ws"]; ok {
		if c.ws, err = p.str(v, join(field, "ws")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["abort"]; ok {
		if c.abort, err = p.boolean(v, join(field, "abort")); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (p *parser) parsePollUntil(n *yaml.Node, field string) (*pollUntil, error) {
	_, m, err := p.mapping(n, field, "query", "path", "body", "max")
	if err != nil {
		return nil, err
	}
	u := &pollUntil{max: 5}
	if v, ok := m["query"]; ok {
		if u.query, err = p.kvs(v, join(field, "query")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["path"]; ok {
		if u.path, err = p.str(v, join(field, "path")); err != nil {
			return nil, err
		}
	}
	v, ok := m["body"]
	if !ok {
		return nil, p.errf(n, join(field, "body"), "missing")
	}
	if u.body, err = p.strMatcher(v, join(field, "body"), false); err != nil {
		return nil, err
	}
	if v, ok := m["max"]; ok {
		if u.max, err = p.integer(v, join(field, "max")); err != nil {
			return nil, err
		}
		if u.max < 1 {
			return nil, p.errf(v, join(field, "max"), "must be at least 1")
		}
	}
	return u, nil
}

func (p *parser) parseOpenPolling(n *yaml.Node, field string) (*openPolling, error) {
	_, m, err := p.mapping(n, field, "capture", "query")
	if err != nil {
		return nil, err
	}
	o := &openPolling{capture: "sid"}
	if v, ok := m["capture"]; ok {
		if o.capture, err = p.str(v, join(field, "capture")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["query"]; ok {
		if o.query, err = p.kvs(v, join(field, "query")); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (p *parser) parseOpenWS(n *yaml.Node, field string) (*openWS, error) {
	_, m, err := p.mapping(n, field, "name", "capture", "query")
	if err != nil {
		return nil, err
	}
	o := &openWS{name: "ws"}
	if v, ok := m["name"]; ok {
		if o.name, err = p.str(v, join(field, "name")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["capture"]; ok {
		if o.capture, err = p.str(v, join(field, "capture")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["query"]; ok {
		if o.query, err = p.kvs(v, join(field, "query")); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (p *parser) parseSIOConnect(n *yaml.Node, field string) (*sioConnect, error) {
	_, m, err := p.mapping(n, field, "name", "nsp", "auth", "query")
	if err != nil {
		return nil, err
	}
	c := &sioConnect{name: "ws", nsp: "/"}
	if v, ok := m["name"]; ok {
		if c.name, err = p.str(v, join(field, "name")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["nsp"]; ok {
		if c.nsp, err = p.str(v, join(field, "nsp")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["query"]; ok {
		if c.query, err = p.kvs(v, join(field, "query")); err != nil {
			return nil, err
		}
	}
	if v, ok := m["auth"]; ok {
		val, err := p.toJSONValue(v, join(field, "auth"))
		if err != nil {
			return nil, err
		}
		if _, isObj := val.(map[string]any); !isObj {
			return nil, p.errf(v, join(field, "auth"), "want a mapping")
		}
		b, _ := json.Marshal(val)
		c.auth, c.hasAuth = string(b), true
	}
	return c, nil
}
