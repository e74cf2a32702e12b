package conform

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/transport"
)

// pollHeartbeat is the poll_heartbeat step (docs/conformance.md §3.3):
// it keeps an EIO4 polling session alive for a while, the way a client
// does: it GETs again and again and answers every ping with a pong POST.
// The contract's heartbeat (300/200 ms) ends a session within half a
// second otherwise, so a case that waits for something slower (the
// upgrade timeout, 10 s on Node) runs this async meanwhile. It fails
// when the session ends: a status other than 200, or a close packet.
type pollHeartbeat struct {
	query []kv
	path  string
	dur   time.Duration
}

// maxHeartbeatPolls bounds the requests of one poll_heartbeat, whatever
// a server answers (one that returns every GET at once would otherwise be
// polled flat out for the whole duration).
const maxHeartbeatPolls = 2000

func (p *pollHeartbeat) canAsync() {}

func (p *pollHeartbeat) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Query kvList    `yaml:"query"`
		Path  string    `yaml:"path"`
		For   *duration `yaml:"for"`
	}
	d.Decode(n, field, &b)
	*p = pollHeartbeat{query: b.Query, path: b.Path}
	var ok bool
	if p.dur, ok = need(d, n, field, "for", b.For); ok && p.dur == 0 {
		d.Fieldf(yamldoc.Join(field, "for"), "must be positive")
	}
}

func (p *pollHeartbeat) run(ctx context.Context, r *runner, s *step) error {
	return r.runRequest(s, func() (*transport.Response, error) { return nil, p.keep(ctx, r) },
		func(_ *transport.Response, err error) error { return err })
}

// keep polls until the duration is over; a GET held when it ends is
// answered by the server's next ping at the latest.
func (p *pollHeartbeat) keep(ctx context.Context, r *runner) error {
	if r.c.EIO != 4 {
		return &brokenCase{"poll_heartbeat answers EIO4 pings; in EIO3 the client pings"}
	}
	get := &httpReq{method: "GET", query: p.query, path: p.path}
	pong := &httpReq{method: "POST", query: p.query, path: p.path, body: "3", hasBody: true}
	start := time.Now()
	for n := 1; time.Since(start) < p.dur; n++ {
		if n > maxHeartbeatPolls {
			return mis("a session polled at most "+strconv.Itoa(maxHeartbeatPolls)+" times", "more",
				"poll_heartbeat: %d GETs in %v, the server answers them at once", maxHeartbeatPolls, time.Since(start).Round(time.Millisecond))
		}
		resp, err := r.doHTTP(ctx, get)
		if err != nil {
			return err
		}
		after := time.Since(start).Round(time.Millisecond)
		if resp.Status != 200 {
			return mis("status 200", strconv.Itoa(resp.Status), "poll_heartbeat: the session ended after %v: GET %d got %d (body %s)",
				after, n, resp.Status, quoteShort(string(resp.Body)))
		}
		pkts, err := decodePayload(r.c.EIO, resp.Body, strings.Contains(resp.Header.Get("Content-Type"), "octet-stream"))
		if err != nil {
			return mis("a polling payload", string(resp.Body), "poll_heartbeat: GET %d: not a valid EIO4 payload (%v): %s", n, err, quoteShort(string(resp.Body)))
		}
		for _, pk := range pkts {
			switch pk.Type {
			case engineio.Close:
				return mis("the session open", "a close packet", "poll_heartbeat: the server closed the session after %v (GET %d)", after, n)
			case engineio.Ping:
				pr, err := r.doHTTP(ctx, pong)
				if err != nil {
					return err
				}
				if pr.Status != 200 {
					return mis("status 200", strconv.Itoa(pr.Status), "poll_heartbeat: the pong after %v got %d (body %s)",
						after, pr.Status, quoteShort(string(pr.Body)))
				}
			}
		}
	}
	r.addTrace(time.Now(), "send", "http", "http", fmt.Sprintf("poll_heartbeat kept the session for %v", p.dur))
	return nil
}
