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
threshold of the merged result fails.

Options:
`

func reportCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload report", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), reportUsage); fs.PrintDefaults() }
	format := fs.String("format", "table", "table, json or html")
	out := fs.String("out", "", "write the report to this file instead of stdout (required for html)")
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
		}
	}
	merged := metrics.Merge(all...)
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
		if *format == "json" {
			return nil
		}
		return verdict(false, "", []*metrics.Summary{merged.Summarize()})
	}
	if *format == "json" {
		return reports.LoadJSON(st.Stdout, merged)
	}
	sum := merged.Summarize()
	if err := reports.LoadSummary(st.Stdout, sum); err != nil {
		return err
	}
	return verdict(false, "", []*metrics.Summary{sum})
}

// readResults reads one result object or an array of them.
func readResults(path string) ([]*metrics.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var rs []*metrics.Result
		if err := json.Unmarshal(b, &rs); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return rs, nil
	}
	var r metrics.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []*metrics.Result{&r}, nil
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
