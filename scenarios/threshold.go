package scenarios

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// LatencyMetrics are the histogram metrics of docs/sioload.md §2.
var LatencyMetrics = []string{"handshake", "upgrade", "connect", "ack", "event", "fanout_first", "fanout_median", "fanout_last", "reconnect"}

// CounterMetrics are the counters a threshold may name; "errors" with a
// "%" unit is the share of failed operations.
var CounterMetrics = []string{"messages_sent", "messages_received", "bytes_sent", "bytes_received", "acks", "ack_timeouts", "errors", "operations", "reconnect_attempts", "reconnects", "recovered", "dropped_iterations", "disconnects", "clients_connected"}

// Stats a threshold may apply: percentiles p0..p100 (p99.9 included),
// min, max, mean, count (histograms) and rate (counters, per second).
var thresholdRE = regexp.MustCompile(`^\s*(?:([a-z][a-z0-9.]*)\(\s*([a-z_]+)\s*\)|([a-z_]+))\s*(<=|>=|==|!=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*(us|µs|ms|s|%)?\s*$`)

// ParseThreshold parses "p99(ack) < 50ms", "errors < 0.1%",
// "rate(messages_received) > 1000" and the like.
func ParseThreshold(src string) (Threshold, error) {
	m := thresholdRE.FindStringSubmatch(src)
	if m == nil {
		return Threshold{}, fmt.Errorf("cannot parse threshold %q (want e.g. \"p99(ack) < 50ms\", \"errors < 1%%\", \"rate(acks) > 100\")", src)
	}
	t := Threshold{Stat: m[1], Metric: m[2], Op: m[4], Unit: m[6], Source: strings.TrimSpace(src)}
	if m[3] != "" {
		t.Metric = m[3]
	}
	if t.Unit == "µs" {
		t.Unit = "us"
	}
	t.Value, _ = strconv.ParseFloat(m[5], 64)
	latency := contains(LatencyMetrics, t.Metric)
	counter := contains(CounterMetrics, t.Metric)
	if !latency && !counter {
		return t, fmt.Errorf("threshold %q: unknown metric %q", src, t.Metric)
	}
	switch {
	case t.Stat == "":
		if latency {
			return t, fmt.Errorf("threshold %q: latency metric %q needs a statistic such as p99(%s)", src, t.Metric, t.Metric)
		}
		if t.Unit != "" && t.Unit != "%" || t.Unit == "%" && t.Metric != "errors" {
			return t, fmt.Errorf("threshold %q: unit %q does not apply to %s", src, t.Unit, t.Metric)
		}
	case t.Stat == "rate" || t.Stat == "count" && counter:
		if !counter {
			return t, fmt.Errorf("threshold %q: %s() applies to counters, not to %s", src, t.Stat, t.Metric)
		}
		if t.Unit != "" {
			return t, fmt.Errorf("threshold %q: unit %q does not apply to %s()", src, t.Unit, t.Stat)
		}
	default:
		if !latency {
			return t, fmt.Errorf("threshold %q: %s() applies to latency metrics, not to %s", src, t.Stat, t.Metric)
		}
		if !validStat(t.Stat) {
			return t, fmt.Errorf("threshold %q: unknown statistic %q (want p50, p90, p99, p99.9, min, max, mean or count)", src, t.Stat)
		}
		if t.Stat != "count" && (t.Unit == "" || t.Unit == "%") && t.Value != 0 {
			return t, fmt.Errorf("threshold %q: latency needs a unit (us, ms or s)", src)
		}
	}
	return t, nil
}

func validStat(s string) bool {
	switch s {
	case "min", "max", "mean", "count":
		return true
	}
	if p, ok := strings.CutPrefix(s, "p"); ok {
		v, err := strconv.ParseFloat(p, 64)
		return err == nil && v >= 0 && v <= 100
	}
	return false
}

// Percentile returns the percentile a "pNN" statistic names, or false.
func (t Threshold) Percentile() (float64, bool) {
	p, ok := strings.CutPrefix(t.Stat, "p")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(p, 64)
	return v, err == nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
