package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// Options configures a run.
type Options struct {
	// Target is the server URL; it overrides Scenario.Target. One of the
	// two must be set (the built-in target is resolved by the caller).
	Target string
	// Shards is the number of metric shards; 4×GOMAXPROCS when 0.
	Shards int
	// Progress, if set, is called every ProgressInterval (default 1 s)
	// with a merged snapshot of the measurements so far.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// CloseTimeout bounds the closing of the connections after the run
	// (default 5 s): a server that never answers must not hang sioload.
	CloseTimeout time.Duration
	// Restart restarts the target, keeping it down for the given time:
	// the restart_target fault. Only the built-in target can be
	// restarted ([Builtin.Restart]); a scenario with such a fault is
	// refused when Restart is nil.
	Restart func(down time.Duration) error
	// Reconnect overrides the clients' reconnection policy; the zero
	// value is the reference client's (1 s doubling to 5 s, ±50 %).
	Reconnect client.Reconnect
}

// Progress is one live progress report.
type Progress struct {
	Elapsed time.Duration
	// Phase is "ramp", "hold", "load" (open model), "grace" or "closing".
	Phase string
	// Snapshot holds the measurements so far (merged shards).
	Snapshot *metrics.Result
}

// ErrUnsupported is returned for scenario features this version of the
// runner does not implement yet.
var ErrUnsupported = errors.New("load: not supported yet")

// Run executes s and returns its results. It returns an error only when
// the run could not be made at all (bad target, unsupported scenario);
// failures of individual clients are measured, not returned. When ctx is
// cancelled, Run stops the clients and returns the partial results with
// Partial set.
func Run(ctx context.Context, s *scenarios.Scenario, opts Options) (*metrics.Result, error) {
	r, err := newRun(s, opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx), nil
}

type run struct {
	s      *scenarios.Scenario
	opts   Options
	target string
	rec    *metrics.Recorder
	start  time.Time

	loadCtx  context.Context // ends when the load phase ends
	graceCtx context.Context // ends when the grace ends

	waited map[string]bool // event names some wait step waits for
	echoed map[string]bool // event names both emitted and waited for: round trips tracked for loss
	nsps   []string        // namespaces the flow uses

	proxy  *dropProxy // set when the scenario drops connections
	rooms  rooms
	fan    *fanout
	health *sampler

	mu      sync.Mutex
	clients map[int]*vclient
	active  atomic.Int64
	wg      sync.WaitGroup
}

func newRun(s *scenarios.Scenario, opts Options) (*run, error) {
	target := opts.Target
	if target == "" {
		target = s.Target
	}
	if target == "" {
		return nil, errors.New("load: no target URL (the scenario's target is empty and none was given)")
	}
	for i, f := range s.Faults {
		if f.RestartTarget && opts.Restart == nil {
			return nil, fmt.Errorf("%w: faults[%d]: restart_target needs the built-in target", ErrUnsupported, i)
		}
	}
	if opts.Shards <= 0 {
		opts.Shards = 4 * runtime.GOMAXPROCS(0)
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 5 * time.Second
	}
	r := &run{s: s, opts: opts, target: target, rec: metrics.NewRecorder(opts.Shards),
		waited: map[string]bool{}, echoed: map[string]bool{}, clients: map[int]*vclient{}}
	r.fan = newFanout(r.rec.Shard(0))
	seen := map[string]bool{}
	emitted := map[string]bool{}
	var walk func([]scenarios.Step)
	walk = func(steps []scenarios.Step) {
		for _, st := range steps {
			switch st.Kind {
			case scenarios.StepWait:
				r.waited[st.Event] = true
			case scenarios.StepEmit, scenarios.StepEmitAck:
				emitted[st.Event] = true
			}
			ns := nsOf(st.Namespace)
			if st.Kind != scenarios.StepThink && st.Kind != scenarios.StepLoop && !seen[ns] {
				seen[ns] = true
				r.nsps = append(r.nsps, ns)
			}
			walk(st.Steps)
		}
	}
	walk(s.Flow)
	for e := range r.waited {
		if emitted[e] {
			r.echoed[e] = true
		}
	}
	return r, nil
}

// drops reports whether the scenario breaks connections (a drop fault or
// a reconnect step), which needs the drop proxy.
func drops(s *scenarios.Scenario) bool {
	for _, f := range s.Faults {
		if f.Drop > 0 {
			return true
		}
	}
	var has func([]scenarios.Step) bool
	has = func(steps []scenarios.Step) bool {
		for _, st := range steps {
			if st.Kind == scenarios.StepReconnect || has(st.Steps) {
				return true
			}
		}
		return false
	}
	return has(s.Flow)
}

// useProxy routes the clients through a drop proxy to the target.
func (r *run) useProxy() error {
	u, err := url.Parse(r.target)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	p, err := newDropProxy(host)
	if err != nil {
		return err
	}
	r.proxy = p
	u.Host = p.ln.Addr().String()
	r.target = u.String()
	return nil
}

func nsOf(ns string) string {
	if ns == "" {
		return "/"
	}
	return ns
}

