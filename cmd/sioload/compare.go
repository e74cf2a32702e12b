package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/reports"
	"github.com/siokit/siokit/scenarios"
)

const compareUsage = `Usage: sioload compare SCENARIO.yaml --transports polling,websocket,upgrade [options]

Runs the scenario once per transport, one after the other, and prints one
side-by-side table. --out writes a JSON array of the results, which
"sioload report" reads.

Options:
`

func compareCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload compare", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), compareUsage); fs.PrintDefaults() }
	var o overrides
	o.register(fs, false)
	transports := fs.String("transports", "polling,websocket,upgrade", "comma-separated transports to compare")
	out := fs.String("out", "", "write the results as a JSON array to this file (checked before the run)")
	quiet := fs.Bool("quiet", false, "no live progress on stderr")
	html := fs.String("html", "", "write a self-contained HTML report, the runs overlaid, to this file")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if _, err := oneScenario(fs, pos); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	names := cli.Split(*transports)
	if len(names) == 0 {
		return usageErr("--transports is empty")
	}
	for _, t := range names {
		if err := checkTransport("transports", t); err != nil {
			return err
		}
	}
	if err := (outputs{json: *out, html: *html}).check(); err != nil {
		return err
	}
	var scens []*scenarios.Scenario
	for _, t := range names {
		o.transport = t
		s, err := o.scenario(pos[0])
		if err != nil {
			return err
		}
		scens = append(scens, s)
	}
	m := scenarioMasker(scens[0])
	st = masked(st, m)
	targetURL, restart, stopTarget, err := resolveTarget(scens[0])
	if err != nil {
		return maskErr(m, err)
	}
	defer stopTarget()
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	var results []*metrics.Result
	var sums []*metrics.Summary
	for i, s := range scens {
		if ctx.Err() != nil {
			break
		}
		opts := load.Options{Target: targetURL, Restart: restart, Abort: cli.Abort(ctx)}
		var p *progress
		if !*quiet {
			fmt.Fprintf(st.Stderr, "== %s\n", names[i])
			p = newProgress(st.Stderr, st.Terminal(st.Stderr))
			opts.Progress = p.update
		}
		res, err := load.Run(ctx, s, opts)
		if p != nil {
			p.done()
		}
		if err != nil {
			if errors.Is(err, load.ErrUnsupported) {
				return maskErr(m, cli.WithExitCode(err, cli.ExitUsage))
			}
			return maskErr(m, err)
		}
		results = append(results, res)
		sums = append(sums, res.Summarize())
	}
	// The JSON first; a failing output does not stop the other.
	var errs []error
	if *out != "" {
		if err := writeJSON(*out, m, results); err != nil {
			errs = append(errs, fmt.Errorf("--out: %w", err))
		}
	}
	var runs []reports.HTMLRun
	for i, r := range results {
		runs = append(runs, reports.HTMLRun{Name: names[i], Result: r})
	}
	if err := writeHTML(*html, m, runs); err != nil {
		errs = append(errs, fmt.Errorf("--html: %w", err))
	}
	if err := render(st.Stdout, func(w io.Writer) error { return reports.LoadCompare(w, names[:len(sums)], sums) }); err != nil {
		errs = append(errs, fmt.Errorf("writing the summary: %w", err))
	}
	partial, reason := len(sums) < len(names), "interrupted"
	for _, r := range results {
		if r.Partial {
			partial, reason = true, r.StopReason
		}
	}
	return maskErr(m, errors.Join(append(errs, verdict(partial, reason, sums))...))
}
