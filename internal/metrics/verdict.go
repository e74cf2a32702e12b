package metrics

import "fmt"

// Outcome is what a run amounts to, in rising precedence: when several
// apply, the highest wins (README "Exit status").
type Outcome int

// Outcomes of a run.
const (
	// Passed: the run completed and every threshold held.
	Passed Outcome = iota
	// ThresholdsFailed: the run completed and at least one threshold
	// failed.
	ThresholdsFailed
	// Partial: the run was stopped early (interrupted); its results are
	// what was gathered until then.
	Partial
	// Failed: the run failed (Result.Judge): no client connected, the
	// target became unreachable, or errors above max_error_rate. A run
	// that failed says nothing about the target's thresholds, so this
	// comes first.
	Failed
)

// Verdict is the engine's judgement of one run, or of several runs shown
// side by side (compare); the command maps it to an exit status.
type Verdict struct {
	Outcome Outcome
	// Message is one line for the person, "" when the run passed.
	Message string
	// FailedThresholds counts the thresholds that failed, over every run.
	FailedThresholds int
}

// Decide judges sums. partial and reason describe the whole invocation
// (an interrupt stops every run of a compare); each summary's own Result
// says whether that run failed.
func Decide(sums []*Summary, partial bool, reason string) Verdict {
	var v Verdict
	for _, s := range sums {
		for _, t := range s.Thresholds {
			if !t.Pass {
				v.FailedThresholds++
			}
		}
	}
	for _, s := range sums {
		if r := s.Result; r != nil && r.Failed {
			v.Outcome = Failed
			if len(sums) > 1 {
				v.Message = fmt.Sprintf("run failed (%s): %s", r.Transport, r.FailReason)
			} else {
				v.Message = "run failed: " + r.FailReason
			}
			return v
		}
	}
	switch {
	case partial:
		v.Outcome = Partial
		v.Message = fmt.Sprintf("run stopped early (%s); results above are partial", reason)
	case v.FailedThresholds > 0:
		v.Outcome = ThresholdsFailed
		v.Message = fmt.Sprintf("%d threshold(s) failed", v.FailedThresholds)
	}
	return v
}
