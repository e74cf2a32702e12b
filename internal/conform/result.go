package conform

import (
	"fmt"
	"time"
)

// Verdict is the outcome of one case.
type Verdict string

// The verdicts a case can yield (docs/conformance.md §3.6).
const (
	// Pass: every step held.
	Pass Verdict = "pass"
	// Fail: the server broke a rule of strength must: a MUST of the spec
	// or a documented Socket.IO guarantee.
	Fail Verdict = "fail"
	// Warn: the server broke a rule of strength should (a SHOULD of the
	// spec). It is shown and counted but fails a run only with --strict,
	// like Autobahn's NON-STRICT.
	Warn Verdict = "warn"
	// NA: the case needs an optional feature the server does not offer.
	NA Verdict = "n/a"
	// Info: the server differs from the reference where the spec leaves
	// the behaviour open (a rule of strength open).
	Info Verdict = "info"
	// Error: the case could not be run (target unreachable, broken case).
	Error Verdict = "error"
)

// Result is what one case found.
type Result struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Spec        string `json:"spec"`
	// Strength is the strength of the rule the case checks (must, should
	// or open): what a broken rule yields (fail, warn or info).
	Strength Strength `json:"strength,omitempty"`
	// Rule is the sentence of the spec (or the documented behaviour) the
	// case checks.
	Rule     string        `json:"rule,omitempty"`
	Official string        `json:"official,omitempty"`
	Verdict  Verdict       `json:"verdict"`
	Duration time.Duration `json:"duration_ns"`
	// Step is the index of the step that decided a non-pass verdict, -1
	// when none did.
	Step int `json:"step"`
	// Message says in one line what was expected and what came.
	Message string `json:"message,omitempty"`
	// Diff is a readable, possibly multi-line, comparison of expected and
	// received.
	Diff string `json:"diff,omitempty"`
	// Trace is every request, response, frame and close, in order.
	Trace []TraceEntry `json:"trace,omitempty"`
}

// TraceEntry is one thing sent or received during a case.
type TraceEntry struct {
	At      time.Duration `json:"at_ns"` // since the case started
	Dir     string        `json:"dir"`   // "send" or "recv"
	Kind    string        `json:"kind"`  // "http", "ws-open", "text", "binary", "close", "error"
	Conn    string        `json:"conn"`  // "http" or the WebSocket's name
	Summary string        `json:"summary"`
}

// Report is one run of a set of cases against one target.
type Report struct {
	Target string `json:"target"`
	EIO    int    `json:"eio"`
	// Started is when the run began; left out of the JSON when unknown.
	Started  time.Time     `json:"started,omitzero"`
	Duration time.Duration `json:"duration_ns"`
	// Strict makes a warn count as a failure (sioconform run --strict).
	Strict bool `json:"strict,omitempty"`
	// Interrupted is set when the run was stopped (Ctrl-C) before every
	// selected case finished: Results hold only the cases that finished,
	// and the report cannot say whether the target conforms.
	Interrupted bool `json:"interrupted,omitempty"`
	// CasesTotal is how many cases were selected for the run (of which
	// len(Results) finished when Interrupted); 0 when unknown.
	CasesTotal int      `json:"cases_total,omitempty"`
	Results    []Result `json:"results"`
}

// Interruption says how much of an interrupted run finished, e.g.
// "interrupted: 190 of 251 cases finished"; it is "" when the run was not
// interrupted. Every renderer shows it in place of a verdict, and
// sioconform prints it on stderr.
func (r *Report) Interruption() string {
	if !r.Interrupted {
		return ""
	}
	total := max(r.CasesTotal, len(r.Results))
	noun := "cases"
	if total == 1 {
		noun = "case"
	}
	return fmt.Sprintf("interrupted: %d of %d %s finished", len(r.Results), total, noun)
}

// Counts returns how many results have each verdict.
func (r *Report) Counts() map[Verdict]int {
	m := map[Verdict]int{}
	for _, res := range r.Results {
		m[res.Verdict]++
	}
	return m
}

// Failed reports whether any case failed or could not run, or, in a
// strict run, broke a rule of strength should.
func (r *Report) Failed() bool {
	for _, res := range r.Results {
		if r.Fails(res.Verdict) {
			return true
		}
	}
	return false
}

// Fails reports whether a result with verdict v fails the run: fail and
// error always, warn only when the run is strict.
func (r *Report) Fails(v Verdict) bool {
	return v == Fail || v == Error || (v == Warn && r.Strict)
}

// Strength is how strong the rule a case checks is; it decides the verdict
// when the server breaks it.
type Strength string

// The strengths a case can declare (docs/conformance.md §2).
const (
	// Must: a MUST of the spec or a documented Socket.IO guarantee;
	// broken, the case fails.
	Must Strength = "must"
	// Should: a SHOULD of the spec; broken, the case warns.
	Should Strength = "should"
	// Open: the spec leaves the behaviour open and the case checks the
	// reference's choice; a difference is info.
	Open Strength = "open"
	// MustRef: a MUST of the spec that the reference server (socket.io
	// 4.8.4) breaks itself; broken, the case warns, so that a gate does not
	// fail every server built on the reference for it, and --strict fails it.
	MustRef Strength = "must-ref"
)

// Broken is the verdict of a case of strength s whose rule did not hold.
func (s Strength) Broken() Verdict {
	switch s {
	case Should, MustRef:
		return Warn
	case Open:
		return Info
	}
	return Fail
}
