package conform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// httpStep is the http step (docs/conformance.md §3.1): one request and
// what its response must be. Named and async, it runs in the background
// until a wait step.
type httpStep struct {
	req    httpReq
	expect *httpExpect
}

type httpReq struct {
	method     string
	query      []kv
	path       string
	headers    []kv
	body       string // before variable substitution
	bodyBytes  []byte // from body_hex, sent as is
	hasBody    bool
	abortAfter time.Duration
	pad        padding
}

type headerMatch struct {
	name string
	m    *strMatcher
}

// httpExpect is the expect of an http or ws_open step.
type httpExpect struct {
	status    []int
	headers   []headerMatch
	body      *strMatcher
	bodyHex   []byte
	hasHex    bool
	packets   []*pktMatcher
	hasPkts   bool
	unordered bool
	json      *jsonMatcher
	exactKeys bool
	within    time.Duration
	notBefore time.Duration
}

func (h *httpStep) setExpect(x *httpExpect) { h.expect = x }
func (h *httpStep) canAsync()               {}

func (h *httpStep) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Req        httpFields `yaml:",inline"`
		AbortAfter duration   `yaml:"abort_after"`
	}
	d.Decode(n, field, &b)
	h.req = b.Req.request(d, n, field, "GET")
	h.req.abortAfter = time.Duration(b.AbortAfter)
}

// httpFields are the keys of a request (http, http_slow).
type httpFields struct {
	Method  *string   `yaml:"method"`
	Query   kvList    `yaml:"query"`
	Path    string    `yaml:"path"`
	Headers kvList    `yaml:"headers"`
	Body    *string   `yaml:"body"`
	BodyHex *hexBytes `yaml:"body_hex"`
	Padded  padded    `yaml:",inline"`
}

// request checks the keys decoded from n and makes the request; method is
// the default method.
func (b *httpFields) request(d *yamldoc.Decoder, n *yaml.Node, field, method string) httpReq {
	r := httpReq{method: or(b.Method, method), query: b.Query, path: b.Path, headers: b.Headers}
	if b.Body != nil {
		r.body, r.hasBody = *b.Body, true
	}
	if b.BodyHex != nil {
		r.bodyBytes, r.hasBody = *b.BodyHex, true
	}
	if r.bodyBytes != nil && r.body != "" {
		d.Errorf(n, field, "body and body_hex are exclusive")
	}
	r.pad = b.Padded.padding(d, n, field, r.bodyBytes != nil)
	if r.pad.to > 0 {
		r.hasBody = true
	}
	return r
}

func (h *httpStep) run(ctx context.Context, r *runner, s *step) error {
	return r.runRequest(s, func() (*transport.Response, error) { return r.doHTTP(ctx, &h.req) },
		func(resp *transport.Response, err error) error {
			return r.checkHTTP(h.expect, resp, err, h.req.abortAfter > 0)
		})
}

// UnmarshalYAMLDoc decodes the expect of an http or ws_open step.
func (x *httpExpect) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Status    statusCodes   `yaml:"status"`
		Headers   headerMatches `yaml:"headers"`
		Body      *strMatcher   `yaml:"body"`
		BodyHex   *hexBytes     `yaml:"body_hex"`
		Packets   *yaml.Node    `yaml:"packets"`
		Unordered bool          `yaml:"unordered"`
		JSON      *jsonMatcher  `yaml:"json"`
		ExactKeys bool          `yaml:"exact_keys"`
		Within    duration      `yaml:"within"`
		NotBefore duration      `yaml:"not_before"`
	}
	d.Decode(n, field, &b)
	*x = httpExpect{status: b.Status, headers: b.Headers, body: b.Body, unordered: b.Unordered, json: b.JSON,
		exactKeys: b.ExactKeys, within: time.Duration(b.Within), notBefore: time.Duration(b.NotBefore)}
	if b.BodyHex != nil {
		x.bodyHex, x.hasHex = *b.BodyHex, true
	}
	if b.Packets != nil {
		x.hasPkts = true
		f := yamldoc.Join(field, "packets")
		if b.Packets.Kind != yaml.SequenceNode {
			d.Errorf(b.Packets, f, "want a list of packet matchers")
			return
		}
		for i, pn := range b.Packets.Content {
			m := &pktMatcher{}
			d.Decode(pn, yamldoc.Index(f, i), m)
			x.packets = append(x.packets, m)
		}
	}
}

// statusCodes is one status code or a list of the codes allowed.
type statusCodes []int

// UnmarshalYAMLDoc decodes 200 or [200, 400].
func (l *statusCodes) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	if n.Kind == yaml.SequenceNode {
		d.Decode(n, field, (*[]int)(l))
		return
	}
	var st int
	d.Decode(n, field, &st)
	*l = statusCodes{st}
}

