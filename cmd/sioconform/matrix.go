package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/redact"
	"github.com/siokit/siokit/reports"
)

const matrixUsage = `Usage: sioconform matrix --target NAME=URL[,eio=3] ... [options]

Runs the conformance cases against several servers, one after the other,
and prints a matrix: one row per case, one column per server, each cell the
verdict (pass, FAIL, n-a, info, error; "-" where a server did not run the
case), and a last row with each server's passed/run count.

Options:
  --target NAME=URL[,eio=3]
                     a server to run: a column name, its origin, and
                     optionally its Engine.IO version (default 4); repeat
                     for each server (at least one)
  --only GLOB        run only the cases whose id matches; repeatable or
                     comma-separated; '*' spans dots, and a plain prefix
                     such as eio4.handshake selects everything below it
  --skip GLOB        leave out the cases whose id matches; repeatable
  --slow             also the slow cases (slow: true; each takes tens of
                     seconds, e.g. waiting out the upgrade timeout)
  --cases DIR        also load every *.yaml case file below DIR; repeatable
  --parallel N       cases run at once per server (default %d)
  --markdown         print a GitHub markdown table instead of a terminal one
  --format FORMAT    table (default), markdown (= --markdown) or html: one
                     self-contained page, cells coloured by verdict with
                     each non-pass's reason, filterable by case id prefix
  --out FILE         write the matrix to FILE instead of stdout (checked
                     before the run, replaced atomically at the end)

A server that cannot be reached gets "error" in every cell and the other
servers still run. Ctrl-C stops at once: servers not yet run show "-"; a
second Ctrl-C stops waiting for the cases still running.
While stderr is a terminal, progress lines go there.

Exit status:
  0  every server passed every selected case (n/a and info allowed)
  1  some server failed or errored a case, or the run was interrupted
  2  usage error, broken case file, or some server unreachable (the
     matrix is still printed)

Examples:
  sioconform matrix --target node=http://127.0.0.1:3000 --target mine=http://127.0.0.1:4000
  sioconform matrix --target node4=http://127.0.0.1:3000 \
      --target node2=http://127.0.0.1:3001,eio=3 --markdown --out MATRIX.md
`

// matrixTarget is one --target.
type matrixTarget struct {
	name, url string
	eio       int
}

// targetList is the repeatable --target flag.
type targetList []matrixTarget

func (l *targetList) String() string {
	parts := make([]string, len(*l))
	for i, t := range *l {
		parts[i] = fmt.Sprintf("%s=%s,eio=%d", t.name, t.url, t.eio)
	}
	return strings.Join(parts, " ")
}

// Set parses NAME=URL[,eio=N].
func (l *targetList) Set(v string) error {
	name, rest, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" || rest == "" {
		return errors.New("want NAME=URL[,eio=3]")
	}
	t := matrixTarget{name: strings.TrimSpace(name), eio: 4}
	opts := strings.Split(rest, ",")
	t.url = opts[0]
	for _, o := range opts[1:] {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "eio":
			n, err := strconv.Atoi(val)
			if err != nil || n != 3 && n != 4 {
				return fmt.Errorf("%s: eio=%s: want 4 or 3", t.name, val)
			}
			t.eio = n
		default:
			return fmt.Errorf("%s: unknown option %q (only eio=)", t.name, o)
		}
	}
	if err := conform.CheckTarget(t.url); err != nil {
		return fmt.Errorf("%s: %s: %w", t.name, t.url, err)
	}
	for _, prev := range *l {
		if prev.name == t.name {
			return fmt.Errorf("two targets named %q", t.name)
		}
	}
	*l = append(*l, t)
	return nil
}

