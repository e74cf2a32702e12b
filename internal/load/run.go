package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/socketio"
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
	// Interval is the timeline's interval (default 1 s): the result's
	// Timeline gets one entry per interval.
	Interval time.Duration
	// CloseTimeout bounds the closing of the connections after the run
	// (default 5 s): a server that never answers must not hang sioload.
	// After an interruption (ctx cancelled) the bound is at most
	// InterruptCloseTimeout: Ctrl-C must answer quickly.
	CloseTimeout time.Duration
	// Abort, when closed, ends the closing at once (a second Ctrl-C):
	// Run returns the results it has without waiting for the clients.
	Abort <-chan struct{}
	// Restart restarts the target, keeping it down for the given time:
	// the restart_target fault. Only the built-in target can be
	// restarted ([Builtin.Restart]); a scenario with such a fault is
	// refused when Restart is nil.
	Restart func(down time.Duration) error
	// Reconnect overrides the clients' reconnection policy; the zero
	// value is the reference client's (1 s doubling to 5 s, ±50 %).
	Reconnect client.Reconnect
	// Segment makes the run one part of several (sioload run --segment):
	// see [Segment]. The zero value runs the whole scenario.
	Segment Segment
	// StartAt, when set, is the instant the run starts (its time zero):
	// parts started on several processes or machines start together.
	// Run refuses it more than a second in the past or more than
	// MaxStartWait ahead; the wait ends early when ctx ends.
	StartAt time.Time
}

// InterruptCloseTimeout bounds the closing of the connections after the
// run's context was cancelled.
const InterruptCloseTimeout = time.Second

// Progress is one live progress report.
type Progress struct {
	Elapsed time.Duration
	// Phase is "ramp", "hold", "load" (open model), "grace" or "closing".
	Phase string
	// PhaseElapsed is the time spent in the phase so far and PhaseLength
	// its planned length (0 when open-ended: closing).
	PhaseElapsed, PhaseLength time.Duration
	// Multi is set when the scenario has several phases (a ramp) or a
	// fault plan: the progress line then says where it is and what
	// happened last.
	Multi bool
	// Last is the latest fault or threshold breach, if any (HasLast).
	Last    metrics.Marker
	HasLast bool
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
	// targets, when the scenario names several, are used round robin by client id (target
	// then only names them in the report).
	targets []string
	rec     *metrics.Recorder
	start   time.Time

	loadCtx  context.Context // ends when the load phase ends
	loadEnd  time.Time       // loadCtx's deadline
	graceCtx context.Context // ends when the grace ends

	waited map[string]bool // event names some wait step waits for
	echoed map[string]bool // event names both emitted and waited for: round trips tracked for loss
	nsps   []string        // namespaces the flow uses

	proxy  *dropProxy // set when the scenario drops connections
	rooms  rooms
	fan    *fanout
	health *sampler
	reach  reach

	tls *tls.Config // shared by every client (nil: Go's defaults)
	tl  *metrics.TimelineBuilder

	mu      sync.Mutex
	clients map[int]*vclient
	active  atomic.Int64
	wg      sync.WaitGroup
}

