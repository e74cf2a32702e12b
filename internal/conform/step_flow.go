package conform

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
	"github.com/siokit/siokit/protocol/transport"
)

// The steps that order the others (docs/conformance.md §3.3): sleep,
// wait and pending for async requests, parallel.

// sleepStep is the sleep step: a pause.
type sleepStep time.Duration

func (x *sleepStep) parse(d *yamldoc.Decoder, v *yaml.Node, f string) {
	d.Decode(v, f, (*duration)(x))
}

func (x *sleepStep) run(ctx context.Context, _ *runner, _ *step) error {
	return sleepCtx(ctx, time.Duration(*x))
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

// asyncReq is a request of an async step running in the background; check
// applies the step's expect to its outcome.
type asyncReq struct {
	done  chan struct{}
	resp  *transport.Response
	err   error
	check func(*transport.Response, error) error
}

// startAsync runs do in the background as the async step name; a wait
// step applies check to what it returned.
func (r *runner) startAsync(name string, do func() (*transport.Response, error), check func(*transport.Response, error) error) error {
	a := &asyncReq{done: make(chan struct{}), check: check}
	r.mu.Lock()
	if _, dup := r.asyncs[name]; dup {
		r.mu.Unlock()
		return &brokenCase{fmt.Sprintf("async step %q started twice", name)}
	}
	r.asyncs[name] = a
	r.mu.Unlock()
	go func() {
		defer close(a.done)
		a.resp, a.err = do()
	}()
	return nil
}

// runRequest runs a request step (http, http_slow): do sends it and
// check judges what came back, at once or, for an async step, when a wait
// step asks.
func (r *runner) runRequest(s *step, do func() (*transport.Response, error), check func(*transport.Response, error) error) error {
	if s.async {
		return r.startAsync(s.name, do, check)
	}
	return check(do())
}

// async returns the running request of the async step name; asker (wait,
// pending) is named in the message.
func (r *runner) async(asker, name string) (*asyncReq, error) {
	r.mu.Lock()
	a := r.asyncs[name]
	r.mu.Unlock()
	if a == nil {
		return nil, &brokenCase{fmt.Sprintf("%s: no async step %q has started", asker, name)}
	}
	return a, nil
}

// asyncRef is the body of wait and pending: the name of an earlier async
// step, checked at load.
type asyncRef string

func (a *asyncRef) parse(d *yamldoc.Decoder, v *yaml.Node, f string) { d.Decode(v, f, (*string)(a)) }
func (a *asyncRef) awaits() string                                   { return string(*a) }

// waitStep is the wait step: finish an async step and apply its expect.
type waitStep struct{ asyncRef }

func (w *waitStep) run(ctx context.Context, r *runner, _ *step) error {
	name := w.awaits()
	a, err := r.async("wait", name)
	if err != nil {
		return err
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("wait %s: no response before the case timeout", name)
	}
	return a.check(a.resp, a.err)
}

// pendingStep is the pending step: it asserts that an async request is
// still unanswered; this is how a case proves a GET is really held before
// it sends the next request.
type pendingStep struct{ asyncRef }

func (p *pendingStep) run(_ context.Context, r *runner, _ *step) error {
	name := p.awaits()
	a, err := r.async("pending", name)
	if err != nil {
		return err
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

// parallelStep is the parallel step: its steps run concurrently.
type parallelStep []*step

func (p *parallelStep) subSteps() []*step { return *p }

func (p *parallelStep) parse(d *yamldoc.Decoder, v *yaml.Node, field string) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.Errorf(v, field, "want a non-empty list of steps")
		return
	}
	*p = decodeSteps(d, v, field)
}

// run runs the steps concurrently; the first failure in step order wins.
func (p *parallelStep) run(ctx context.Context, r *runner, _ *step) error {
	steps := *p
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