// headerMatches are the header matchers of an expect, in file order.
type headerMatches []headerMatch

// UnmarshalYAMLDoc decodes a mapping of header names to string matchers.
func (h *headerMatches) UnmarshalYAMLDoc(d *yamldoc.Decoder, n *yaml.Node, field string) {
	d.Fields(n, field, func(key string, _, v *yaml.Node) bool {
		*h = append(*h, headerMatch{key, parseStrMatcher(d, v, yamldoc.Join(field, key), true)})
		return true
	})
}

// errAborted marks a request we aborted on purpose (abort_after).
var errAborted = errors.New("request aborted by the tester as the case asked")

// doHTTP sends one request and traces it.
func (r *runner) doHTTP(ctx context.Context, q *httpReq) (*transport.Response, error) {
	return r.sendHTTP(ctx, q, "", func(ctx context.Context, u string, h http.Header, body []byte) (*transport.Response, error) {
		return transport.RawRequest(ctx, q.method, u, h, body, nil)
	})
}

// sendHTTP makes the request of q (URL, headers, body), traces it with
// note after its line, sends it with send and traces the answer.
func (r *runner) sendHTTP(ctx context.Context, q *httpReq, note string,
	send func(ctx context.Context, u string, h http.Header, body []byte) (*transport.Response, error)) (*transport.Response, error) {
	u, err := r.buildURL(r.base.Scheme, q.path, q.query)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	typed := false
	for _, e := range q.headers {
		v, err := r.subst(e.V)
		if err != nil {
			return nil, err
		}
		if http.CanonicalHeaderKey(e.K) == "Content-Type" {
			// An empty Content-Type is a case's way to send none.
			typed = true
			if v == "" {
				continue
			}
		}
		h.Add(e.K, v)
	}
	if strings.EqualFold(q.method, "POST") && !typed {
		// What the official suites and every real client send: a POST
		// without a type was refused by some servers (go-googollee) for a
		// reason no client ever triggers.
		if q.bodyBytes != nil {
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Type", "text/plain;charset=UTF-8")
		}
	}
	var body []byte
	if q.bodyBytes != nil {
		body = q.bodyBytes
	} else if q.hasBody {
		s, err := r.subst(q.body)
		if err != nil {
			return nil, err
		}
		body = []byte(s)
	}
	if body, err = q.pad.apply(body); err != nil {
		return nil, err
	}
	r.noteSecrets(u, h)
	// Credentials sit in small bodies (a CONNECT); the patterns are slow
	// on the megabyte bodies of the limit cases.
	if len(body) <= 64<<10 && utf8.Valid(body) {
		r.noteSecrets(string(body), nil)
	}
	line := requestLine(q.method, u)
	if len(body) > 0 {
		line += " body " + bodyText(body, h.Get("Content-Type"))
	}
	r.addTrace(time.Now(), "send", "http", "http", line+note)
	rctx, cancel := waitCtx(ctx, q.abortAfter)
	defer cancel()
	resp, err := send(rctx, u, h, body)
	if err != nil {
		if q.abortAfter > 0 && ctx.Err() == nil {
			r.addTrace(time.Now(), "send", "http", "http", "aborted after "+q.abortAfter.String())
			return nil, errAborted
		}
		r.addTrace(time.Now(), "recv", "http", "http", "transport error: "+err.Error())
		return nil, fmt.Errorf("%s: %w", line, err)
	}
	cut := ""
	if resp.Truncated {
		// Said before the body: the trace line is shortened from the end.
		cut = fmt.Sprintf("[body cut at %d bytes by the tester] ", len(resp.Body))
	}
	r.addTrace(resp.Received, "recv", "http", "http",
		fmt.Sprintf("%d %s%s", resp.Status, cut, bodyText(resp.Body, resp.Header.Get("Content-Type"))))
	return resp, nil
}

