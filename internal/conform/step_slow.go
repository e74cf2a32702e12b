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

// httpSlow is the http_slow step (docs/conformance.md §3.1): a request
// whose body trickles out, chunk bytes every interval, on a connection of
// its own, so that it is held open mid-body. Async, it lets a case send a
// second POST of the same session while the first is still coming (one
// active POST per session). It takes http's keys but abort_after.
type httpSlow struct {
	req    httpReq
	chunk  int
	every  time.Duration
	expect *httpExpect
}

func (h *httpSlow) setExpect(x *httpExpect) { h.expect = x }
func (h *httpSlow) canAsync()               {}

func (h *httpSlow) parse(d *yamldoc.Decoder, n *yaml.Node, field string) {
	var b struct {
		Req   httpFields `yaml:",inline"`
		Chunk *int       `yaml:"chunk,signed"`
		Every *duration  `yaml:"every"`
	}
	d.Decode(n, field, &b)
	h.req = b.Req.request(d, n, field, "POST")
	h.chunk, h.every = 1, 100*time.Millisecond
	if b.Chunk != nil {
		if h.chunk = *b.Chunk; h.chunk < 1 {
			d.Fieldf(yamldoc.Join(field, "chunk"), "must be at least 1 byte")
		}
	}
	if b.Every != nil {
		if h.every = time.Duration(*b.Every); h.every == 0 {
			d.Fieldf(yamldoc.Join(field, "every"), "must be positive")
		}
	}
	if !h.req.hasBody {
		d.Errorf(n, field, "needs a body (body, body_hex or pad_to)")
	}
}

func (h *httpSlow) run(ctx context.Context, r *runner, s *step) error {
	note := fmt.Sprintf(" (slow: %d byte(s) every %v)", h.chunk, h.every)
	send := func(ctx context.Context, u string, hd http.Header, body []byte) (*transport.Response, error) {
		return transport.RawSlowRequest(ctx, h.req.method, u, hd, body, h.chunk, h.every, nil)
	}
	return r.runRequest(s, func() (*transport.Response, error) { return r.sendHTTP(ctx, &h.req, note, send) },
		func(resp *transport.Response, err error) error { return r.checkHTTP(h.expect, resp, err, false) })
}