// matrixCmd is `sioconform matrix`.
func matrixCmd(ctx context.Context, st *cli.State, eng engine, args []string) error {
	fs := newFlagSet("matrix")
	var targets targetList
	fs.Var(&targets, "target", "")
	var sel selection
	sel.register(fs, -1)
	parallel := fs.Int("parallel", conform.DefaultParallel, "")
	markdown := fs.Bool("markdown", false, "")
	format := fs.String("format", "", "")
	out := fs.String("out", "", "")
	if err := parseFlags(st, fs, fmt.Sprintf(matrixUsage, conform.DefaultParallel), args); err != nil {
		return err
	}
	if len(targets) == 0 {
		return usageErr(fs, "at least one --target is required")
	}
	switch *format {
	case "", "table":
	case "markdown":
		*markdown = true
	case "html":
	default:
		return usageErr(fs, "--format %q: want table, markdown or html", *format)
	}
	if *parallel < 1 {
		return usageErr(fs, "--parallel %d: want at least 1", *parallel)
	}
	sel.eio = 4 // check's --eio test; each target has its own
	if err := sel.check(fs, false); err != nil {
		return err
	}

	all, err := sel.load(eng)
	if err != nil {
		return err
	}
	// Select for every target before running any, so that a selection
	// that is empty for one of them fails now, not after the others ran.
	selected := make([][]*conform.Case, len(targets))
	for i, t := range targets {
		if selected[i], err = sel.pick(eng, all, t.eio); err != nil {
			return fmt.Errorf("--target %s: %w", t.name, err)
		}
	}
	dst, err := openOut(st, *out)
	if err != nil {
		return err
	}

	names := make([]string, len(targets))
	mts := make([]conform.MatrixTarget, len(targets))
	progs := make([]*progress, len(targets))
	for i, t := range targets {
		names[i] = t.name
		mts[i] = conform.MatrixTarget{Name: t.name, URL: t.url, EIO: t.eio}
		progs[i] = newProgress(st, t.name+" ", len(selected[i]))
	}
	res := conform.RunMatrix(ctx, conform.Matrix{
		Targets: mts, Cases: selected, Config: conform.Config{Parallel: *parallel},
		Run: func(ctx context.Context, cases []*conform.Case, cfg conform.Config) (*conform.Report, error) {
			return runAbortable(ctx, eng, cases, cfg)
		},
		Progress: func(i int, r conform.Result) { progs[i].done(r) },
		Unreachable: func(i int, err error) {
			fmt.Fprintf(st.Stderr, "sioconform: %s: %s\n", targets[i].name, redact.String(err.Error()))
		},
		Finished: func(i int, rep *conform.Report) {
			if st.Terminal(st.Stderr) {
				fmt.Fprintf(st.Stderr, "%s: %s\n", targets[i].name, counts(rep))
			}
		},
	})
	reps := res.Reports
	if err := dst.write(func(w io.Writer) error {
		if *format == "html" {
			return reports.ConformMatrixHTML(w, "sioconform", names, reps)
		}
		return reports.ConformMatrix(w, names, reps, *markdown)
	}); err != nil {
		return err
	}

	// Say everything that went wrong; the exit code is that of the worst.
	var problems []string
	failed, unreachable, interrupted := res.Failed, res.Unreachable, res.Interrupted
	if len(failed) > 0 {
		problems = append(problems, "failed or errored cases: "+strings.Join(failed, ", "))
	}
	if interrupted {
		problems = append(problems, "interrupted")
	}
	if len(unreachable) > 0 {
		// Each was reported with its reason above.
		problems = append(problems, "unreachable: "+strings.Join(unreachable, ", "))
		return cli.WithExitCode(errors.New(strings.Join(problems, "; ")), cli.ExitUsage)
	}
	if len(problems) > 0 {
		return cli.WithExitCode(errors.New(strings.Join(problems, "; ")), cli.ExitFailed)
	}
	return nil
}

// counts is a one-line tally of a report, for progress on stderr.
func counts(rep *conform.Report) string {
	c := rep.Counts()
	return fmt.Sprintf("%d pass, %d fail, %d warn, %d n/a, %d info, %d error in %.1fs",
		c[conform.Pass], c[conform.Fail], c[conform.Warn], c[conform.NA], c[conform.Info], c[conform.Error], rep.Duration.Seconds())
}
