package metrics

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Threshold is one pass/fail condition, as parsed by the scenarios
// package (same fields; metrics does not import it).
type Threshold struct {
	Metric string  `json:"metric"`
	Stat   string  `json:"stat,omitempty"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Source string  `json:"source"`
}

// ThresholdResult is a Threshold judged against a Result.
type ThresholdResult struct {
	Threshold
	// Actual is the measured value in the threshold's unit.
	Actual float64
	// Display is Actual formatted for people ("12.3ms", "0.05%").
	Display string
	Pass    bool
	// Note explains a failure without data ("no samples").
	Note string
}

// unitScale converts a threshold value to microseconds.
var unitScale = map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}

// Evaluate judges t against r. A latency statistic without samples
// fails (a threshold on something that never happened is most likely a
// broken scenario), except count().
func (t Threshold) Evaluate(r *Result) ThresholdResult {
	tr := ThresholdResult{Threshold: t}
	secs := time.Duration(r.Elapsed).Seconds()
	var actual float64
	switch {
	case t.Metric == "errors" && t.Unit == "%":
		ops := r.Counters[Operations.String()]
		if ops > 0 {
			actual = 100 * float64(r.TotalErrors()) / float64(ops)
		} else if r.TotalErrors() > 0 {
			actual = 100
		}
		tr.Display = strconv.FormatFloat(actual, 'g', 4, 64) + "%"
	case r.isCounter(t.Metric):
		n := float64(r.counter(t.Metric))
		actual = n
		if t.Stat == "rate" {
			if secs > 0 {
				actual = n / secs
			} else {
				actual = 0
			}
			tr.Display = strconv.FormatFloat(actual, 'f', 1, 64) + "/s"
		} else {
			tr.Display = strconv.FormatFloat(actual, 'f', 0, 64)
		}
	default:
		h := r.Latency(t.Metric)
		if t.Stat == "count" {
			if h != nil {
				actual = float64(h.TotalCount())
			}
			tr.Display = strconv.FormatFloat(actual, 'f', 0, 64)
			break
		}
		if h == nil || h.TotalCount() == 0 {
			tr.Note = "no samples"
			tr.Display = "-"
			return tr
		}
		var v float64
		switch t.Stat {
		case "min":
			v = float64(h.Min())
		case "max":
			v = float64(h.Max())
		case "mean":
			v = h.Mean()
		default:
			p, err := strconv.ParseFloat(strings.TrimPrefix(t.Stat, "p"), 64)
			if err != nil {
				tr.Note = "unknown statistic " + t.Stat
				return tr
			}
			v = float64(h.ValueAtQuantile(p))
		}
		scale := unitScale[t.Unit]
		if scale == 0 {
			scale = 1
		}
		actual = v / scale
		tr.Display = us(int64(v)).String()
	}
	tr.Actual = actual
	tr.Pass = compare(actual, t.Op, t.Value)
	return tr
}

func (r *Result) isCounter(name string) bool {
	switch name {
	case "errors", "disconnects", "clients_connected":
		return true
	}
	_, ok := r.Counters[name]
	if !ok {
		for _, n := range counterNames {
			if n == name {
				return true
			}
		}
	}
	return ok
}

func (r *Result) counter(name string) int64 {
	switch name {
	case "errors":
		return r.TotalErrors()
	case "disconnects":
		var n int64
		for _, v := range r.Disconnects {
			n += v
		}
		return n
	case "clients_connected":
		return r.PeakClients
	}
	return r.Counters[name]
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// String formats the result as "p99(ack) < 50ms: 12ms pass".
func (tr ThresholdResult) String() string {
	verdict := "pass"
	if !tr.Pass {
		verdict = "FAIL"
	}
	if tr.Note != "" {
		return fmt.Sprintf("%s: %s %s (%s)", tr.Source, tr.Display, verdict, tr.Note)
	}
	return fmt.Sprintf("%s: %s %s", tr.Source, tr.Display, verdict)
}
