package conform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Collector follows a run through Config.Progress and keeps the results
// of the cases that finished before ctx ended, for the partial report of
// an interrupted run: a case still running when the interruption came was
// cut short, and its verdict (usually a timeout failure) says nothing
// about the server.
type Collector struct {
	ctx     context.Context
	next    func(Result)
	started time.Time
	mu      sync.Mutex
	results []Result
}

// NewCollector returns a collector for a run under ctx; next, if set, is
// called with every result kept (to show progress).
func NewCollector(ctx context.Context, next func(Result)) *Collector {
	return &Collector{ctx: ctx, next: next, started: time.Now()}
}

// Done is the Config.Progress callback. The engine serializes its calls,
// but a mutex costs nothing and does not rely on that.
func (c *Collector) Done(r Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.results = append(c.results, r)
	if c.next != nil {
		c.next(r)
	}
}

// Finished returns how many results were kept.
func (c *Collector) Finished() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.results)
}

// Partial is the report of an interrupted run: only the cases that
// finished before the interruption, in the order of cases, with
// Interrupted set when some of cases did not finish and CasesTotal =
// len(cases). rep is what Run returned, possibly nil (abandoned on a second
// Ctrl-C): the report then starts when the collector was made.
func (c *Collector) Partial(rep *Report, cases []*Case, target string, eio int) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &Report{Target: RedactURL(target), EIO: eio, Started: c.started, Duration: time.Since(c.started)}
	if rep != nil {
		out.Target, out.EIO, out.Started, out.Duration, out.Strict = rep.Target, rep.EIO, rep.Started, rep.Duration, rep.Strict
	}
	byID := map[string]Result{}
	for _, r := range c.results {
		byID[r.ID] = r
	}
	for _, cs := range cases {
		if r, ok := byID[cs.ID]; ok {
			out.Results = append(out.Results, r)
		}
	}
	out.CasesTotal = len(cases)
	out.Interrupted = len(out.Results) < len(cases)
	return out
}

// Collect runs run, one run of cases ([Run] or [RunClient]) to which it
// passes a [Collector]'s Done as the progress callback (next hears every
// result kept). When ctx has ended by the time run returns (possibly
// without a report and without an error: abandoned on a second Ctrl-C),
// the report is the collector's [Collector.Partial]: only the cases that
// finished, Interrupted set if some did not, and no error (the
// interruption is what matters); target and eio name it if run returned
// no report. Otherwise it returns what run returned.
func Collect(ctx context.Context, cases []*Case, target string, eio int, next func(Result),
	run func(progress func(Result)) (*Report, error)) (*Report, error) {
	col := NewCollector(ctx, next)
	rep, err := run(col.Done)
	if ctx.Err() != nil {
		return col.Partial(rep, cases, target, eio), nil
	}
	return rep, err
}

// ErrorReport stands in for the report of a target that could not be
// reached: every case has verdict error with the reason, so that a matrix
// still shows the target's column.
func ErrorReport(target string, eio int, cases []*Case, err error) *Report {
	rep := &Report{Target: RedactURL(target), EIO: eio, CasesTotal: len(cases)}
	for _, c := range cases {
		rep.Results = append(rep.Results, Result{
			ID: c.ID, Description: c.Description, Spec: c.Spec, Strength: c.Strength, Rule: c.Rule, Official: c.Official,
			Verdict: Error, Step: -1, Message: RedactURL(err.Error()),
		})
	}
	return rep
}

// MatrixTarget is one column of a matrix: a server (URL and its
// Engine.IO version) or a client program (Cmd, for the client cases).
type MatrixTarget struct {
	Name, URL string
	EIO       int
	// Cmd is the client program of a client matrix (RunClient's
	// ClientConfig.Cmd); URL is then empty.
	Cmd string
}

// label is how the target's reports name it: its origin, or its program.
func (t MatrixTarget) label() string {
	if t.Cmd != "" {
		return ClientTarget(t.Cmd)
	}
	return t.URL
}

