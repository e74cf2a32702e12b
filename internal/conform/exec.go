package conform

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/transport"
)

// runner is the state of one running case. Parallel sub-steps and async
// requests touch it concurrently, hence the mutex.
type runner struct {
	c     *Case
	base  *url.URL
	start time.Time

	mu     sync.Mutex
	vars   map[string]string
	trace  []TraceEntry
	conns  map[string]*wsConn
	asyncs map[string]*asyncReq
	// secrets are the credential values the case sent (noteSecrets), masked
	// in its result by sanitize.
	secrets map[string]bool
	// srv is the server a client case plays (srv_* steps); nil in server cases.
	srv *scriptServer
	// proc is the client program of a client case (srv_alive looks at it).
	proc *clientProc
}

// wsConn is one named WebSocket of a case.
type wsConn struct {
	rc      *transport.RawConn // nil when the open was refused
	refused bool
	ended   bool // the close has been consumed by a step
}

// runCase runs one case's steps in order; the first failing step decides
// the verdict: a mismatch or transport error fails (or n/a, info per
// on_fail), a brokenCase is an error.
func runCase(ctx context.Context, c *Case, base *url.URL, cfg *Config) Result {
	res := Result{ID: c.ID, Description: c.Description, Spec: c.Spec, Strength: c.Strength, Rule: c.Rule, Official: c.Official, Step: -1, Verdict: Pass}
	set := ContractSettings
	if cfg.Settings != nil {
		set = *cfg.Settings
	}
	if why := cfg.Absent[c.Path]; why != "" {
		res.Verdict, res.Message = NA, why
		return res
	}
	if why := unjudgeable(c, set); why != "" {
		res.Verdict, res.Message = NA, why
		return res
	}
	vars := set.vars()
	vars["eio"], vars["path"], vars["host"] = strconv.Itoa(c.EIO), c.Path, base.Host
	r := &runner{c: c, base: base, start: time.Now(), vars: vars,
		conns: map[string]*wsConn{}, asyncs: map[string]*asyncReq{}, secrets: map[string]bool{}}
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	r.runSteps(cctx, c.steps, &res)
	if res.Verdict != Pass {
		r.drainUnread()
	}
	cancel()
	r.cleanup()
	res.Duration = time.Since(r.start)
	r.mu.Lock()
	res.Trace = append([]TraceEntry(nil), r.trace...)
	sanitize(&res, r.secrets, cfg.ShowSecrets)
	r.mu.Unlock()
	return res
}

// runSteps runs steps in order until one fails; that step decides res's
// verdict and message (server and client cases alike).
func (r *runner) runSteps(ctx context.Context, steps []*step, res *Result) {
	for i, s := range steps {
		err := r.exec(ctx, s)
		if err == nil {
			continue
		}
		res.Step = i
		res.Verdict, res.Message, res.Diff = r.judge(s, err, ctx)
		res.Message = fmt.Sprintf("step %d (%s, line %d): %s", i, s.kind, s.line, res.Message)
		return
	}
}

// judge turns a step error into a verdict, message and diff.
func (r *runner) judge(s *step, err error, ctx context.Context) (Verdict, string, string) {
	var bc *brokenCase
	if errors.As(err, &bc) {
		return Error, "broken case: " + bc.msg, ""
	}
	msg, diff := err.Error(), ""
	var mm *mismatch
	if errors.As(err, &mm) {
		diff = mm.diff()
	}
	if ctx.Err() != nil && mm == nil {
		msg = fmt.Sprintf("case timeout (%v) exceeded: %s", r.c.Timeout, msg)
	}
	switch {
	case s.onFail == "na" || hasOnFail(s, "na"):
		return NA, "optional feature absent: " + msg, diff
	case s.onFail == "info":
		return Info, msg, diff
	}
	return r.c.Strength.Broken(), msg, diff
}