func newRun(s *scenarios.Scenario, opts Options) (*run, error) {
	if err := CheckSegment(s, opts.Segment); err != nil {
		return nil, err
	}
	target := opts.Target
	if target == "" {
		target = s.Target
	}
	var targets []string
	if target == "" && len(s.Targets) > 0 {
		targets = s.Targets
		target = strings.Join(targets, ", ") // for the report
		if drops(s) {
			return nil, fmt.Errorf("%w: drops and the reconnect step need a single target, not targets", ErrUnsupported)
		}
	}
	if target == "" {
		return nil, errors.New("load: no target URL (the scenario's target is empty and none was given)")
	}
	for i, f := range s.Faults {
		if f.RestartTarget && opts.Restart == nil {
			return nil, fmt.Errorf("%w: faults[%d]: restart_target needs the built-in target", ErrUnsupported, i)
		}
	}
	if err := CheckStartAt(opts.StartAt, time.Now()); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if opts.Shards <= 0 {
		opts.Shards = 4 * runtime.GOMAXPROCS(0)
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 5 * time.Second
	}
	tlsConfig, err := s.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("load: tls: %w", err)
	}
	r := &run{s: s, opts: opts, target: target, targets: targets, rec: metrics.NewRecorder(opts.Shards),
		waited: map[string]bool{}, echoed: map[string]bool{}, clients: map[int]*vclient{}}
	r.tls = tlsConfig
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
	t, err := socketio.ParseTarget(r.target)
	if err != nil {
		return err
	}
	p, err := newDropProxy(t.HostPort())
	if err != nil {
		return err
	}
	r.proxy = p
	u := url.URL{Scheme: t.Scheme, User: t.User, Host: p.ln.Addr().String(), Path: t.Path, RawQuery: t.RawQuery, Fragment: t.Fragment}
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
	realTarget := r.target
	if drops(r.s) {
		if err := r.useProxy(); err != nil {
			// Measured, not returned: every client would fail anyway.
			r.rec.Shard(0).ErrorCause(metrics.ErrHandshake, fmt.Errorf("drop proxy: %w", err))
		} else {
			defer r.proxy.close()
		}
	}
	r.start = time.Now()
	if !r.opts.StartAt.IsZero() {
		// Time zero is the agreed instant, not when the wait ended, so the
		// parts' schedules line up to the timer's precision.
		sleepUntil(ctx, r.opts.StartAt)
		r.start = r.opts.StartAt
		if ctx.Err() != nil {
			r.start = time.Now()
		}
	}
	// The sampler starts with the run, after any --start-at wait: a
	// worker's mean CPU was over its life, the wait included (45 % where
	// the run used 60 %).
	r.health = newSampler()
	r.tl = metrics.NewTimelineBuilder(r.start, r.opts.Interval)
	phase := r.s.Load.Phase()
	loadCtx, cancelLoad := context.WithDeadline(ctx, r.start.Add(phase))
	defer cancelLoad()
	graceCtx, cancelGrace := context.WithDeadline(ctx, r.start.Add(phase+r.s.Load.Grace))
	defer cancelGrace()
	r.loadCtx, r.graceCtx = loadCtx, graceCtx
	r.loadEnd = r.start.Add(phase)

	stopProgress := r.progress()
	stopFaults := r.faults()
	if r.s.Load.Model == scenarios.ModelOpen {
		r.arrivals()
	} else {
		r.ramp()
	}
	<-loadCtx.Done()
	unreachable, gone := r.reach.unreachable(r.start, r.rec.ClientsConnected())
	r.closeHeld()

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
	closeWait := r.opts.CloseTimeout
	if ctx.Err() != nil {
		closeWait = min(closeWait, InterruptCloseTimeout)
	}
	select {
	case <-done:
	case <-time.After(closeWait):
	case <-r.opts.Abort:
	}
	stopProgress()
	stopFaults()
	r.health.stop()
	r.fan.flush(time.Time{})

	// The last interval closes on the very snapshot that is the result,
	// so that the intervals sum to the totals exactly.
	res := r.snapshot()
	r.tl.Close(time.Now(), res, r.phase(), r.health.interval(time.Now()))
	tl, err := r.tl.Timeline()
	res.Timeline = tl
	if err != nil {
		res.TimelineError = err.Error()
	}
	res.Target = realTarget
	res.Segment = r.opts.Segment.result()
	if err := ctx.Err(); err != nil {
		res.Partial = true
		res.StopReason = context.Cause(ctx).Error()
	}
	if gone {
		// The run went on, but measured nothing from then on.
		res.Partial, res.Failed, res.FailReason = true, true, unreachable
		if res.StopReason == "" {
			res.StopReason = unreachable
		}
	}
	res.Judge(r.s.MaxErrorRate)
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

