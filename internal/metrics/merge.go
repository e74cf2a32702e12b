package metrics

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Segment names one of Count parts of a run (Index from 0).
type Segment struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// NotResult says why a decoded JSON document is not a run result (""
// when it is one): a result always names its scenario and its start and
// has counters, so `{}` or another tool's JSON is refused rather than
// reported as an empty run.
func NotResult(r *Result) string {
	var missing []string
	if r == nil {
		return "null, not a sioload result"
	}
	if r.Scenario == "" {
		missing = append(missing, "scenario")
	}
	if r.Start.IsZero() {
		missing = append(missing, "start")
	}
	if r.Counters == nil {
		missing = append(missing, "counters")
	}
	if r.Runs < 1 {
		missing = append(missing, "runs")
	}
	if len(missing) > 0 {
		return "not a sioload run result (no " + strings.Join(missing, ", ") + "); want a file written by sioload run --out or compare --out"
	}
	if s := r.Segment; s != nil && (s.Count < 1 || s.Index < 0 || s.Index >= s.Count) {
		return fmt.Sprintf("segment %d/%d is not a part of a run (want 0 <= index < count)", s.Index, s.Count)
	}
	return ""
}

// CheckMerge says why the results rs (named by names, the files they
// came from) must not be merged into one: they are of different
// scenarios or targets, whose sum would mean nothing, or segments of a
// run that repeat a part (counted twice) or mix part counts. Missing
// parts are not refused here: see [MissingSegments].
func CheckMerge(rs []*Result, names []string) error {
	if len(rs) == 0 {
		return nil
	}
	first := rs[0]
	for i, r := range rs[1:] {
		if r.Scenario != first.Scenario {
			return fmt.Errorf("%s is a run of scenario %q but %s of %q: runs of different scenarios do not merge (--force shows each)", names[0], first.Scenario, names[i+1], r.Scenario)
		}
		if r.Target != first.Target {
			return fmt.Errorf("%s ran against %q but %s against %q: runs against different targets do not merge (--force shows each)", names[0], first.Target, names[i+1], r.Target)
		}
	}
	var seg, whole []string
	count := 0
	seen := map[int]string{}
	for i, r := range rs {
		if r.Segment == nil {
			whole = append(whole, names[i])
			continue
		}
		seg = append(seg, names[i])
		if count == 0 {
			count = r.Segment.Count
		} else if r.Segment.Count != count {
			return fmt.Errorf("%s is part %d/%d but other files are parts of %d: segments of different splits do not merge", names[i], r.Segment.Index, r.Segment.Count, count)
		}
		if prev, ok := seen[r.Segment.Index]; ok {
			return fmt.Errorf("part %d/%d is repeated (%s and %s): it would be counted twice", r.Segment.Index, count, prev, names[i])
		}
		seen[r.Segment.Index] = names[i]
	}
	if len(seg) > 0 && len(whole) > 0 {
		return fmt.Errorf("%s is a part of a run (segment) but %s is a whole run: they do not merge", seg[0], whole[0])
	}
	return nil
}

// CheckSimultaneous says why whole runs rs (named by names) must not be
// summed into one even though CheckMerge allows it: a run that did not
// overlap the first in time, or used another transport. Counts of runs
// one after another add up, but their rates (over the longest elapsed)
// and peak clients (summed) would be those of a load that never ran.
// Segments are left to CheckMerge. An overlay of runs (the HTML report)
// needs neither.
func CheckSimultaneous(rs []*Result, names []string) error {
	var first *Result
	var firstName string
	for i, r := range rs {
		if r == nil || r.Segment != nil {
			continue
		}
		if first == nil {
			first, firstName = r, names[i]
			continue
		}
		if r.Transport != first.Transport {
			return fmt.Errorf("%s ran over %s but %s over %s: runs of different transports do not merge (--force shows each, --format html overlays them)", firstName, first.Transport, names[i], r.Transport)
		}
		aEnd, bEnd := first.Start.Add(time.Duration(first.Elapsed)), r.Start.Add(time.Duration(r.Elapsed))
		if !r.Start.Before(aEnd) || !first.Start.Before(bEnd) {
			return fmt.Errorf("%s ran %s–%s and %s %s–%s: runs one after another do not merge, their rates and peaks would be of a load that never ran (--force shows each, --format html overlays them)",
				firstName, first.Start.Format(time.TimeOnly), aEnd.Format(time.TimeOnly), names[i], r.Start.Format(time.TimeOnly), bEnd.Format(time.TimeOnly))
		}
	}
	return nil
}

// MissingSegments lists the parts absent from rs when they are segments
// of one run ("1/3, 2/3"), or "" when none is missing or rs are whole
// runs. rs must have passed CheckMerge.
func MissingSegments(rs []*Result) string {
	count := 0
	have := map[int]bool{}
	for _, r := range rs {
		if r.Segment != nil {
			count = r.Segment.Count
			have[r.Segment.Index] = true
		}
	}
	var missing []string
	for i := range count {
		if !have[i] {
			missing = append(missing, fmt.Sprintf("%d/%d", i, count))
		}
	}
	return strings.Join(missing, ", ")
}

// mergeSegments sets the merged result's segment: nil when the parts
// make a whole run (or none is a part), else the first part's, so a
// result still missing parts does not pass for a whole one.
func mergeSegments(out *Result, rs []*Result) {
	var idx []int
	for _, r := range rs {
		if r != nil && r.Segment != nil {
			idx = append(idx, r.Segment.Index)
			if out.Segment == nil {
				s := *r.Segment
				out.Segment = &s
			}
		}
	}
	if out.Segment == nil {
		return
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	if len(idx) == out.Segment.Count {
		out.Segment = nil
	}
}
