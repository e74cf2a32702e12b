package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/reports"
	"github.com/siokit/siokit/scenarios"
)

const runUsage = `Usage: sioload run SCENARIO.yaml [options]

Runs the scenario, shows live progress on stderr, prints the summary on
stdout. Ctrl-C stops the run early and still prints (and writes) the
results gathered so far. Exit status 3 when a threshold fails.

Options:
`

// overrides are the flags that change a scenario.
type overrides struct {
	target, transport string
	clients           int
	duration          time.Duration
}

func (o *overrides) register(fs *flag.FlagSet, withTransport bool) {
	fs.StringVar(&o.target, "target", "", "server URL (default: the scenario's target, else the built-in target)")
	if withTransport {
		fs.StringVar(&o.transport, "transport", "", "websocket, polling or upgrade (default: the scenario's)")
	}
	fs.IntVar(&o.clients, "clients", 0, "closed model: clients to reach; open model: max concurrent clients")
	fs.DurationVar(&o.duration, "duration", 0, "closed model: hold time; open model: arrival duration")
}

// scenario loads the file and applies the overrides.
func (o *overrides) scenario(path string) (*scenarios.Scenario, error) {
	s, err := scenarios.LoadFile(path)
	if err != nil {
		return nil, cli.WithExitCode(err, cli.ExitUsage)
	}
	if o.target != "" {
		s.Target = o.target
	}
	if o.transport != "" {
		s.Transport = o.transport
	}
	if o.clients > 0 {
		if s.Load.Model == scenarios.ModelOpen {
			s.Load.MaxClients = o.clients
		} else {
			s.Load.Clients = o.clients
		}
	}
	if o.duration > 0 {
		if s.Load.Model == scenarios.ModelOpen {
			s.Load.Duration = o.duration
		} else {
			s.Load.Hold = o.duration
		}
	}
	if err := s.Validate(); err != nil {
		return nil, cli.WithExitCode(err, cli.ExitUsage)
	}
	return s, nil
}

// resolveTarget returns the URL to load: the scenario's, or else that of
// the built-in target, started in-process on 127.0.0.1; stop ends it.
// restart is set for the built-in target only (the restart_target fault).
func resolveTarget(s *scenarios.Scenario) (url string, restart func(time.Duration) error, stop func(), err error) {
	if s.Target != "" {
		return s.Target, nil, func() {}, nil
	}
	b, err := load.StartBuiltin(target.Options{})
	if err != nil {
		return "", nil, nil, err
	}
	return b.URL, b.Restart, func() { b.Close() }, nil
}

func runCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload run", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), runUsage); fs.PrintDefaults() }
	var o overrides
	o.register(fs, true)
	out := fs.String("out", "", "write the whole result as JSON to this file")
	quiet := fs.Bool("quiet", false, "no live progress on stderr")
	junit := fs.String("junit", "", "write JUnit XML (a testcase per threshold, one for errors) to this file")
	summaryMD := fs.String("summary-md", "", "write a Markdown summary (for a CI step summary, e.g. $GITHUB_STEP_SUMMARY) to this file")
	html := fs.String("html", "", "write a self-contained HTML report (charts over time) to this file")
	interval := fs.Duration("interval", time.Second, "timeline interval (the --out JSON's timeline has one entry per interval)")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if *interval < 10*time.Millisecond {
		return usageErr("--interval must be at least 10ms, got %s", *interval)
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageErr("run takes one scenario file, got %d arguments", len(pos))
	}
	s, err := o.scenario(pos[0])
	if err != nil {
		return err
	}
	targetURL, restart, stopTarget, err := resolveTarget(s)
	if err != nil {
		return err
	}
	defer stopTarget()
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	opts := load.Options{Target: targetURL, Restart: restart, Interval: *interval}
	if !*quiet {
		p := newProgress(st.Stderr, st.Terminal(st.Stderr))
		opts.Progress = p.update
		defer p.done()
	}
	res, err := load.Run(ctx, s, opts)
	if err != nil {
		if errors.Is(err, load.ErrUnsupported) {
			return cli.WithExitCode(err, cli.ExitUsage)
		}
		return err
	}
	if err := writeHTML(*html, []reports.HTMLRun{{Name: s.Name, Result: res}}); err != nil {
		return err
	}
	if err := writeCI(*junit, *summaryMD, res); err != nil {
		return err
	}
	return finish(st, res, *out)
}

// finish prints the summary, writes the JSON and maps the outcome to an
// exit code: interrupted 1, threshold failed 3.
func finish(st *cli.State, res *metrics.Result, out string) error {
	sum := res.Summarize()
	if err := reports.LoadSummary(st.Stdout, sum); err != nil {
		return err
	}
	if out != "" {
		if err := writeJSON(out, res); err != nil {
			return err
		}
	}
	return verdict(res.Partial, res.StopReason, []*metrics.Summary{sum})
}

func verdict(partial bool, reason string, sums []*metrics.Summary) error {
	if partial {
		return fmt.Errorf("run stopped early (%s); results above are partial", reason)
	}
	failed := 0
	for _, s := range sums {
		for _, t := range s.Thresholds {
			if !t.Pass {
				failed++
			}
		}
	}
	if failed > 0 {
		return cli.WithExitCode(fmt.Errorf("%d threshold(s) failed", failed), ExitThreshold)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