// progress closes a timeline interval every opts.Interval and calls
// opts.Progress (if set) every opts.ProgressInterval, both from one
// snapshot of the shards when they coincide, until the returned stop
// function is called; it also finalizes old broadcasts.
func (r *run) progress() (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	tick := min(r.opts.Interval, r.opts.ProgressInterval)
	wg.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		lastClose, lastProgress := r.start, r.start
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				// Broadcasts older than the longest wait get no more
				// deliveries worth waiting for.
				r.fan.flush(time.Now().Add(-2 * scenarios.DefaultTimeout))
				closeIv := now.Sub(lastClose) >= r.opts.Interval-tick/2
				report := r.opts.Progress != nil && now.Sub(lastProgress) >= r.opts.ProgressInterval-tick/2
				if !closeIv && !report {
					continue
				}
				snap := r.snapshot()
				phase := r.phase()
				if closeIv {
					at := time.Now()
					r.tl.Close(at, snap, phase, r.health.interval(at))
					lastClose = now
				}
				if report {
					lastProgress = now
					r.opts.Progress(r.progressReport(phase, snap))
				}
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

// progressReport says where the run is: its phase, the time spent in
// it, and the last fault or breach.
func (r *run) progressReport(phase string, snap *metrics.Result) Progress {
	el := time.Since(r.start)
	l := r.s.Load
	p := Progress{Elapsed: el, Phase: phase, Snapshot: snap, Multi: len(r.s.Faults) > 0 || len(r.s.Thresholds) > 0 || l.Ramp > 0}
	switch phase {
	case "ramp":
		p.PhaseElapsed, p.PhaseLength = el, l.Ramp
	case "hold":
		p.PhaseElapsed, p.PhaseLength = el-l.Ramp, l.Hold
	case "load":
		p.PhaseElapsed, p.PhaseLength = el, l.Duration
	case "grace":
		p.PhaseElapsed, p.PhaseLength = el-l.Phase(), l.Grace
	default:
		p.PhaseElapsed = el - l.Phase() - l.Grace
	}
	p.PhaseElapsed = max(p.PhaseElapsed, 0)
	p.Last, p.HasLast = r.tl.LastEvent()
	return p
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
		if !r.opts.Segment.has(i) {
			continue
		}
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
	maxClients := int64(r.opts.Segment.share(l.MaxClients))
	for i := 0; ; i++ {
		at := r.start.Add(time.Duration(i) * interval)
		if at.Sub(r.start) >= l.Duration {
			return
		}
		if !r.opts.Segment.has(i) {
			continue
		}
		if !sleepUntil(r.loadCtx, at) {
			return
		}
		if r.active.Load() >= maxClients {
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
	r.wg.Add(1)
	go func() {
		if !c.run(hold) {
			r.release(c)
		} // else held: endHold releases it
	}()
}

// release forgets a client whose flow and closing are over.
func (r *run) release(c *vclient) {
	r.active.Add(-1)
	r.mu.Lock()
	delete(r.clients, c.id)
	r.mu.Unlock()
	r.wg.Done()
}

// heldClosers bounds the goroutines that close the held clients at the
// end of the load: one per client would bring back, at the very end, the
// stacks that holding without goroutines saved (and the peak memory the
// run reports). A WebSocket closes in microseconds, a polling session in
// a round trip: 256 at a time close thousands well within CloseTimeout.
const heldClosers = 256

// closeHeld ends the held clients when the load ends.
func (r *run) closeHeld() {
	r.mu.Lock()
	var held []*vclient
	for _, c := range r.clients {
		if c.held.Load() {
			held = append(held, c)
		}
	}
	r.mu.Unlock()
	next := make(chan *vclient, len(held))
	for _, c := range held {
		next <- c
	}
	close(next)
	for range min(len(held), heldClosers) {
		go func() {
			for c := range next {
				c.endHold()
			}
		}()
	}
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
