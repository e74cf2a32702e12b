package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/reports"
)

const reportUsage = `Usage: sioload report FILE.json... [--format table|json]

Reads results written by "sioload run --out" (one result) or "sioload
compare --out" (an array), merges them all (histograms merged, counters
summed) and renders them again. Exit status 3 when a threshold of the
merged result fails.

Options:
`

func reportCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload report", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), reportUsage); fs.PrintDefaults() }
	format := fs.String("format", "table", "table or json")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageErr("report needs at least one result file")
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, got %q", *format)
	}
	var all []*metrics.Result
	for _, path := range pos {
		rs, err := readResults(path)
		if err != nil {
			return cli.WithExitCode(err, cli.ExitUsage)
		}
		all = append(all, rs...)
	}
	merged := metrics.Merge(all...)
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
