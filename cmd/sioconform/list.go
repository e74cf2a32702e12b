package main

import (
	"context"
	"io"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/reports"
)

const listUsage = `Usage: sioconform list [options]

Lists the conformance cases: id, the strength of the rule each one checks
(must: a broken rule fails; should, and must-ref, a MUST the reference
server breaks itself: it warns; open: it is info), description,
the rule's public source, and the official test-suite test it is the
equivalent of. --format json adds the rule's sentence.

Options:
  --eio 4|3          only the cases of that Engine.IO version: 4 lists
                     eio4.* and sio5.*, 3 lists eio3.* and sio4.*
                     (default: both)
  --only GLOB        only the cases whose id matches; repeatable or
                     comma-separated; '*' spans dots, and a plain prefix
                     such as eio4.handshake selects everything below it
  --skip GLOB        leave out the cases whose id matches; repeatable
  --slow             also the slow cases (slow: true; each takes tens of
                     seconds, e.g. waiting out the upgrade timeout)
  --cases DIR        also load every *.yaml case file below DIR; repeatable
  --format FORMAT    table (default) or json (adds server, path, timeout,
                     file and line)
  --deployment       list the deployment checks of 'sioconform run
                     --deployment' instead (--only and --skip select among
                     them)

Exit status:
  0  listed
  2  usage error or broken case file

Examples:
  sioconform list
  sioconform list --eio 3 --only 'eio3.heartbeat'
  sioconform list --cases ./my-cases --format json
  sioconform list --deployment
`

// listFormats renders the catalogue in each --format of list.
var listFormats = map[string]func(io.Writer, []*conform.Case) error{
	"table": reports.ConformList,
	"json":  reports.ConformListJSON,
}

// listCmd is `sioconform list`.
func listCmd(_ context.Context, st *cli.State, eng engine, args []string) error {
	fs := newFlagSet("list")
	var sel selection
	sel.register(fs, 0)
	format := fs.String("format", "table", "")
	deployment := fs.Bool("deployment", false, "")
	if err := parseFlags(st, fs, listUsage, args); err != nil {
		return err
	}
	render, ok := listFormats[*format]
	if !ok {
		return usageErr(fs, "--format %q: want table or json", *format)
	}
	if err := sel.check(fs, true); err != nil {
		return err
	}
	all, eio := conform.DeployCases(), 0
	if !*deployment {
		var err error
		if all, err = sel.load(eng); err != nil {
			return err
		}
		eio = sel.eio
	}
	cases, err := sel.pick(eng, all, eio)
	if err != nil {
		return err
	}
	out, err := openOut(st, "")
	if err != nil {
		return err
	}
	return out.write(func(w io.Writer) error { return render(w, cases) })
}
