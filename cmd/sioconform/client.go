package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/reports"
)

const clientUsage = `Usage: sioconform client <run|matrix|list> [options]

Judges a Socket.IO CLIENT library: sioconform plays the server, packet by
packet, and drives a small program written with the library (the client
program, docs/conformance.md §6; peers/clients/ has seven).

  run     run the client cases against the program of --cmd
  matrix  run them against several programs and compare them
  list    list the client cases

Run 'sioconform client run -h' (or matrix -h, list -h) for the options.
`

const clientRunUsage = `Usage: sioconform client run --cmd 'COMMAND' [options]

Runs the client cases (client.*) against a client program: per case a server
on 127.0.0.1 (a free port) and one process of COMMAND, run with sh -c and the
environment of docs/conformance.md §6.1 (SIOCONFORM_URL, SIOCONFORM_TRANSPORT
set to the case's transport, SIOCONFORM_EIO, SIOCONFORM_NAMESPACE=/). The
process is stopped at the end of its case: stdin closed, killed after %v.
A program that exits 2 (it cannot do what the environment asks) makes its
case n/a. One that cannot start (sh -c exits 126 or 127, "not found", before
its first request) is a setup error: exit 2, no report.

Options:
  --cmd COMMAND      the client program (required), e.g.
                     'cd peers/clients/js && node client.mjs 4'
  --transport T      only the cases of transport T: polling, websocket or
                     upgrade (default: all, each with its own)
  --eio 4|3          Engine.IO version: 4 runs client.eio4.* and
                     client.sio5.* (default 4)
  --only GLOB        run only the cases whose id matches; repeatable
  --skip GLOB        leave out the cases whose id matches; repeatable
  --cases DIR        also load every client case file below DIR; repeatable
  --format FORMAT    table (default), json, junit, markdown or html
  --out FILE         write the report to FILE instead of stdout
  --parallel N       cases (client processes) at once (default %d)
  -v                 table format: every case's trace
  --strict           a warn (a broken SHOULD) fails the run too

Ctrl-C stops the run and still writes the report of the cases that
finished, saying "interrupted: N of M cases finished"; a second Ctrl-C
stops waiting for the cases still running.

Exit status:
  0  no selected case failed or errored (warn, n/a and info allowed)
  1  a case failed or errored (or warned, with --strict), or the run was
     interrupted
  2  usage error, broken case file, or a client program that cannot start

Examples:
  sioconform client run --cmd 'cd peers/clients/js && node client.mjs 4'
  sioconform client run --cmd 'peers/clients/siokit/bin/siokit-client' --transport websocket
`

const clientMatrixUsage = `Usage: sioconform client matrix --cmd NAME=COMMAND ... [options]

Runs the client cases against several client programs, one after the
other, each as 'client run' does, and prints a matrix: one row per case,
one column per program, each cell the verdict (pass, FAIL, warn, n-a, info,
error; "-" where a program did not run the case), and a last row with each
program's passed/run count.

Options:
  --cmd NAME=COMMAND a client program: a column name, then the command (run
                     with sh -c); repeat for each program (at least one)
  --eio 4|3          only that Engine.IO version's cases (default: both; a
                     program exits 2 for a version its library does not
                     speak, which makes those cases n/a)
  --transport T, --only GLOB, --skip GLOB, --cases DIR   as for client run
  --parallel N       cases (client processes) at once per program
                     (default %d)
  --format FORMAT    table (default) or markdown (each with the reason of
                     every non-pass cell under the matrix), html (one page,
                     each non-pass cell with its reason) or json (every
                     program's report, reasons and traces included)
  --out FILE         write the matrix to FILE instead of stdout

A program that dies at once fails its cases (each reason gives its exit
code) and the others still run; one that cannot start (exit 126 or 127
before its first request) gets "error" in every cell and exit 2. Ctrl-C stops at once; programs not yet run
show "-".
While stderr is a terminal, progress lines go there.

Exit status:
  0  no program failed or errored a selected case (warn, n/a and info
     allowed)
  1  some program failed or errored a case, or the run was interrupted
  2  usage error, broken case file, or some program cannot start (the
     matrix is still printed)

Example:
  sioconform client matrix \
      --cmd 'siokit=peers/clients/siokit/bin/siokit-client' \
      --cmd 'node4=cd peers/clients/js && node client.mjs 4' \
      --cmd 'node2=cd peers/clients/js && node client.mjs 2' --format html --out m.html
`

