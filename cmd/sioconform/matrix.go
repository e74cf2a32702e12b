package main

import (
	"context"
	"errors"
	"flag"
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
verdict (pass, FAIL, warn, n-a, info, error; "-" where a server did not run
the case), and a last row with each server's passed/run count.

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
                     (table and markdown list under the matrix the reason
                     of every cell that is not a pass)
  --format FORMAT    table (default), markdown (= --markdown), html (one
                     self-contained page, cells coloured by verdict with
                     each non-pass's reason, filterable by case id prefix)
                     or json (every server's report, as run --format json
                     writes it, reasons and traces included)
  --out FILE         write the matrix to FILE instead of stdout (checked
                     before the run, replaced atomically at the end)

A server that cannot be reached gets "error" in every cell and the other
servers still run. Ctrl-C stops at once: servers not yet run show "-"; a
second Ctrl-C stops waiting for the cases still running.
While stderr is a terminal, progress lines go there.

Exit status:
  0  no server failed or errored a selected case (warn, n/a and info
     allowed: the matrix has no --strict)
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
	fm, err := matrixFormat(fs, *format, *markdown)
	if err != nil {
		return err
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
	mts := make([]conform.MatrixTarget, len(targets))
	for i, t := range targets {
		mts[i] = conform.MatrixTarget{Name: t.name, URL: t.url, EIO: t.eio}
	}
	return runMatrix(ctx, st, dst, fm, mts, selected,
		func(ctx context.Context, t conform.MatrixTarget, cases []*conform.Case, progress func(conform.Result)) (*conform.Report, error) {
			return runAbortable(ctx, func() (*conform.Report, error) {
				return eng.Run(ctx, cases, conform.Config{URL: t.URL, EIO: t.EIO, Parallel: *parallel, Progress: progress})
			})
		})
}

// matrixFormats are the --format values of both matrix commands.
const matrixFormats = "table, markdown, html or json"

// matrixFormat checks --format; --markdown, its older spelling, turns
// the default table into markdown.
func matrixFormat(fs *flag.FlagSet, format string, markdown bool) (string, error) {
	switch format {
	case "", "table":
		if markdown {
			return "markdown", nil
		}
		return "table", nil
	case "markdown", "html", "json":
		return format, nil
	}
	return "", usageErr(fs, "--format %q: want %s", format, matrixFormats)
}

// runMatrix is what the server and the client matrix share once their
// columns and cases are chosen: it runs every target with run (progress
// on stderr), writes the matrix in format fm to dst, and turns what went
// wrong into the exit code (the worst: 2 for an unreachable target, else 1
// for a failure or an interruption).
func runMatrix(ctx context.Context, st *cli.State, dst *output, fm string, mts []conform.MatrixTarget, selected [][]*conform.Case,
	run func(ctx context.Context, t conform.MatrixTarget, cases []*conform.Case, progress func(conform.Result)) (*conform.Report, error)) error {
	names := make([]string, len(mts))
	progs := make([]*progress, len(mts))
	for i, t := range mts {
		names[i] = t.Name
		progs[i] = newProgress(st, t.Name+" ", len(selected[i]))
	}
	res := conform.RunMatrix(ctx, conform.Matrix{
		Targets: mts, Cases: selected, Run: run,
		Progress: func(i int, r conform.Result) { progs[i].done(r) },
		Unreachable: func(i int, err error) {
			fmt.Fprintf(st.Stderr, "sioconform: %s: %s\n", names[i], redact.String(err.Error()))
		},
		Finished: func(i int, rep *conform.Report) {
			if st.Terminal(st.Stderr) {
				fmt.Fprintf(st.Stderr, "%s: %s\n", names[i], counts(rep))
			}
		},
	})
	reps := res.Reports
	if err := dst.write(func(w io.Writer) error {
		switch fm {
		case "html":
			return reports.ConformMatrixHTML(w, "sioconform", names, reps)
		case "json":
			return reports.ConformMatrixJSON(w, names, reps)
		}
		if err := reports.ConformMatrix(w, names, reps, fm == "markdown"); err != nil {
			return err
		}
		return reports.ConformMatrixReasons(w, names, reps, fm == "markdown")
	}); err != nil {
		return err
	}

	// Say everything that went wrong; the exit code is that of the worst.
	var problems []string
	if len(res.Failed) > 0 {
		problems = append(problems, "failed or errored cases: "+strings.Join(res.Failed, ", "))
	}
	if res.Interrupted {
		problems = append(problems, res.Interruption())
	}
	if len(res.Unreachable) > 0 {
		// Each was reported with its reason above.
		problems = append(problems, "unreachable: "+strings.Join(res.Unreachable, ", "))
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