// Matrix configures RunMatrix.
type Matrix struct {
	// Targets are run one after the other, each with its own cases
	// (Cases[i] for Targets[i]).
	Targets []MatrixTarget
	Cases   [][]*Case
	// Run runs one target's cases, calling progress with every finished
	// case ([Run] for a server, [RunClient] for a client program). A nil
	// report with a nil error means the run was abandoned (a second
	// Ctrl-C): the cases that finished make the target's partial report.
	Run func(ctx context.Context, t MatrixTarget, cases []*Case, progress func(Result)) (*Report, error)
	// Progress, if set, is called with each finished case of target i.
	Progress func(i int, r Result)
	// Unreachable, if set, is told why target i could not be run.
	Unreachable func(i int, err error)
	// Finished, if set, is called with target i's report once it ran to
	// its end (or could not be reached), before the next target starts.
	Finished func(i int, rep *Report)
}

// MatrixResult is what a matrix run found, target by target.
type MatrixResult struct {
	// Reports has one report per target; nil for a target not run
	// because of an interruption.
	Reports []*Report
	// Unreachable names the targets that could not be reached (their
	// report is an ErrorReport); Failed those with a failed or errored
	// case among the others, partial reports included.
	Unreachable, Failed []string
	// Interrupted is set when ctx ended before every case of every target
	// finished.
	Interrupted bool

	names []string // the targets' names, for Interruption
}

// Interruption says how much of an interrupted matrix finished, e.g.
// "interrupted: 1 of 3 targets finished (node4 stopped after 40 of 246
// cases)"; it is "" when the matrix was not interrupted. A user who
// stops a long matrix learns from it which columns are whole.
func (m *MatrixResult) Interruption() string {
	if !m.Interrupted {
		return ""
	}
	whole, partial := 0, ""
	for i, rep := range m.Reports {
		switch {
		case rep == nil:
		case rep.Interrupted:
			total := max(rep.CasesTotal, len(rep.Results))
			partial = fmt.Sprintf(" (%s stopped after %d of %d cases)", m.names[i], len(rep.Results), total)
		default:
			whole++
		}
	}
	noun := "targets"
	if len(m.Reports) == 1 {
		noun = "target"
	}
	return fmt.Sprintf("interrupted: %d of %d %s finished%s", whole, len(m.Reports), noun, partial)
}

// RunMatrix runs the cases against every target in turn. An unreachable
// target gets an error report and the others still run; an interruption
// stops at once, leaving the partial report of the target that was
// running and nil for those after it.
func RunMatrix(ctx context.Context, m Matrix) *MatrixResult {
	res := &MatrixResult{Reports: make([]*Report, len(m.Targets))}
	for _, t := range m.Targets {
		res.names = append(res.names, t.Name)
	}
	for i, t := range m.Targets {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		var next func(Result)
		if m.Progress != nil {
			next = func(r Result) { m.Progress(i, r) }
		}
		rep, err := Collect(ctx, m.Cases[i], t.label(), t.EIO, next, func(progress func(Result)) (*Report, error) {
			return m.Run(ctx, t, m.Cases[i], progress)
		})
		switch {
		case ctx.Err() != nil:
			res.Reports[i] = rep
			if rep.Interrupted {
				res.Interrupted = true
			}
			continue
		case rep == nil && err == nil:
			err = errors.New("conform: the run returned no report and no error")
			fallthrough
		case err != nil:
			res.Unreachable = append(res.Unreachable, t.Name)
			if m.Unreachable != nil {
				m.Unreachable(i, err)
			}
			rep = ErrorReport(t.label(), t.EIO, m.Cases[i], err)
		}
		res.Reports[i] = rep
		if m.Finished != nil {
			m.Finished(i, rep)
		}
	}
	for i, rep := range res.Reports {
		if rep != nil && rep.Failed() && !slices.Contains(res.Unreachable, m.Targets[i].Name) {
			res.Failed = append(res.Failed, m.Targets[i].Name)
		}
	}
	return res
}
