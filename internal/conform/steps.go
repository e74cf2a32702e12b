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
	"sync"
	"time"
	"unicode/utf8"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// exec runs one step.
func (r *runner) exec(ctx context.Context, s *step) error {
	if a, ok := stepActions[s.kind]; ok {
		return a.run(r, ctx, s)
	}
	return &brokenCase{"unknown step kind " + s.kind}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errAborted marks a request we aborted on purpose (abort_after).
var errAborted = errors.New("request aborted by the tester as the case asked")

// doHTTP sends one request and traces it.
func (r *runner) doHTTP(ctx context.Context, q *httpReq) (*transport.Response, error) {
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
	r.addTrace(time.Now(), "send", "http", "http", line)
	rctx := ctx
	if q.abortAfter > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, q.abortAfter)
		defer cancel()
	}
	resp, err := transport.RawRequest(rctx, q.method, u, h, body, nil)
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

// startAsync launches a named http step in the background.
func (r *runner) startAsync(ctx context.Context, s *step) error {
	a := &asyncReq{st: s, done: make(chan struct{})}
	r.mu.Lock()
	if _, dup := r.asyncs[s.name]; dup {
		r.mu.Unlock()
		return &brokenCase{fmt.Sprintf("async step %q started twice", s.name)}
	}
	r.asyncs[s.name] = a
	r.mu.Unlock()
	go func() {
		defer close(a.done)
		a.resp, a.err = r.doHTTP(ctx, s.http)
	}()
	return nil
}

// wait finishes an async step and applies its expect.
func (r *runner) wait(ctx context.Context, name string) error {
	r.mu.Lock()
	a := r.asyncs[name]
	r.mu.Unlock()
	if a == nil {
		return &brokenCase{fmt.Sprintf("wait: no async step %q has started", name)}
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("wait %s: no response before the case timeout", name)
	}
	return r.checkHTTP(a.st.expect, a.resp, a.err, a.st.http.abortAfter > 0)
}

// checkPending asserts that an async request is still unanswered: this is
// how a case proves a GET is really held before it sends the next request.
func (r *runner) checkPending(name string) error {
	r.mu.Lock()
	a := r.asyncs[name]
	r.mu.Unlock()
	if a == nil {
		return &brokenCase{fmt.Sprintf("pending: no async step %q has started", name)}
	}
	select {
	case <-a.done:
		got := "transport error"
		if a.resp != nil {
			got = fmt.Sprintf("%d %s", a.resp.Status, shorten(string(a.resp.Body)))
		}
		return mis("request "+name+" still pending", got, "want request %s still pending, it was already answered: %s", name, got)
	default:
		return nil
	}
}

// parallel runs steps concurrently; the first failure in step order wins.
func (r *runner) parallel(ctx context.Context, steps []*step) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.exec(ctx, s)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return prefixErr(err, fmt.Sprintf("parallel[%d]: ", i))
		}
	}
	return nil
}

// pollUntil GETs until the body matches, at most max times.
func (r *runner) pollUntil(ctx context.Context, u *pollUntil) error {
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