// bodyText renders a body for the trace: text as is, binary as hex.
// Only what shorten keeps is quoted: quoting a whole 1 MB body before each
// send took long enough on a busy machine (-race) for a 300/200 ms
// session to expire before the request went out.
func bodyText(b []byte, ctype string) string {
	// The trace keeps 120 characters: render a prefix only, so that a
	// body of megabytes is not copied and quoted whole.
	if len(b) > 256 {
		n := 256
		for n > 252 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	if strings.Contains(ctype, "octet-stream") || !utf8Printable(b) {
		return "hex " + hexShort(b)
	}
	return capQuoted(string(b))
}

func utf8Printable(b []byte) bool {
	s := string(b)
	for _, r := range s {
		if r == 0xFFFD || (r < 0x20 && r != 0x1e && r != '\n' && r != '\r' && r != '\t') {
			return false
		}
	}
	return true
}

// checkHTTP applies an http expect to a response.
func (r *runner) checkHTTP(x *httpExpect, resp *transport.Response, err error, abortable bool) error {
	if errors.Is(err, errAborted) {
		if x != nil {
			return mis("a response", "none (aborted)", "the request was aborted before the response the case expects")
		}
		return nil
	}
	if err != nil {
		return err
	}
	if x == nil {
		return nil
	}
	c := caps{}
	if len(x.status) > 0 && !slices.Contains(x.status, resp.Status) {
		want := statusList(x.status)
		return mis("status "+want, fmt.Sprintf("%d %s", resp.Status, shorten(string(resp.Body[:min(len(resp.Body), 256)]))),
			"want status %s, got %d (body %s)", want, resp.Status, quoteShort(string(resp.Body)))
	}
	for _, hm := range x.headers {
		vals := resp.Header.Values(hm.name)
		if err := hm.m.match(strings.Join(vals, ", "), len(vals) > 0, r.subst, c); err != nil {
			return prefixErr(err, "header "+hm.name+": ")
		}
	}
	took := resp.Received.Sub(resp.Sent)
	if x.within > 0 && took > x.within {
		return mis("response within "+x.within.String(), "after "+took.Round(time.Millisecond).String(),
			"want the response within %v, it took %v", x.within, took.Round(time.Millisecond))
	}
	if x.notBefore > 0 && took < x.notBefore {
		return mis("response not before "+x.notBefore.String(), "after "+took.Round(time.Millisecond).String(),
			"want the response not before %v, it came after %v", x.notBefore, took.Round(time.Millisecond))
	}
	if x.body != nil {
		if err := x.body.match(string(resp.Body), true, r.subst, c); err != nil {
			return prefixErr(err, "body: ")
		}
	}
	if x.hasHex && !bytes.Equal(resp.Body, x.bodyHex) {
		return mis(hexShort(x.bodyHex), hexShort(resp.Body), "body: want bytes %s, got %s", hexShort(x.bodyHex), hexShort(resp.Body))
	}
	if x.hasPkts {
		bin := strings.Contains(resp.Header.Get("Content-Type"), "octet-stream")
		pkts, err := engineio.DecodePayload(eioVersion(r.c.EIO), resp.Body, bin)
		if err != nil {
			return mis("a polling payload", string(resp.Body), "body is not a valid EIO%d payload (%v): %s", r.c.EIO, err, quoteShort(string(resp.Body)))
		}
		if err := matchPackets(x.packets, x.unordered, pkts, r.c.EIO, r.subst, c); err != nil {
			return err
		}
	}
	if x.json != nil {
		if err := matchJSONText(x.json, resp.Body, x.exactKeys, r.subst, c); err != nil {
			return prefixErr(err, "body: ")
		}
	}
	r.commit(c)
	return nil
}

func statusList(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " or ")
}

// pollUntil is the poll_until step: GET until the body matches.
type pollUntil struct {
	query []kv
	path  string
	body  *strMatcher
	max   int
}

func (u *pollUntil) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Query kvList      `yaml:"query"`
		Path  string      `yaml:"path"`
		Body  *strMatcher `yaml:"body"`
		Max   *int        `yaml:"max,signed"`
	}
	d.Decode(n, field, &b)
	*u = pollUntil{query: b.Query, path: b.Path, body: b.Body, max: 5}
	if b.Body == nil {
		d.Errorf(n, yamldoc.Join(field, "body"), "missing")
	}
	if b.Max != nil {
		if u.max = *b.Max; u.max < 1 {
			d.Fieldf(yamldoc.Join(field, "max"), "must be at least 1")
		}
	}
}

// run GETs until the body matches, at most max times.
func (u *pollUntil) run(ctx context.Context, r *runner, _ *step) error {
	q := &httpReq{method: "GET", query: u.query, path: u.path}
	var last string
	for i := 0; i < u.max; i++ {
		resp, err := r.doHTTP(ctx, q)
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return mis("status 200", strconv.Itoa(resp.Status), "poll %d: want status 200, got %d (body %s)", i+1, resp.Status, quoteShort(string(resp.Body)))
		}
		last = string(resp.Body)
		c := caps{}
		err = u.body.match(last, true, r.subst, c)
		if err == nil {
			r.commit(c)
			return nil
		}
		var bc *brokenCase
		if errors.As(err, &bc) {
			return err
		}
	}
	return mis(u.body.describe(), strconv.Quote(last), "no body matched %s in %d GETs; last %s", shorten(u.body.describe()), u.max, quoteShort(last))
}
