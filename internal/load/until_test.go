package load

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/scenarios"
)

// errRunDone is the cause runUntil ends a run with.
var errRunDone = errors.New("test: the run reached what the test waits for")

// runUntil runs s and ends it as soon as done is true of a progress
// snapshot (looked at every 50 ms). The scenario's load phase is only the
// bound, and should be long (a minute): the counts a test asserts are then
// reached however slow or busy the machine, and a fast one does not wait
// out the hold. The result is Partial (the run was cancelled); it fails
// the test, printing the counters, if the load phase ended first.
func runUntil(t *testing.T, s *scenarios.Scenario, opts Options, done func(*metrics.Result) bool) *metrics.Result {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	opts.ProgressInterval = 50 * time.Millisecond
	prev := opts.Progress
	opts.Progress = func(p Progress) {
		if prev != nil {
			prev(p)
		}
		if done(p.Snapshot) {
			cancel(errRunDone)
		}
	}
	res, err := Run(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if context.Cause(ctx) != errRunDone {
		t.Errorf("%s: the load phase (%v) ended before the run was done: counters %v, errors %v", s.Name, s.Load.Phase(), res.Counters, res.Errors)
	}
	return res
}