// hasOnFail reports whether a parallel step holds a sub-step with that
// on_fail (a probe inside a parallel group).
func hasOnFail(s *step, v string) bool {
	for _, sub := range subSteps(s) {
		if sub.onFail == v || hasOnFail(sub, v) {
			return true
		}
	}
	return false
}

// cleanup closes every WebSocket and waits for background requests, which
// are bounded by the case's deadline, so no goroutine outlives the case.
func (r *runner) cleanup() {
	r.mu.Lock()
	conns := r.conns
	asyncs := r.asyncs
	r.mu.Unlock()
	for _, wc := range conns {
		if wc.rc != nil {
			_ = wc.rc.Abort()
		}
	}
	for _, a := range asyncs {
		<-a.done
	}
}

// drainUnread records frames that arrived but no step read, so a failing
// trace shows what the server actually sent.
func (r *runner) drainUnread() {
	r.mu.Lock()
	conns := make(map[string]*wsConn, len(r.conns))
	for k, v := range r.conns {
		conns[k] = v
	}
	r.mu.Unlock()
	for name, wc := range conns {
		if wc.rc == nil || wc.ended {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		for {
			f, err := wc.rc.Next(ctx)
			if err != nil {
				break
			}
			r.traceFrame(name, f, " (unread)")
			if f.Kind == transport.CloseFrame {
				break
			}
		}
		cancel()
	}
}

func (r *runner) addTrace(at time.Time, dir, kind, conn, summary string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trace = append(r.trace, TraceEntry{At: at.Sub(r.start), Dir: dir, Kind: kind, Conn: conn, Summary: summary})
}

func (r *runner) traceFrame(conn string, f transport.Frame, suffix string) {
	kind := f.Kind.String()
	var s string
	switch f.Kind {
	case transport.TextFrame:
		s = "text " + shorten(string(f.Data))
	case transport.BinaryFrame:
		s = "binary " + hexShort(f.Data)
	default:
		s = fmt.Sprintf("close %d", f.Code)
		if f.Note != "" {
			s += " (" + f.Note + ")"
		}
	}
	r.addTrace(f.Time, "recv", kind, conn, s+suffix)
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// subst replaces ${name}; an undefined variable is a broken case.
func (r *runner) subst(s string) (string, error) {
	if len(s) < 3 {
		return s, nil
	}
	var missing string
	r.mu.Lock()
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := r.vars[name]
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	r.mu.Unlock()
	if missing != "" {
		return "", &brokenCase{fmt.Sprintf("undefined variable ${%s}", missing)}
	}
	return out, nil
}

// commit stores a passed step's captures.
func (r *runner) commit(c caps) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range c {
		r.vars[k] = v
	}
}

// buildURL makes the request URL for a path and query; EIO=<eio> is added
// unless the query gives EIO (an empty value omits it).
func (r *runner) buildURL(scheme, p string, query []kv) (string, error) {
	if p == "" {
		p = r.c.Path
	}
	p, err := r.subst(p)
	if err != nil {
		return "", err
	}
	var q []string
	hasEIO := false
	for _, e := range query {
		if e.K == "EIO" {
			hasEIO = true
			if e.V == "" {
				continue
			}
		}
		v, err := r.subst(e.V)
		if err != nil {
			return "", err
		}
		q = append(q, url.QueryEscape(e.K)+"="+url.QueryEscape(v))
	}
	if !hasEIO {
		q = append([]string{"EIO=" + strconv.Itoa(r.c.EIO)}, q...)
	}
	u := scheme + "://" + r.base.Host + p
	if len(q) > 0 {
		u += "?" + joinAmp(q)
	}
	return u, nil
}

func joinAmp(q []string) string {
	out := q[0]
	for _, s := range q[1:] {
		out += "&" + s
	}
	return out
}

// requestLine is the trace summary of a request URL: the path and query.
func requestLine(method, u string) string {
	if pu, err := url.Parse(u); err == nil {
		return method + " " + pu.RequestURI()
	}
	return method + " " + u
}