const clientListUsage = `Usage: sioconform client list [options]

Lists the client cases: id, strength, description and source.

Options:
  --transport T      only the cases of transport T (polling, websocket, upgrade)
  --eio 4|3          only that Engine.IO version (default: both)
  --only GLOB, --skip GLOB, --cases DIR   as for client run
  --format FORMAT    table (default) or json
`

// clientCmd is 'sioconform client': it dispatches to run and list.
func clientCmd(ctx context.Context, st *cli.State, _ engine, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(st.Stderr, clientUsage)
		return cli.WithExitCode(nil, cli.ExitUsage)
	}
	switch args[0] {
	case "run":
		return clientRunCmd(ctx, st, args[1:])
	case "matrix":
		return clientMatrixCmd(ctx, st, args[1:])
	case "list":
		return clientListCmd(st, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(st.Stderr, clientUsage)
		return errHelp
	}
	return cli.WithExitCode(fmt.Errorf("client: unknown command %q (want run, matrix or list; see 'sioconform client -h')", args[0]), cli.ExitUsage)
}

// clientSelection is the case-selection flags of client run and list.
type clientSelection struct {
	eio        int
	transport  string
	only, skip cli.List
	dirs       cli.List
}

// register adds the selection flags to fs; eio is --eio's default (0:
// both revisions).
func (s *clientSelection) register(fs *flag.FlagSet, eio int) {
	fs.IntVar(&s.eio, "eio", eio, "")
	fs.StringVar(&s.transport, "transport", "", "")
	fs.Var(&s.only, "only", "")
	fs.Var(&s.skip, "skip", "")
	fs.Var(&s.dirs, "cases", "")
}

// pick loads the built-in client cases and those of --cases, and selects.
func (s *clientSelection) pick(fs interface{ Name() string }, allowAll bool) ([]*conform.Case, error) {
	uerr := func(format string, a ...any) error {
		return cli.WithExitCode(fmt.Errorf("%s: %s", fs.Name(), fmt.Sprintf(format, a...)), cli.ExitUsage)
	}
	if s.eio != 3 && s.eio != 4 && !(allowAll && s.eio == 0) {
		return nil, uerr("--eio %d: want 4 or 3", s.eio)
	}
	switch s.transport {
	case "", "polling", "websocket", "upgrade":
	default:
		return nil, uerr("--transport %q: want polling, websocket or upgrade", s.transport)
	}
	for _, g := range append(append([]string{}, s.only...), s.skip...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, uerr("bad pattern %q: %v", g, err)
		}
	}
	all, err := conform.LoadBuiltinClient()
	if err != nil {
		return nil, fmt.Errorf("built-in client cases: %w", err)
	}
	for _, dir := range s.dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return nil, uerr("--cases %s: %v", dir, err)
		}
		more, err := conform.LoadDir(dir)
		if err != nil {
			return nil, cli.WithExitCode(err, cli.ExitUsage)
		}
		all = append(all, more...)
	}
	cases := conform.SelectClient(all, s.eio, s.transport, s.only, s.skip)
	if len(cases) == 0 {
		return nil, uerr("no client case matches --eio %d --transport %q --only %q --skip %q (see 'sioconform client list')",
			s.eio, s.transport, s.only.String(), s.skip.String())
	}
	return cases, nil
}

// clientRunCmd is 'sioconform client run'.
func clientRunCmd(ctx context.Context, st *cli.State, args []string) error {
	fs := newFlagSet("client run")
	cmd := fs.String("cmd", "", "")
	var sel clientSelection
	sel.register(fs, 4)
	format := fs.String("format", "table", "")
	out := fs.String("out", "", "")
	parallel := fs.Int("parallel", conform.DefaultClientParallel, "")
	verbose := fs.Bool("v", false, "")
	strict := fs.Bool("strict", false, "")
	if err := parseFlags(st, fs, fmt.Sprintf(clientRunUsage, conform.ClientGrace, conform.DefaultClientParallel), args); err != nil {
		return err
	}
	if *cmd == "" {
		return usageErr(fs, "--cmd is required")
	}
	render, ok := runFormats[*format]
	if !ok {
		return usageErr(fs, "--format %q: want table, json, junit, markdown or html", *format)
	}
	if *parallel < 1 {
		return usageErr(fs, "--parallel %d: want at least 1", *parallel)
	}
	cases, err := sel.pick(fs, false)
	if err != nil {
		return err
	}
	dst, err := openOut(st, *out)
	if err != nil {
		return err
	}
	rep, err := conform.Collect(ctx, cases, conform.ClientTarget(*cmd), sel.eio, newProgress(st, "", len(cases)).done,
		func(progress func(conform.Result)) (*conform.Report, error) {
			return runAbortable(ctx, func() (*conform.Report, error) {
				return conform.RunClient(ctx, cases, conform.ClientConfig{Cmd: *cmd, Parallel: *parallel, Progress: progress})
			})
		})
	if err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	rep.EIO, rep.Strict = sel.eio, *strict
	opts := reports.TableOptions{Verbose: *verbose, Color: *format == "table" && dst.color()}
	if err := dst.write(func(w io.Writer) error { return render(w, rep, opts) }); err != nil {
		return err
	}
	if rep.Interrupted {
		return cli.WithExitCode(errors.New(rep.Interruption()), cli.ExitFailed)
	}
	if rep.Failed() {
		return cli.WithExitCode(failedErr(rep), cli.ExitFailed)
	}
	return nil
}

