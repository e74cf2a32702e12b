package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

// selection is the case-selection flags run, list and matrix share.
type selection struct {
	eio        int
	only, skip cli.List
	dirs       cli.List
	slow       bool
}

// register adds the selection flags to fs with --eio defaulting to eio;
// eio < 0 leaves --eio out (matrix: each target has its own version).
func (s *selection) register(fs *flag.FlagSet, eio int) {
	if eio >= 0 {
		fs.IntVar(&s.eio, "eio", eio, "")
	}
	fs.Var(&s.only, "only", "")
	fs.Var(&s.skip, "skip", "")
	fs.Var(&s.dirs, "cases", "")
	fs.BoolVar(&s.slow, "slow", false, "")
}

// check validates the selection flags: a malformed glob would otherwise
// silently select nothing. allowAll accepts --eio 0 (both versions).
func (s *selection) check(fs *flag.FlagSet, allowAll bool) error {
	if s.eio != 3 && s.eio != 4 && !(allowAll && s.eio == 0) {
		return usageErr(fs, "--eio %d: want 4 or 3", s.eio)
	}
	for _, g := range append(append([]string{}, s.only...), s.skip...) {
		if _, err := path.Match(g, ""); err != nil {
			return usageErr(fs, "bad pattern %q: %v", g, err)
		}
	}
	return nil
}

// load returns the built-in cases plus those of every --cases folder. A
// folder that cannot be read or a malformed case file is a usage error:
// the loader's message already says file:line: field: problem.
func (s *selection) load(eng engine) ([]*conform.Case, error) {
	all, err := eng.LoadBuiltin()
	if err != nil {
		// Built-in cases are compiled in: this is a bug, not the user's.
		return nil, fmt.Errorf("built-in cases: %w", err)
	}
	where := map[string]*conform.Case{}
	for _, c := range all {
		where[c.ID] = c
	}
	for _, dir := range s.dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return nil, cli.WithExitCode(fmt.Errorf("--cases %s: %w", dir, err), cli.ExitUsage)
		}
		cases, err := eng.LoadDir(dir)
		if err != nil {
			return nil, cli.WithExitCode(err, cli.ExitUsage)
		}
		// The loader rejects duplicates within one folder; ids must also
		// be unique across folders and the built-in cases, or reports
		// would be ambiguous.
		for _, c := range cases {
			if prev, dup := where[c.ID]; dup {
				return nil, cli.WithExitCode(fmt.Errorf("%s:%d: id: duplicate id %q (also defined at %s:%d)",
					c.File, c.Line, c.ID, prev.File, prev.Line), cli.ExitUsage)
			}
			where[c.ID] = c
		}
		all = append(all, cases...)
	}
	return all, nil
}

// pick selects the cases for one Engine.IO version. Selecting nothing is a
// usage error: a run of zero cases would pass and hide a typo in --only.
func (s *selection) pick(eng engine, all []*conform.Case, eio int) ([]*conform.Case, error) {
	cases := eng.Select(all, eio, s.only, s.skip, s.slow)
	if len(cases) == 0 {
		version := "any version"
		if eio != 0 {
			version = fmt.Sprintf("Engine.IO v%d", eio)
		}
		return nil, cli.WithExitCode(fmt.Errorf("no case of %s matches --only %q --skip %q (see 'sioconform list')",
			version, s.only.String(), s.skip.String()), cli.ExitUsage)
	}
	return cases, nil
}
