package conform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/socketio"
	"github.com/siokit/siokit/protocol/transport"
)

// Deployment checks (sioconform run --deployment): whether a Socket.IO deployment — proxies,
// load balancers, several nodes with an adapter — works as clients need it, judged through
// the proxy's URL. Unlike the cases they are Go checks: each runs many sessions and judges
// their sum ("N of M sessions …"). They need the handler contract of peers/README.md ("join",
// "broadcast", "message") on "/" of the Socket.IO path. Every failure names the setting that
// fixes it. When one WebSocket session connects but its first "message" gets no
// "message-back", the checks that need the handlers are errors saying so, not failures.

// The deployment checks' ids, in report order.
const (
	DeploySticky    = "deploy.sticky"
	DeployWebSocket = "deploy.websocket"
	DeployIdle      = "deploy.idle"
	DeployBroadcast = "deploy.broadcast"
	DeployCORS      = "deploy.cors"
)

// DefaultNodeHeader is the response header in which a node names itself (the cluster peer's).
const DefaultNodeHeader = "X-Siokit-Node"

// DeployConfig says where and how to run the deployment checks.
type DeployConfig struct {
	// URL is the proxy's origin, e.g. "http://127.0.0.1:8080".
	URL string
	// Path is the Socket.IO path; "" means "/socket.io/".
	Path string
	// Sessions is how many polling sessions the stickiness check runs; 0 means 20.
	Sessions int
	// Clients is how many clients the broadcast check places; 0 means 12.
	Clients int
	// NodeHeader names the response header that says which node answered; "" means
	// DefaultNodeHeader. Without it the checks still judge, but cannot say where clients landed.
	NodeHeader string
	// Origin is sent by the CORS check; "" means "https://siokit.example".
	Origin string
	// Only, if not empty, keeps the checks whose id matches one of these globs (as --only).
	Only []string
	// Progress, if set, is called once per finished check, one call at a time.
	Progress func(Result)
}

// DeployChecks returns the ids and one-line descriptions of the deployment checks.
func DeployChecks() [][2]string {
	out := make([][2]string, len(deployChecks))
	for i, c := range deployChecks {
		out[i] = [2]string{c.id, c.desc}
	}
	return out
}

// DeployCases describes the deployment checks as cases, for `sioconform list --deployment`:
// they are written in Go, not in case files, and have no steps to run through Run. Each is a
// must: the deployment either carries Socket.IO's guarantee (a session on one node, a
// broadcast to every node's clients) or it does not.
func DeployCases() []*Case {
	out := make([]*Case, len(deployChecks))
	for i, c := range deployChecks {
		out[i] = &Case{ID: c.id, Description: c.desc, Spec: c.spec, Strength: Must, Rule: c.desc, Server: "socketio", EIO: 4}
	}
	return out
}

