package reports

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/metrics"
)

// LoadJUnit writes a run as JUnit XML for CI test-report parsers: one
// testsuite named after the scenario, one testcase per threshold
// (classname "thresholds"; a failure's message holds the observed value
// and the condition), one testcase "errors" that fails when the run had
// any error (the message gives the count by kind), and, for an
// interrupted run, a testcase "complete" with an <error>.
func LoadJUnit(w io.Writer, s *metrics.Summary) error {
	r := s.Result
	secs := strconv.FormatFloat(time.Duration(r.Elapsed).Seconds(), 'f', 3, 64)
	suite := junitSuite{Name: r.Scenario, Time: secs, Timestamp: r.Start.UTC().Format(junitTimestamp),
		Properties: []junitProperty{{"transport", r.Transport}, {"target", safeTarget(r.Target)}, {"peak_clients", strconv.FormatInt(r.PeakClients, 10)}}}
	for _, th := range s.Thresholds {
		c := junitCase{Classname: "thresholds", Name: th.Source, Time: "0", SystemOut: &junitText{"observed " + th.Display}}
		if !th.Pass {
			msg := fmt.Sprintf("observed %s, want %s", th.Display, th.Source)
			if th.Note != "" {
				msg = fmt.Sprintf("%s: %s", th.Note, th.Source)
			}
			c.Failure = &junitOutcome{Message: msg, Type: "threshold", Text: msg}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	errs := junitCase{Classname: "run", Name: "errors", Time: secs}
	if n := r.TotalErrors(); n > 0 {
		var kinds []string
		for _, e := range s.Errors {
			kinds = append(kinds, fmt.Sprintf("%s %d", e.Name, e.Count))
		}
		msg := fmt.Sprintf("%d errors (%s of operations): %s", n, loadPct(s.ErrorRate), strings.Join(kinds, ", "))
		errs.Failure = &junitOutcome{Message: msg, Type: "errors", Text: msg}
		suite.Failures++
	}
	suite.Cases = append(suite.Cases, errs)
	if r.Partial {
		suite.Cases = append(suite.Cases, junitCase{Classname: "run", Name: "complete", Time: secs,
			Error: &junitOutcome{Message: "the run was stopped early: " + r.StopReason, Type: "partial"}})
		suite.Errors++
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "sioload", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: secs, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// LoadMarkdown writes a run's summary as GitHub-flavoured Markdown, fit
// for a CI step summary ($GITHUB_STEP_SUMMARY): the verdict, the latency
// table, thresholds with observed values, the non-zero counters, errors
// and disconnects by kind, and warnings. It has no links.
func LoadMarkdown(w io.Writer, s *metrics.Summary) error {
	bw := bufio.NewWriter(w)
	r := s.Result
	verdict := "no thresholds"
	switch {
	case r.Partial:
		verdict = "**partial** (" + mdCell(r.StopReason) + ")"
	case len(s.Thresholds) > 0 && s.Passed:
		verdict = "all thresholds pass"
	case len(s.Thresholds) > 0:
		verdict = "**thresholds FAILED**"
	}
	fmt.Fprintf(bw, "### sioload: %s\n\n", mdCell(r.Scenario))
	fmt.Fprintf(bw, "%s · transport %s · %d clients (peak) · %s · %d errors (%s of operations)\n\n",
		verdict, mdCell(r.Transport), r.PeakClients, loadDur(time.Duration(r.Elapsed)), r.TotalErrors(), loadPct(s.ErrorRate))
	if len(s.Latency) > 0 {
		fmt.Fprintln(bw, "| latency | count | min | p50 | p90 | p99 | p99.9 | max | mean |")
		fmt.Fprintln(bw, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, st := range s.Latency {
			var cells []string
			for _, c := range loadLatencyRow(st) {
				cells = append(cells, mdCell(fmt.Sprint(c)))
			}
			fmt.Fprintf(bw, "| %s |\n", strings.Join(cells, " | "))
		}
		fmt.Fprintln(bw)
	}
	if len(s.Thresholds) > 0 {
		fmt.Fprintln(bw, "| threshold | observed | result |")
		fmt.Fprintln(bw, "|---|--:|---|")
		for _, th := range s.Thresholds {
			v := "pass"
			if !th.Pass {
				v = "**FAIL**"
				if th.Note != "" {
					v += " (" + mdCell(th.Note) + ")"
				}
			}
			fmt.Fprintf(bw, "| `%s` | %s | %s |\n", strings.ReplaceAll(th.Source, "`", "'"), mdCell(th.Display), v)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, "| counter | total | rate |")
	fmt.Fprintln(bw, "|---|--:|--:|")
	for _, c := range s.Counters {
		if c.Count != 0 {
			fmt.Fprintf(bw, "| %s | %d | %s |\n", c.Name, c.Count, loadRate(c.Rate))
		}
	}
	for _, g := range []struct {
		prefix string
		rows   []metrics.NamedCount
	}{{"error ", s.Errors}, {"disconnect ", s.Disconnects}} {
		for _, c := range g.rows {
			fmt.Fprintf(bw, "| %s%s | %d | %s |\n", g.prefix, mdCell(c.Name), c.Count, loadRate(c.Rate))
		}
	}
	fmt.Fprintln(bw)
	for _, warn := range s.Warnings {
		fmt.Fprintf(bw, "> **Warning:** %s\n\n", mdCell(warn))
	}
	return bw.Flush()
}

// ConformMarkdown writes a conformance report as GitHub-flavoured
// Markdown for a CI step summary: the verdict ("conformant", "not
// conformant", or for an interrupted run "interrupted: N of M cases
// finished") and the verdict counts, then a table of
// every case that did not pass (id, verdict, message), then the passing
// ids in one collapsed line. It has no links.
func ConformMarkdown(w io.Writer, r *conform.Report) error {
	bw := bufio.NewWriter(w)
	counts := r.Counts()
	fmt.Fprintf(bw, "### sioconform: %s (Engine.IO v%d)\n\n", mdCell(r.Target), r.EIO)
	var parts []string
	for _, v := range []conform.Verdict{conform.Pass, conform.Fail, conform.Error, conform.Warn, conform.Info, conform.NA} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	verdict, bad := conformVerdict(r)
	if bad {
		verdict = "**" + verdict + "**"
	}
	fmt.Fprintf(bw, "%s · %d cases: %s · %s\n\n", verdict, len(r.Results), strings.Join(parts, ", "), r.Duration.Round(time.Millisecond))
	var pass []string
	var other []conform.Result
	for _, res := range r.Results {
		if res.Verdict == conform.Pass {
			pass = append(pass, res.ID)
		} else {
			other = append(other, res)
		}
	}
	order := map[conform.Verdict]int{conform.Fail: 0, conform.Error: 1, conform.Warn: 2, conform.Info: 3, conform.NA: 4}
	sort.SliceStable(other, func(i, j int) bool { return order[other[i].Verdict] < order[other[j].Verdict] })
	if len(other) > 0 {
		fmt.Fprintln(bw, "| case | verdict | message |")
		fmt.Fprintln(bw, "|---|---|---|")
		for _, res := range other {
			v := string(res.Verdict)
			if r.Fails(res.Verdict) {
				v = "**" + v + "**"
			}
			fmt.Fprintf(bw, "| `%s` | %s | %s |\n", res.ID, v, mdCell(res.Message))
		}
		fmt.Fprintln(bw)
	}
	if len(pass) > 0 {
		fmt.Fprintf(bw, "<details><summary>%d passing cases</summary>\n\n%s\n\n</details>\n", len(pass), mdEscaper.Replace(strings.Join(pass, ", ")))
	}
	return bw.Flush()
}