func (r *run) run(ctx context.Context) *metrics.Result {
	r.health = newSampler()
	realTarget := r.target
	if drops(r.s) {
		if err := r.useProxy(); err != nil {
			// Measured, not returned: every client would fail anyway.
			r.rec.Shard(0).Error(metrics.ErrHandshake)
		} else {
			defer r.proxy.close()
		}
	}
	r.start = time.Now()
	phase := r.s.Load.Phase()
	loadCtx, cancelLoad := context.WithDeadline(ctx, r.start.Add(phase))
	defer cancelLoad()
	graceCtx, cancelGrace := context.WithDeadline(ctx, r.start.Add(phase+r.s.Load.Grace))
	defer cancelGrace()
	r.loadCtx, r.graceCtx = loadCtx, graceCtx

	stopProgress := r.progress()
	stopFaults := r.faults()
	if r.s.Load.Model == scenarios.ModelOpen {
		r.arrivals()
	} else {
		r.ramp()
	}
	<-loadCtx.Done()

	// Grace: let flows finish in-flight acks and waits, but no longer
	// than the grace period.
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-graceCtx.Done():
	}
	cancelGrace()
	r.closeAll()
	select {
	case <-done:
	case <-time.After(r.opts.CloseTimeout):
	}
	stopProgress()
	stopFaults()
	r.health.stop()
	r.fan.flush(time.Time{})

	res := r.snapshot()
	res.Target = realTarget
	if err := ctx.Err(); err != nil {
		res.Partial = true
		res.StopReason = context.Cause(ctx).Error()
	}
	return res
}

func (r *run) snapshot() *metrics.Result {
	res := r.rec.Snapshot()
	res.Scenario = r.s.Name
	res.Transport = r.s.Transport
	res.Target = r.target
	res.Start = r.start
	res.Elapsed = metrics.Duration(time.Since(r.start))
	res.Health = r.health.snapshot()
	for _, t := range r.s.Thresholds {
		res.Thresholds = append(res.Thresholds, metrics.Threshold{Metric: t.Metric, Stat: t.Stat, Op: t.Op, Value: t.Value, Unit: t.Unit, Source: t.Source})
	}
	return res
}

// progress calls opts.Progress (if set) every interval until the
// returned stop function is called, and finalizes old broadcasts.
func (r *run) progress() (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.opts.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				// Broadcasts older than the longest wait get no more
				// deliveries worth waiting for.
				r.fan.flush(time.Now().Add(-2 * scenarios.DefaultTimeout))
				if r.opts.Progress == nil {
					continue
				}
				r.opts.Progress(Progress{Elapsed: time.Since(r.start), Phase: r.phase(), Snapshot: r.snapshot()})
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

func (r *run) phase() string {
	switch {
	case r.graceCtx.Err() != nil:
		return "closing"
	case r.loadCtx.Err() != nil:
		return "grace"
	case r.s.Load.Model == scenarios.ModelOpen:
		return "load"
	case time.Since(r.start) < r.s.Load.Ramp:
		return "ramp"
	}
	return "hold"
}

// sleepUntil waits until t or ctx's end; it reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ended reports whether ctx is done or past its deadline. A handshake cut
// short by the end of the load phase is not an error, but the transport's
// own deadline (the same instant) can fire before ctx's timer has marked
// it done: on a busy machine hundreds of handshakes in flight at the end
// were counted as handshake errors ("fasthttp: timeout") that way.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// ramp starts the closed model's clients, client i at start+ramp*i/N.
func (r *run) ramp() {
	l := r.s.Load
	for i := range l.Clients {
		at := r.start.Add(time.Duration(int64(l.Ramp) * int64(i) / int64(l.Clients)))
		if !sleepUntil(r.loadCtx, at) {
			return
		}
		r.launch(i, true)
	}
}

// arrivals starts the open model's clients on a fixed schedule.
func (r *run) arrivals() {
	l := r.s.Load
	interval := time.Duration(float64(time.Second) / l.ArrivalRate)
	shard := r.rec.Shard(0)
	for i := 0; ; i++ {
		at := r.start.Add(time.Duration(i) * interval)
		if at.Sub(r.start) >= l.Duration || !sleepUntil(r.loadCtx, at) {
			return
		}
		if r.active.Load() >= int64(l.MaxClients) {
			shard.Add(metrics.DroppedIterations, 1)
			continue
		}
		r.launch(i, false)
	}
}

func (r *run) launch(id int, hold bool) {
	c := newClient(r, id)
	r.mu.Lock()
	r.clients[id] = c
	r.mu.Unlock()
	r.active.Add(1)
	c.shard.Add(metrics.ClientsStarted, 1)
	r.wg.Go(func() {
		defer func() {
			r.active.Add(-1)
			r.mu.Lock()
			delete(r.clients, id)
			r.mu.Unlock()
		}()
		c.run(hold)
	})
}

// closeAll closes every client still running, concurrently: closing one
// over polling costs a round trip.
func (r *run) closeAll() {
	r.mu.Lock()
	cs := make([]*vclient, 0, len(r.clients))
	for _, c := range r.clients {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	for _, c := range cs {
		go c.close()
	}
}