// clientProgram is one --cmd of client matrix.
type clientProgram struct{ name, cmd string }

// programList is the repeatable --cmd NAME=COMMAND flag.
type programList []clientProgram

func (l *programList) String() string {
	parts := make([]string, len(*l))
	for i, p := range *l {
		parts[i] = p.name + "=" + p.cmd
	}
	return strings.Join(parts, " ")
}

// Set parses NAME=COMMAND; the command is everything after the first "=".
func (l *programList) Set(v string) error {
	name, cmd, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(cmd) == "" {
		return errors.New("want NAME=COMMAND")
	}
	for _, prev := range *l {
		if prev.name == name {
			return fmt.Errorf("two programs named %q", name)
		}
	}
	*l = append(*l, clientProgram{name, cmd})
	return nil
}

// clientMatrixCmd is 'sioconform client matrix': the server matrix's
// engine and renderers (runMatrix) with client programs as its columns.
func clientMatrixCmd(ctx context.Context, st *cli.State, args []string) error {
	fs := newFlagSet("client matrix")
	var progs programList
	fs.Var(&progs, "cmd", "")
	var sel clientSelection
	sel.register(fs, 0)
	format := fs.String("format", "table", "")
	out := fs.String("out", "", "")
	parallel := fs.Int("parallel", conform.DefaultClientParallel, "")
	if err := parseFlags(st, fs, fmt.Sprintf(clientMatrixUsage, conform.DefaultClientParallel), args); err != nil {
		return err
	}
	if len(progs) == 0 {
		return usageErr(fs, "at least one --cmd NAME=COMMAND is required")
	}
	fm, err := matrixFormat(fs, *format, false)
	if err != nil {
		return err
	}
	if *parallel < 1 {
		return usageErr(fs, "--parallel %d: want at least 1", *parallel)
	}
	cases, err := sel.pick(fs, true)
	if err != nil {
		return err
	}
	dst, err := openOut(st, *out)
	if err != nil {
		return err
	}
	mts := make([]conform.MatrixTarget, len(progs))
	selected := make([][]*conform.Case, len(progs))
	for i, p := range progs {
		mts[i] = conform.MatrixTarget{Name: p.name, Cmd: p.cmd, EIO: sel.eio}
		selected[i] = cases
	}
	return runMatrix(ctx, st, dst, fm, mts, selected,
		func(ctx context.Context, t conform.MatrixTarget, cases []*conform.Case, progress func(conform.Result)) (*conform.Report, error) {
			rep, err := conform.RunClient(ctx, cases, conform.ClientConfig{Cmd: t.Cmd, Parallel: *parallel, Progress: progress})
			if rep != nil {
				rep.EIO = t.EIO
			}
			return rep, err
		})
}

// clientListCmd is 'sioconform client list'.
func clientListCmd(st *cli.State, args []string) error {
	fs := newFlagSet("client list")
	var sel clientSelection
	sel.register(fs, 0)
	format := fs.String("format", "table", "")
	if err := parseFlags(st, fs, clientListUsage, args); err != nil {
		return err
	}
	render, ok := listFormats[*format]
	if !ok {
		return usageErr(fs, "--format %q: want table or json", *format)
	}
	cases, err := sel.pick(fs, true)
	if err != nil {
		return err
	}
	out, err := openOut(st, "")
	if err != nil {
		return err
	}
	return out.write(func(w io.Writer) error { return render(w, cases) })
}
