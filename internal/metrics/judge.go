package metrics

import (
	"fmt"
	"sort"
	"strconv"
)

// Judge decides whether the run failed (docs/sioload.md §4) and sets
// Failed and FailReason, unless the engine already did (the target
// became unreachable). A run has failed when
//   - no client ever connected (no Engine.IO handshake succeeded), or
//   - its errors per operation are above maxErrorRate (a bound of 1 or
//     more turns this check off).
//
// The reason names the most frequent error and its message.
func (r *Result) Judge(maxErrorRate float64) {
	if r.Failed {
		return
	}
	fail := func(reason string) {
		r.Failed = true
		if c := r.MainCause(); c != "" {
			reason += ": " + c
		}
		r.FailReason = reason
	}
	if r.PeakClients == 0 {
		if r.TotalErrors() == 0 {
			// Handshakes still under way when the load ended count no
			// error: say so rather than give no cause.
			r.Failed = true
			r.FailReason = fmt.Sprintf("no client connected (%d started): no handshake completed before the load ended", r.Counters[ClientsStarted.String()])
			return
		}
		fail(fmt.Sprintf("no client connected (%d started)", r.Counters[ClientsStarted.String()]))
		return
	}
	if maxErrorRate >= 1 {
		return
	}
	errs, ops := r.TotalErrors(), r.Counters[Operations.String()]
	rate := 0.0
	switch {
	case ops > 0:
		rate = float64(errs) / float64(ops)
	case errs > 0:
		rate = 1
	}
	if rate > maxErrorRate {
		fail(fmt.Sprintf("errors %s of operations (%d of %d), above max_error_rate %s", pct(rate), errs, ops, pct(maxErrorRate)))
	}
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" }

// MainCause describes the kind with the most errors and its most
// frequent message: "handshake_error x20: dial tcp ...: connection
// refused" (x counts the errors with that message). It is "" when there
// are no errors.
func (r *Result) MainCause() string {
	kinds := sortedKeys(r.Errors)
	sort.SliceStable(kinds, func(i, j int) bool { return r.Errors[kinds[i]] > r.Errors[kinds[j]] })
	for _, k := range kinds {
		if r.Errors[k] == 0 {
			continue
		}
		if c := r.Causes[k]; c != nil && len(c.Top) > 0 {
			top := c.Top[0]
			for _, x := range c.Top[1:] {
				if x.Count > top.Count {
					top = x
				}
			}
			return fmt.Sprintf("%s x%d: %s", k, top.Count, top.Message)
		}
		return fmt.Sprintf("%s x%d", k, r.Errors[k])
	}
	return ""
}