// SelectDeployCases is DeployCases narrowed to the checks RunDeployment
// runs for only (DeployConfig.Only; all when empty), in report order.
func SelectDeployCases(only []string) []*Case {
	var out []*Case
	for _, c := range DeployCases() {
		if len(only) == 0 || matchAny(only, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

type deployCheck struct {
	id, desc, spec string
	run            func(ctx context.Context, r *deployRun) Result
	// handlers is set for the checks that need the nodes' test handlers (peers/README.md
	// "Handler contract": message → message-back, join, broadcast); without them such a
	// check would blame the proxy for events nobody answers.
	handlers bool
}

var deployChecks = []deployCheck{
	{DeploySticky, "every request of a polling session reaches the node that holds it, over many sessions",
		"socket.io docs: Using multiple nodes, sticky load balancing", checkSticky, true},
	{DeployWebSocket, "a WebSocket opens through the proxy (else clients stay on long-polling)",
		"socket.io docs: Behind a reverse proxy", checkWebSocket, false},
	{DeployIdle, "a session idle for two ping intervals survives the proxy",
		"socket.io docs: Behind a reverse proxy (proxy_read_timeout > pingInterval + pingTimeout)", checkIdle, true},
	{DeployBroadcast, "clients on every node all receive a room broadcast sent through one node",
		"socket.io docs: Adapter", checkBroadcast, true},
	{DeployCORS, "CORS headers come through the proxy once, for the handshake and the preflight",
		"socket.io docs: Handling CORS", checkCORS, false},
}

// deployRun is one run of the checks.
type deployRun struct {
	cfg  DeployConfig
	base string // scheme://host:port
	path string
	// spread gives each session its own loopback source address (the target is on loopback).
	spread bool
}

// RunDeployment runs the deployment checks (concurrently: the idle check takes two ping
// intervals) and returns one Result per check in report order. The error is non-nil only when
// the URL is unusable or nothing answers at it.
func RunDeployment(ctx context.Context, cfg DeployConfig) (*Report, error) {
	base, err := targetBase(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Path == "" {
		cfg.Path = socketio.DefaultPath
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 20
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 12
	}
	if cfg.NodeHeader == "" {
		cfg.NodeHeader = DefaultNodeHeader
	}
	if cfg.Origin == "" {
		cfg.Origin = "https://siokit.example"
	}
	r := &deployRun{cfg: cfg, base: base.String(), path: "/" + strings.Trim(cfg.Path, "/") + "/"}
	if ip := net.ParseIP(base.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil {
		r.spread = true
	}
	rep := &Report{Target: cfg.URL, EIO: 4, Started: time.Now()}
	if err := probe(ctx, base, 4); err != nil {
		return nil, err
	}
	var checks []deployCheck
	for _, c := range deployChecks {
		if len(cfg.Only) == 0 || matchAny(cfg.Only, c.id) {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("conform: no deployment check matches %q", cfg.Only)
	}
	var noHandlers string
	for _, c := range checks {
		if c.handlers {
			noHandlers = probeHandlers(ctx, r)
			break
		}
	}
	rep.CasesTotal = len(checks)
	results := make([]Result, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var res Result
			if c.handlers && noHandlers != "" {
				res = Result{Verdict: Error, Step: 0, Message: noHandlers}
			} else {
				res = c.run(ctx, r)
			}
			res.ID, res.Description, res.Spec, res.Duration = c.id, c.desc, c.spec, time.Since(start)
			if res.Verdict == Pass {
				res.Step = -1
			}
			results[i] = res
			if cfg.Progress != nil {
				mu.Lock()
				cfg.Progress(res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Results = results
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// checkTimeout bounds a check that does not wait on purpose: generous, for loaded machines.
const checkTimeout = 90 * time.Second

// handlerProbeTimeout bounds the wait for the first message-back of probeHandlers: a node
// with the handlers answers in milliseconds.
const handlerProbeTimeout = 5 * time.Second

// probeHandlers sends one "message" event over a WebSocket session and waits for its
// "message-back". It returns what to say when the session connected but nothing answered
// the event (a stock Socket.IO server: the checks that rely on the test handlers would fail
// for the wrong reason, and name a proxy setting as the fix), else "". Anything else (no
// WebSocket, no connect) is left to the checks, which say what is wrong with the proxy.
func probeHandlers(ctx context.Context, r *deployRun) string {
	c := r.newConn(200)
	defer c.close()
	octx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.openWS(octx); err != nil {
		return ""
	}
	c.start(octx)
	if err := c.connect(octx); err != nil {
		return ""
	}
	if err := c.send(octx, "probe event", `42["message","siokit-probe"]`); err != nil {
		return ""
	}
	pctx, pcancel := context.WithTimeout(octx, handlerProbeTimeout)
	defer pcancel()
	_, err := c.expect(pctx, "probe answer", `42["message-back","siokit-probe"]`)
	if err == nil || c.failed() != nil || ctx.Err() != nil {
		return ""
	}
	return fmt.Sprintf("the server does not answer the test events (no message-back to a \"message\" event within %v): "+
		"its nodes need the test handlers of peers/README.md (\"Handler contract\": message → message-back, join, broadcast); "+
		"a stock Socket.IO server cannot be judged by this check", handlerProbeTimeout)
}

// nodeCounts renders "n1=7 n2=6 n3=7" (or "" when no node named itself).
func nodeCounts(nodes []string) string {
	m := map[string]int{}
	for _, n := range nodes {
		if n != "" {
			m[n]++
		}
	}
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%d", n, m[n])
	}
	return strings.Join(parts, " ")
}

func failResult(msg, diff string) Result {
	return Result{Verdict: Fail, Step: 0, Message: msg, Diff: diff}
}

// fixSticky is the setting that makes a load balancer sticky.
const fixSticky = "fix: pin each session to one node — nginx `hash $remote_addr consistent;` in the upstream " +
	"(not ip_hash, which hashes only the first three octets), HAProxy `cookie SERVERID insert indirect nocache` " +
	"with `cookie <name>` on each server (clients must keep cookies) or `balance source`; or let clients use " +
	"WebSocket only (transports: [\"websocket\"])"

// checkSticky runs many polling sessions, each with several requests that the server answers at
// once, and counts those refused with "Session ID unknown".
func checkSticky(ctx context.Context, r *deployRun) Result {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	n := r.cfg.Sessions
	type outcome struct {
		node string
		err  error
	}
	out := make([]outcome, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := r.newConn(i)
			err := stickySession(ctx, c)
			out[i] = outcome{c.node, err}
		}()
	}
	wg.Wait()
	var unknown, other []string
	var nodes []string
	for i, o := range out {
		nodes = append(nodes, o.node)
		var su *sidUnknownError
		switch {
		case errors.As(o.err, &su):
			where := ""
			if su.handshakeNode != "" || su.refusedNode != "" {
				where = fmt.Sprintf(" (handshake on %s, refused by %s)", orUnknown(su.handshakeNode), orUnknown(su.refusedNode))
			}
			unknown = append(unknown, fmt.Sprintf("session %d: %s%s", i+1, su.what, where))
		case o.err != nil:
			other = append(other, fmt.Sprintf("session %d: %v", i+1, o.err))
		}
	}
	spread := nodeCounts(nodes)
	if len(unknown) > 0 {
		return failResult(fmt.Sprintf("the load balancer is not sticky: %d of %d sessions got 400 Session ID unknown; %s",
			len(unknown), n, fixSticky), strings.Join(append(unknown, other...), "\n"))
	}
	if len(other) > 0 {
		return failResult(fmt.Sprintf("%d of %d polling sessions failed through the proxy (not a stickiness refusal)", len(other), n),
			strings.Join(other, "\n"))
	}
	msg := fmt.Sprintf("%d polling sessions, 5 requests each, every one served by the node that holds the session", n)
	if spread != "" {
		msg += "; handshakes per node: " + spread
	}
	return Result{Verdict: Pass, Message: msg}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed node"
	}
	return s
}

// stickySession is one polling session of checkSticky: handshake, CONNECT, read the reply,
// an event, read its answer. Every GET has data waiting, so none is held open (a proxy with a
// short read timeout does not fail this check).
func stickySession(ctx context.Context, c *dconn) error {
	if err := c.openPolling(ctx); err != nil {
		return err
	}
	if err := c.post(ctx, "CONNECT POST", "40"); err != nil {
		return err
	}
	if err := pollFor(ctx, c, "GET of the CONNECT reply", "40{"); err != nil {
		return err
	}
	if err := c.post(ctx, "event POST", `42["message","sticky"]`); err != nil {
		return err
	}
	return pollFor(ctx, c, "GET of the event's answer", `42["message-back"`)
}

// pollFor polls (at most 4 times) until a packet with prefix arrives.
func pollFor(ctx context.Context, c *dconn, what, prefix string) error {
	for range 4 {
		pkts, err := c.poll(ctx, what)
		if err != nil {
			return err
		}
		for _, p := range pkts {
			if strings.HasPrefix(p, prefix) {
				return nil
			}
			if p == "2" {
				if err := c.post(ctx, "pong POST", "3"); err != nil {
					return err
				}
			}
		}
	}
	return fmt.Errorf("%s: no %q in 4 polls", what, prefix)
}

// fixUpgrade is the setting that lets WebSocket through.
const fixUpgrade = "fix (nginx): `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; " +
	"proxy_set_header Connection \"upgrade\";` in the location (HAProxy in mode http forwards upgrades as is; " +
	"Apache needs mod_proxy_wstunnel)"

// checkWebSocket opens a WebSocket-only session through the proxy and connects "/".
func checkWebSocket(ctx context.Context, r *deployRun) Result {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	c := r.newConn(0)
	defer c.close()
	resp, err := c.openWS(ctx)
	if err != nil {
		var he *transport.HandshakeError
		if errors.As(err, &he) && resp != nil && resp.Status != 0 {
			return failResult(fmt.Sprintf("the WebSocket handshake through the proxy got HTTP %d %s instead of 101: the proxy does not "+
				"forward the Upgrade, so clients will stay on HTTP long-polling (more requests and latency, and every session needs "+
				"sticky routing); %s", resp.Status, clip(string(resp.Body), 80), fixUpgrade), err.Error())
		}
		return failResult(fmt.Sprintf("no WebSocket through the proxy (%v): clients will stay on HTTP long-polling; %s", err, fixUpgrade), "")
	}
	c.start(ctx)
	if err := c.connect(ctx); err != nil {
		return failResult(fmt.Sprintf("the WebSocket opened (101) but the session did not work through it: %v; the proxy must "+
			"relay frames both ways after the 101", err), "")
	}
	msg := "WebSocket handshake answered 101 and the session connected over it"
	if c.node != "" {
		msg += " (node " + c.node + ")"
	}
	return Result{Verdict: Pass, Message: msg}
}

// fixTimeout is the setting that keeps idle sessions.
const fixTimeout = "fix: raise the proxy's idle timeout above pingInterval + pingTimeout (45 s with the defaults), " +
	"e.g. nginx `proxy_read_timeout 60s;`, HAProxy `timeout server`/`timeout tunnel`, a cloud LB's idle/backend timeout"

// checkIdle keeps a session idle (answering pings only) for two ping intervals, then checks that
// it still answers. WebSocket first; through a proxy that blocks WebSocket, long-polling.
func checkIdle(ctx context.Context, r *deployRun) Result {
	c := r.newConn(1)
	defer c.close()
	octx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	transportName := "WebSocket"
	if _, err := c.openWS(octx); err != nil {
		transportName = "long-polling"
		c = r.newConn(1)
		defer c.close()
		if err := c.openPolling(octx); err != nil {
			return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("could not open a session to keep idle (WebSocket and polling failed: %v)", err)}
		}
	}
	interval := time.Duration(c.hs.PingInterval) * time.Millisecond
	timeout := time.Duration(c.hs.PingTimeout) * time.Millisecond
	idle := 2*interval + time.Second
	c.start(ctx)
	if err := c.connect(octx); err != nil {
		return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("could not connect the session to keep idle: %v", err)}
	}
	began := time.Now()
	select {
	case err := <-c.errc:
		c.errc <- err
		return failResult(fmt.Sprintf("the proxy cut an idle %s session after %.1f s (pingInterval %v, pingTimeout %v): %v; its read "+
			"timeout is shorter than pingInterval + pingTimeout; %s", transportName, time.Since(began).Seconds(), interval, timeout, err, fixTimeout), "")
	case <-time.After(idle):
	case <-ctx.Done():
		return Result{Verdict: Error, Step: 0, Message: "interrupted"}
	}
	actx, cancel2 := context.WithTimeout(ctx, checkTimeout)
	defer cancel2()
	if err := c.send(actx, "event after idling", `42["message","idle"]`); err != nil {
		return failResult(fmt.Sprintf("the idle %s session could not send after %v: %v; %s", transportName, idle, err, fixTimeout), "")
	}
	if _, err := c.expect(actx, "answer after idling", `42["message-back","idle"]`); err != nil {
		return failResult(fmt.Sprintf("the idle %s session did not answer after %v: %v; %s", transportName, idle, err, fixTimeout), "")
	}
	return Result{Verdict: Pass, Message: fmt.Sprintf("a %s session idle for %v (2 × pingInterval %v + 1 s) still answered", transportName, idle, interval)}
}

// checkBroadcast places clients on the nodes (each from its own source address against a
// loopback proxy), joins them to one room and has one of them broadcast to it: every client,
// whichever node holds it, must receive it.
func checkBroadcast(ctx context.Context, r *deployRun) Result {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	n := r.cfg.Clients
	room := "siokit-deploy-" + randHex(6)
	token := randHex(8)
	conns := make([]*dconn, n)
	errs := make([]error, n)
	useWS := true
	// The first client decides the transport: WebSocket-only needs no stickiness.
	probe := r.newConn(100)
	if _, err := probe.openWS(ctx); err != nil {
		useWS = false
	}
	probe.close()
	// Chatter keeps every joined WebSocket busy while the others set up, so that a proxy read
	// timeout (deploy.idle's concern) cannot cut them here.
	stopChatter := make(chan struct{})
	var wg, chatter sync.WaitGroup
	for i := range n {
		conns[i] = r.newConn(100 + i)
	}
	defer func() {
		close(stopChatter)
		chatter.Wait()
		for _, c := range conns {
			c.close()
		}
	}()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if useWS {
				_, err = c.openWS(ctx)
			} else {
				err = c.openPolling(ctx)
			}
			if err == nil {
				c.start(ctx)
				err = c.connect(ctx)
			}
			if err == nil {
				err = c.send(ctx, "join", fmt.Sprintf(`421["join",%q]`, room))
			}
			if err == nil {
				_, err = c.expect(ctx, "join ack", `431["ok"]`)
			}
			errs[i] = err
			if err == nil && c.ws != nil {
				chatter.Add(1)
				go func() {
					defer chatter.Done()
					t := time.NewTicker(300 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stopChatter:
							return
						case <-t.C:
							_, _ = c.ws.Send(transport.TextFrame, []byte(`42["message","keepalive"]`))
						}
					}
				}()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("client %d of %d could not join the room: %v (see %s and %s)",
				i+1, n, err, DeploySticky, DeployWebSocket)}
		}
	}
	sender := conns[0]
	if err := sender.send(ctx, "broadcast", fmt.Sprintf(`422["broadcast",%q,"deploy-broadcast",%q]`, room, token)); err != nil {
		return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("sending the broadcast: %v", err)}
	}
	if _, err := sender.expect(ctx, "broadcast ack", `432["ok"]`); err != nil {
		return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("the broadcast was not acknowledged: %v", err)}
	}
	want := fmt.Sprintf(`42["deploy-broadcast",%q]`, token)
	// Everything sent on the sender's node arrives at once; give the others the same generous
	// limit (the verdict is about reach, not speed).
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	got := make([]bool, n)
	var rg sync.WaitGroup
	for i, c := range conns {
		rg.Add(1)
		go func() {
			defer rg.Done()
			_, err := c.expect(wctx, "broadcast", want)
			got[i] = err == nil
		}()
	}
	rg.Wait()
	var nodes, missedNodes []string
	missed := 0
	for i, c := range conns {
		nodes = append(nodes, c.node)
		if !got[i] {
			missed++
			missedNodes = append(missedNodes, c.node)
		}
	}
	spread := nodeCounts(nodes)
	distinct := len(strings.Fields(spread))
	if missed > 0 {
		where := ""
		if spread != "" {
			where = fmt.Sprintf(" (sent through node %s; clients per node %s; missed on %s)", orUnknown(sender.node), spread, nodeCounts(missedNodes))
		}
		return failResult(fmt.Sprintf("%d of %d clients missed a room broadcast%s: the nodes do not share broadcasts; fix: give every "+
			"node the same adapter (e.g. @socket.io/redis-adapter on one Redis), or run one node", missed, n, where), "")
	}
	if spread != "" && distinct < 2 {
		return Result{Verdict: NA, Step: 0, Message: fmt.Sprintf("all %d clients landed on node %s: cross-node delivery was not exercised "+
			"(the proxy pins every client of this machine to one node)", n, spread)}
	}
	msg := fmt.Sprintf("all %d clients received the room broadcast", n)
	if spread != "" {
		msg += fmt.Sprintf(" (sent through node %s; clients per node %s)", orUnknown(sender.node), spread)
	} else {
		msg += fmt.Sprintf(" (nodes unknown: no %s header)", r.cfg.NodeHeader)
	}
	return Result{Verdict: Pass, Message: msg}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fixCORS is the setting that sends CORS headers once.
const fixCORS = "fix: set CORS in one place — remove the proxy's `add_header Access-Control-Allow-Origin …` " +
	"(or HAProxy `http-response set-header`), or the server's cors option"

// checkCORS sends a handshake and a preflight with an Origin and checks that
// Access-Control-Allow-Origin comes back exactly once, as a single value.
func checkCORS(ctx context.Context, r *deployRun) Result {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	origin := r.cfg.Origin
	u := r.base + r.path + "?EIO=4&transport=polling"
	var problems, notes []string
	for _, req := range []struct {
		what, method string
		header       map[string][]string
	}{
		{"handshake GET", "GET", map[string][]string{"Origin": {origin}}},
		{"preflight OPTIONS", "OPTIONS", map[string][]string{"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"content-type"}}},
	} {
		rctx, rcancel := context.WithTimeout(ctx, requestTimeout)
		resp, err := transport.RawRequest(rctx, req.method, u, req.header, nil, nil)
		rcancel()
		if err != nil {
			return Result{Verdict: Error, Step: 0, Message: fmt.Sprintf("%s: %v", req.what, err)}
		}
		if resp.Status >= 300 {
			problems = append(problems, fmt.Sprintf("%s answered HTTP %d %s", req.what, resp.Status, clip(string(resp.Body), 80)))
			continue
		}
		vals := resp.Header.Values("Access-Control-Allow-Origin")
		var all []string
		for _, v := range vals {
			for _, p := range strings.Split(v, ",") {
				all = append(all, strings.TrimSpace(p))
			}
		}
		switch {
		case len(all) > 1:
			problems = append(problems, fmt.Sprintf("%s: Access-Control-Allow-Origin sent %d times (%s): browsers refuse the response",
				req.what, len(all), strings.Join(all, ", ")))
		case len(all) == 0:
			notes = append(notes, req.what+" has no Access-Control-Allow-Origin")
		case all[0] != "*" && all[0] != origin:
			problems = append(problems, fmt.Sprintf("%s: Access-Control-Allow-Origin %q is neither %q nor *", req.what, all[0], origin))
		}
	}
	if len(problems) > 0 {
		return failResult(strings.Join(problems, "; ")+"; "+fixCORS, "")
	}
	if len(notes) > 0 {
		return Result{Verdict: Info, Step: 0, Message: strings.Join(notes, "; ") + ": browsers on other origins cannot connect " +
			"(the server's cors option, or the proxy's headers, must allow them)"}
	}
	return Result{Verdict: Pass, Message: "Access-Control-Allow-Origin came once on the handshake and the preflight"}
}
