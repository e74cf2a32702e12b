package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/redact"
	"github.com/siokit/siokit/internal/workers"
	"github.com/siokit/siokit/scenarios"
)

// workerFlags are run's flags that each worker gets from
// internal/workers rather than from the command line: its part, its
// start, its outputs, its target (the one resolved here).
var workerFlags = map[string]bool{
	"workers": true, "segment": true, "start-at": true, "progress-fd": true, "quiet": true,
	"out": true, "html": true, "junit": true, "summary-md": true, "target": true,
}

// runWorkers is sioload run --workers: the scenario as N processes of
// this binary (internal/workers), their results merged and finished like
// one run's.
func runWorkers(st *cli.State, m *redact.Masker, fs *flag.FlagSet, s *scenarios.Scenario, file, nFlag string, at time.Time, quiet bool, outs outputs) error {
	n := 0
	if nFlag == "auto" {
		var why string
		n, why = workers.Auto(s, workers.FileLimit())
		if !quiet {
			fmt.Fprintf(st.Stderr, "sioload: --workers auto: %s\n", why)
		}
	} else if v, err := strconv.Atoi(nFlag); err != nil || v < 1 {
		return flagErr("workers", `want a number of processes, 1 or more, or "auto"; got %q`, nFlag)
	} else {
		n = v
	}
	if err := load.CheckSegment(s, load.Segment{Index: 0, Count: n}); err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	for i, f := range s.Faults {
		if f.RestartTarget && n == 1 {
			return cli.WithExitCode(fmt.Errorf("faults[%d]: restart_target needs the built-in target in the process that runs the clients: run without --workers", i), cli.ExitUsage)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--workers: cannot find this binary: %w", err)
	}
	// The workers share one target: the scenario's, or a built-in one
	// served here.
	targetURL, _, stopTarget, err := resolveTarget(s)
	if err != nil {
		return err
	}
	defer stopTarget()
	args := []string{"run", file}
	fs.Visit(func(f *flag.Flag) {
		if !workerFlags[f.Name] {
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	// The target goes to the workers in their environment
	// (workers.TargetEnv), not their visible command line.
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	opts := workers.RunOptions{Exe: exe, Args: args, Workers: n, Target: targetURL, StartAt: at, Abort: cli.Abort(ctx), Log: st.Stderr}
	if !quiet {
		fmt.Fprintf(st.Stderr, "sioload: %d worker processes, one part each\n", n)
		p := newProgress(st.Stderr, st.Terminal(st.Stderr))
		opts.Progress = p.update
		// A note (a worker died) starts on a line of its own, not after
		// a rewritten progress line.
		opts.Log = writerFunc(func(b []byte) (int, error) { p.done(); return st.Stderr.Write(b) })
		defer p.done()
	}
	res, err := workers.Run(ctx, s, opts)
	if err != nil {
		if errors.Is(err, load.ErrUnsupported) {
			return cli.WithExitCode(err, cli.ExitUsage)
		}
		return err
	}
	return finish(st, m, res, s.Name, outs)
}

// writerFunc is a function as an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
