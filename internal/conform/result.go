package conform

import "time"

// Verdict is the outcome of one case.
type Verdict string

// The verdicts a case can yield (docs/conformance.md §3.6).
const (
	// Pass: every step held.
	Pass Verdict = "pass"
	// Fail: the server did something the protocol forbids.
	Fail Verdict = "fail"
	// NA: the case needs an optional feature the server does not offer.
	NA Verdict = "n/a"
	// Info: the behaviour is allowed by the spec but differs from the
	// reference server.
	Info Verdict = "info"
	// Error: the case could not be run (target unreachable, broken case).
	Error Verdict = "error"
)

// Result is what one case found.
type Result struct {
	ID          string        `json:"id"`
	Description string        `json:"description"`
	Spec        string        `json:"spec"`
	Official    string        `json:"official,omitempty"`
	Verdict     Verdict       `json:"verdict"`
	Duration    time.Duration `json:"duration_ns"`
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
	Target   string        `json:"target"`
	EIO      int           `json:"eio"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Results  []Result      `json:"results"`
}

// Counts returns how many results have each verdict.
func (r *Report) Counts() map[Verdict]int {
	m := map[Verdict]int{}
	for _, res := range r.Results {
		m[res.Verdict]++
	}
	return m
}

// Failed reports whether any case failed or could not run.
func (r *Report) Failed() bool {
	for _, res := range r.Results {
		if res.Verdict == Fail || res.Verdict == Error {
			return true
		}
	}
	return false
}
