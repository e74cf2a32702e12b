package reports

// Load-test renderers (sioload, docs/sioload.md §4): the end summary of a
// run, the side-by-side comparison of runs and the JSON result. They take
// the *metrics.Summary / *metrics.Result the load engine produced.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/siokit/siokit/internal/metrics"
)

// LoadSummary writes the end summary of a run: a header line, then a table
// with one row per latency metric (count, min, p50, p90, p99, p99.9, max,
// mean), then counters with their rates, errors by kind, disconnect
// reasons, events received by name, thresholds (pass/FAIL), generator
// health and warnings. It returns the first write error.
func LoadSummary(w io.Writer, s *metrics.Summary) error {
	bw := bufio.NewWriter(w)
	r := s.Result
	fmt.Fprintf(bw, "scenario %s  transport %s  target %s  elapsed %s", r.Scenario, r.Transport, r.Target, loadDur(time.Duration(r.Elapsed)))
	if r.Runs > 1 {
		fmt.Fprintf(bw, "  (%d runs merged)", r.Runs)
	}
	fmt.Fprintln(bw)

	if len(s.Latency) > 0 {
		t := loadTable(bw, 1, 2, 3, 4, 5, 6, 7, 8)
		t.Header("Latency", "Count", "Min", "p50", "p90", "p99", "p99.9", "Max", "Mean")
		for _, st := range s.Latency {
			t.Append(loadLatencyRow(st)...)
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("reports: latency table: %w", err)
		}
	} else {
		fmt.Fprintln(bw, "no latency samples")
	}

	t := loadTable(bw, 1, 2)
	t.Header("Counter", "Total", "Rate")
	for _, c := range s.Counters {
		t.Append(c.Name, strconv.FormatInt(c.Count, 10), loadRate(c.Rate))
	}
	t.Append("clients_connected (peak)", strconv.FormatInt(r.PeakClients, 10), "")
	t.Append("errors", strconv.FormatInt(r.TotalErrors(), 10), loadPct(s.ErrorRate)+" of operations")
	for _, group := range []struct {
		prefix string
		rows   []metrics.NamedCount
	}{{"error ", s.Errors}, {"disconnect ", s.Disconnects}, {"received ", s.Events}, {"sessions on node ", s.Nodes}} {
		for _, c := range group.rows {
			t.Append(group.prefix+c.Name, strconv.FormatInt(c.Count, 10), loadRate(c.Rate))
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("reports: counter table: %w", err)
	}

	loadCauses(bw, r)

	if len(s.Thresholds) > 0 {
		t := loadTable(bw, 1)
		t.Header("Threshold", "Actual", "Result")
		for _, th := range s.Thresholds {
			verdict := "pass"
			if !th.Pass {
				verdict = "FAIL"
			}
			if th.Note != "" {
				verdict += " (" + th.Note + ")"
			}
			t.Append(th.Source, th.Display, verdict)
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("reports: threshold table: %w", err)
		}
	}
	if st := s.Reach; st != nil {
		// Per mille in the histogram (metrics.FanoutReach).
		fmt.Fprintf(bw, "fan-out reach (receivers / room members at send): %d broadcasts, min %.1f%%, p50 %.1f%%, max %.1f%%\n",
			st.Count, float64(st.Min.Microseconds())/10, float64(st.P50.Microseconds())/10, float64(st.Max.Microseconds())/10)
	}
	if rc, rf := r.Counters[metrics.Reconnects.String()], r.Counters[metrics.ReconnectFailed.String()]; rc+rf > 0 || r.Counters[metrics.Dropped.String()] > 0 {
		ratio := 0.0
		if rc+rf > 0 {
			ratio = float64(rc) / float64(rc+rf)
		}
		fmt.Fprintf(bw, "reconnects: %d of %d lost sessions came back (success %s), %d recovered with state; round trips lost %d, duplicated %d\n",
			rc, rc+rf, loadPct(ratio), r.Counters[metrics.Recovered.String()], r.Counters[metrics.Lost.String()], r.Counters[metrics.Duplicated.String()])
	}
	if fs := faultMarks(r.Timeline); len(fs) > 0 {
		// Said in the summary, not only drawn in the HTML: a failover run
		// whose reconnect thresholds fail must show whether its fault ran.
		fmt.Fprintf(bw, "faults: %s\n", strings.Join(fs, "; "))
	}
	if h := r.Health; h != nil {
		// Percent of all cores (100 % = every core busy), the unit of
		// the CPU warning: "360 % of 2 cores" beside "180 %" misled.
		cores := float64(max(h.Cores, 1))
		on := ""
		if h.Machines > 1 {
			on = fmt.Sprintf(" on %d machines", h.Machines)
		}
		fmt.Fprintf(bw, "generator: cpu peak %.0f%% / mean %.0f%% of %d cores%s (%.2f s cpu), rss %s, heap %s, goroutines %d", 100*h.CPU/cores, 100*h.MeanCPU/cores, h.Cores, on, h.CPUSeconds, loadBytes(h.RSS), loadBytes(h.Heap), h.Goroutines)
		if h.TimerLag != nil && h.TimerLag.Histogram != nil && h.TimerLag.TotalCount() > 0 {
			fmt.Fprintf(bw, ", timer lag p99 %s", loadDur(time.Duration(h.TimerLag.ValueAtQuantile(99))*time.Microsecond))
		}
		// Below a few hundred clients the run's own fixed memory (its
		// timeline, histograms, the in-process target) divided by the
		// clients is most of the figure: 1.1 MiB "per client" at 10.
		if per := h.MemPerClient(r.PeakClients); per > 0 && r.PeakClients >= memPerClientMin {
			fmt.Fprintf(bw, ", heap+stack per client %s", loadBytes(uint64(per)))
		}
		fmt.Fprintln(bw)
	}
	for _, warn := range s.Warnings {
		fmt.Fprintln(bw, "WARNING: "+warn)
	}
	if r.Failed {
		fmt.Fprintln(bw, "RUN FAILED: "+r.FailReason)
	}
	return bw.Flush()
}

// loadCauses writes the sampled messages of each error kind, most
// frequent first ("handshake_error x20: dial tcp ...: connection
// refused"), then the count of errors whose message was not kept, and
// the first message when it is not among those shown.
func loadCauses(w io.Writer, r *metrics.Result) {
	if r.TotalErrors() == 0 {
		return
	}
	fmt.Fprintln(w, "error causes:")
	for _, kind := range sortedKinds(r.Errors) {
		n := r.Errors[kind]
		if n == 0 {
			continue
		}
		c := r.Causes[kind]
		if c == nil {
			fmt.Fprintf(w, "  %s x%d: (no message recorded)\n", kind, n)
			continue
		}
		first := false
		for _, x := range c.Top {
			fmt.Fprintf(w, "  %s x%d: %s\n", kind, x.Count, x.Message)
			first = first || x.Message == c.First
		}
		if c.Other > 0 {
			fmt.Fprintf(w, "  %s x%d: (other messages)\n", kind, c.Other)
		}
		if rest := n - c.Counted(); rest > 0 {
			fmt.Fprintf(w, "  %s x%d: (no message recorded)\n", kind, rest)
		}
		if !first && c.First != "" {
			fmt.Fprintf(w, "  %s first: %s\n", kind, c.First)
		}
	}
}

// sortedKinds returns the error kinds, most errors first, then by name.
func sortedKinds(m map[string]int64) []string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if m[kinds[i]] != m[kinds[j]] {
			return m[kinds[i]] > m[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	return kinds
}

// LoadCompare writes runs side by side, one column per run (named by
// names, e.g. the transports): the p50/p99 and count of every latency
// metric any run has, the main counters and rates, errors, and the
// threshold verdict.
func LoadCompare(w io.Writer, names []string, sums []*metrics.Summary) error {
	if len(names) != len(sums) {
		return fmt.Errorf("reports: %d names for %d runs", len(names), len(sums))
	}
	bw := bufio.NewWriter(w)
	cols := make([]int, len(names))
	for i := range cols {
		cols[i] = i + 1
	}
	t := loadTable(bw, cols...)
	t.Header(append([]any{"Metric"}, loadAny(names)...)...)
	var metricsSeen []string
	seen := map[string]bool{}
	for _, s := range sums {
		for _, st := range s.Latency {
			if !seen[st.Name] {
				seen[st.Name] = true
				metricsSeen = append(metricsSeen, st.Name)
			}
		}
	}
	row := func(label string, cell func(*metrics.Summary) string) {
		cells := []any{label}
		for _, s := range sums {
			cells = append(cells, cell(s))
		}
		t.Append(cells...)
	}
	for _, name := range metricsSeen {
		for _, q := range []struct {
			label string
			get   func(metrics.Stats) string
		}{
			{"count", func(st metrics.Stats) string { return strconv.FormatInt(st.Count, 10) }},
			{"p50", func(st metrics.Stats) string { return loadDur(st.P50) }},
			{"p99", func(st metrics.Stats) string { return loadDur(st.P99) }},
		} {
			row(name+" "+q.label, func(s *metrics.Summary) string {
				st := s.Result.StatsOf(name)
				if st.Count == 0 {
					return "-"
				}
				return q.get(st)
			})
		}
	}
	for _, c := range []string{"messages_sent", "messages_received", "acks", "bytes_sent", "bytes_received"} {
		row(c+"/s", func(s *metrics.Summary) string {
			secs := time.Duration(s.Result.Elapsed).Seconds()
			if secs <= 0 {
				return "-"
			}
			return loadRate(float64(s.Result.Counters[c]) / secs)
		})
	}
	row("errors", func(s *metrics.Summary) string {
		return strconv.FormatInt(s.Result.TotalErrors(), 10) + " (" + loadPct(s.ErrorRate) + ")"
	})
	for _, s := range sums {
		if s.Result.Failed {
			row("run", func(s *metrics.Summary) string {
				if s.Result.Failed {
					return "FAILED"
				}
				return "ok"
			})
			break
		}
	}
	row("thresholds", func(s *metrics.Summary) string {
		switch {
		case len(s.Thresholds) == 0:
			return "-"
		case s.Passed:
			return "pass"
		}
		return "FAIL"
	})
	if err := t.Render(); err != nil {
		return fmt.Errorf("reports: compare table: %w", err)
	}
	return bw.Flush()
}

// LoadJSON writes the result as indented JSON (histograms encoded), the
// format `sioload report` reads back.
func LoadJSON(w io.Writer, r *metrics.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// loadTable returns a table whose given columns are right-aligned, so that
// numbers line up on their unit.
func loadTable(w io.Writer, right ...int) *tablewriter.Table {
	return tablewriter.NewTable(w).Configure(func(cfg *tablewriter.Config) {
		cfg.Header.Formatting.AutoFormat = tw.Off
		m := tw.NewMapper[int, tw.Align]()
		for _, c := range right {
			m.Set(c, tw.AlignRight)
		}
		cfg.Row.Alignment.PerColumn = loadAligns(m, right)
	})
}

func loadAligns(m tw.Mapper[int, tw.Align], right []int) []tw.Align {
	n := 0
	for _, c := range right {
		n = max(n, c+1)
	}
	out := make([]tw.Align, n)
	for i := range out {
		out[i] = tw.AlignLeft
		if a, ok := m[i]; ok {
			out[i] = a
		}
	}
	return out
}

func loadLatencyRow(st metrics.Stats) []any {
	return []any{st.Name, strconv.FormatInt(st.Count, 10), loadDur(st.Min), loadDur(st.P50), loadDur(st.P90), loadDur(st.P99), loadDur(st.P999), loadDur(st.Max), loadDur(st.Mean)}
}

func loadAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// loadDur formats a latency with three significant digits: 812µs, 1.23ms, 2.5s.
// faultMarks lists the faults a run's timeline marked, "at 4.0s: exec
// faults[0]", once each (the parts of a merged run mark the same fault).
func faultMarks(tl *metrics.Timeline) []string {
	if tl == nil {
		return nil
	}
	var out []string
	for _, m := range tl.Markers {
		if m.Kind != metrics.MarkFault {
			continue
		}
		if f := fmt.Sprintf("at %.1fs: %s", m.T, m.Text); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func loadDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
	}
	return d.Round(time.Second).String()
}

func loadRate(r float64) string {
	if r == 0 {
		return ""
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
}

func loadPct(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" }

// memPerClientMin is the fewest peak clients for which the summary shows
// heap+stack per client.
const memPerClientMin = 500

func loadBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
