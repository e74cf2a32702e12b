package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/redact"
	"github.com/siokit/siokit/reports"
)

const reportUsage = `Usage: sioload report FILE.json... [--format table|json|html] [--out FILE]

Reads results written by "sioload run --out" (one result) or "sioload
compare --out" (an array), merges them all (histograms merged, counters
summed, timelines aligned by wall time) and renders them again. With
--format html the runs are not merged but overlaid on the same charts,
one colour each, in one self-contained page. Exit status 3 when a
threshold of the merged result fails, except with --format json: that
merged result is the input of later steps (report on it again for the
verdict, as deploy/kubernetes's merge job does), so it exits 0 unless
parts are missing.

Runs of different scenarios, targets or transports, and runs that did
not run at the same time, are not merged (exit 2) unless --force, which
shows each on its own (--format html overlays runs of one scenario and
target whenever they ran). The parts of a run split with
"sioload run --segment I/N" merge into the whole run's result; a
repeated part is refused, missing parts make the result partial (exit 1)
and are named. A file that is not a run result is refused (exit 2).

Options:
`

func reportCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload report", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), reportUsage); fs.PrintDefaults() }
	format := fs.String("format", "table", "table, json or html")
	out := fs.String("out", "", "write the report to this file instead of stdout (required for html)")
	force := fs.Bool("force", false, "runs that do not merge (other scenarios, targets, transports or times): show each instead of refusing")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageErr("report needs at least one result file")
	}
	if *format != "table" && *format != "json" && *format != "html" {
		return usageErr("--format must be table, json or html, got %q", *format)
	}
	if *format == "html" && *out == "" {
		return usageErr("--format html needs --out FILE")
	}
	var all []*metrics.Result
	var runs []reports.HTMLRun
	var names []string
	for _, path := range pos {
		rs, err := readResults(path)
		if err != nil {
			return cli.WithExitCode(err, cli.ExitUsage)
		}
		all = append(all, rs...)
		for i, r := range rs {
			name := filepath.Base(path)
			if len(rs) > 1 {
				name += fmt.Sprintf("[%d] %s", i, r.Transport)
			}
			runs = append(runs, reports.HTMLRun{Name: name, Result: r})
			names = append(names, name)
		}
	}
	err = metrics.CheckMerge(all, names)
	if err == nil && *format != "html" {
		err = metrics.CheckSimultaneous(all, names)
	}
	if err != nil {
		// HTML overlays the runs rather than merging them, but a page of
		// unrelated runs under one title misleads the same way: it too
		// needs --force.
		if !*force {
			return cli.WithExitCode(err, cli.ExitUsage)
		}
		if *format != "html" {
			return reportEach(st, *format, *out, all, names)
		}
	}
	merged := metrics.Merge(all...)
	partial, reason := false, ""
	if missing := metrics.MissingSegments(all); missing != "" {
		// The sum of some parts is not the run: say so, and fail.
		reason = "parts missing: " + missing + " (merged " + strconv.Itoa(len(all)) + " of " + strconv.Itoa(merged.Segment.Count) + ")"
		partial, merged.Partial, merged.StopReason = true, true, reason
	}
	if *format == "html" {
		if err := writeHTML(*out, redact.New(), runs); err != nil {
			return err
		}
		var sums []*metrics.Summary
		for _, r := range all {
			sums = append(sums, r.Summarize())
		}
		return verdict(false, "", sums)
	}
	if *out != "" {
		var b bytes.Buffer
		var err error
		if *format == "json" {
			err = reports.LoadJSON(&b, merged)
		} else {
			err = reports.LoadSummary(&b, merged.Summarize())
		}
		if err != nil {
			return err
		}
		if err := cli.WriteFile(*out, redact.New().Bytes(b.Bytes())); err != nil {
			return err
		}
		if *format == "json" && !partial {
			return nil
		}
		return verdict(partial, reason, []*metrics.Summary{merged.Summarize()})
	}
	if *format == "json" {
		if err := reports.LoadJSON(st.Stdout, merged); err != nil || !partial {
			return err
		}
		return verdict(partial, reason, nil)
	}
	sum := merged.Summarize()
	if err := reports.LoadSummary(st.Stdout, sum); err != nil {
		return err
	}
	return verdict(partial, reason, []*metrics.Summary{sum})
}

// readResults reads one result object or an array of them, refusing
// what is not a run result (metrics.NotResult).
func readResults(path string) ([]*metrics.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var rs []*metrics.Result
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &rs); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rs) == 0 {
			return nil, fmt.Errorf("%s: an empty array, no run results", path)
		}
	} else {
		var r metrics.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rs = []*metrics.Result{&r}
	}
	for i, r := range rs {
		if why := metrics.NotResult(r); why != "" {
			if len(rs) > 1 {
				return nil, fmt.Errorf("%s: [%d]: %s", path, i, why)
			}
			return nil, fmt.Errorf("%s: %s", path, why)
		}
	}
	return rs, nil
}

// reportEach shows runs that must not be merged (report --force) one
// after another, each under its file's name: a table per run, or for
// json an array of the results. The exit status is the worst verdict.
func reportEach(st *cli.State, format, out string, all []*metrics.Result, names []string) error {
	var b bytes.Buffer
	var sums []*metrics.Summary
	if format == "json" {
		// An array, as compare --out writes: report reads it back.
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return err
		}
	}
	for i, r := range all {
		sum := r.Summarize()
		sums = append(sums, sum)
		if format == "json" {
			continue
		}
		fmt.Fprintf(&b, "== %s\n", names[i])
		if err := reports.LoadSummary(&b, sum); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	if out != "" {
		if err := cli.WriteFile(out, redact.New().Bytes(b.Bytes())); err != nil {
			return err
		}
	} else if _, err := st.Stdout.Write(b.Bytes()); err != nil {
		return err
	}
	partial, reason := false, ""
	for _, r := range all {
		if r.Partial && !partial {
			partial, reason = true, r.StopReason
		}
	}
	return verdict(partial, reason, sums)
}

// writeHTML writes the HTML report of runs to path (nothing when path is
// empty), atomically and with m's secrets masked.
func writeHTML(path string, m *redact.Masker, runs []reports.HTMLRun) error {
	if path == "" {
		return nil
	}
	var b bytes.Buffer
	if err := reports.LoadHTML(&b, generator(), runs); err != nil {
		return err
	}
	return cli.WriteFile(path, m.Bytes(b.Bytes()))
}

// generator names this binary for report footers.
func generator() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return "sioload " + v + " (" + runtime.Version() + ")"
}

// writeCI writes the JUnit XML and the Markdown summary of sum to the
// files named (nothing for an empty name), each atomically and masked; a
// failure of one does not stop the other.
func writeCI(junit, md string, m *redact.Masker, sum *metrics.Summary) []error {
	var errs []error
	for _, o := range []struct {
		flag, path string
		render     func(io.Writer, *metrics.Summary) error
	}{{"--junit", junit, reports.LoadJUnit}, {"--summary-md", md, reports.LoadMarkdown}} {
		if o.path == "" {
			continue
		}
		var b bytes.Buffer
		err := o.render(&b, sum)
		if err == nil {
			err = cli.WriteFile(o.path, m.Bytes(b.Bytes()))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.flag, err))
		}
	}
	return errs
}
