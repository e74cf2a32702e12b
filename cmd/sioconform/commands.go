package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/siokit/siokit/internal/cli"
)

// command is one subcommand: it parses its own args with its own FlagSet,
// does its work through st and eng, and returns an error carrying the exit
// code (cli.WithExitCode).
type command func(ctx context.Context, st *cli.State, eng engine, args []string) error

// commands is every subcommand, by name.
var commands = map[string]command{
	"run":    runCmd,
	"list":   listCmd,
	"matrix": matrixCmd,
	"client": clientCmd,
}

const usage = `Usage: sioconform <command> [options]

Checks that an Engine.IO / Socket.IO server speaks the protocol correctly, by
running conformance cases against it and reporting a verdict per case: pass,
fail (a MUST broken), warn (a SHOULD broken, or a MUST that the reference
server itself breaks: strength must-ref; a failure only with --strict), n/a
(optional feature absent), info (allowed, but not what the reference server
does) or error (the case could not run).

Commands:
  run      run the cases against one server and write a report
  list     list the cases
  matrix   run the cases against several servers and compare them
  client   judge Socket.IO client libraries: 'client run --cmd CMD',
           'client matrix --cmd NAME=CMD ...', 'client list'
  version  print the version (also --version)

Run 'sioconform <command> -h' for a command's options.
The cases, the server they expect and the reports: docs/conformance.md.
`

// errHelp tells dispatch that a command printed its usage because it was
// asked to (-h): nothing failed.
var errHelp = errors.New("help requested")

// dispatch picks the subcommand named by st.Args[0] and runs it.
func dispatch(ctx context.Context, st *cli.State, eng engine) error {
	if len(st.Args) == 0 {
		fmt.Fprint(st.Stderr, usage)
		return cli.WithExitCode(nil, cli.ExitUsage)
	}
	name, args := st.Args[0], st.Args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 0 {
			// "sioconform help run" is "sioconform run -h".
			name, args = args[0], []string{"-h"}
			break
		}
		fmt.Fprint(st.Stderr, usage)
		return nil
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(st.Stdout, cli.Version("sioconform"))
		return err
	}
	cmd, ok := commands[name]
	if !ok {
		return cli.WithExitCode(fmt.Errorf("unknown command %q (see 'sioconform -h')", name), cli.ExitUsage)
	}
	err := cmd(ctx, st, eng, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// newFlagSet returns a FlagSet for subcommand name that does not print
// anything itself: parseFlags decides where usage and errors go.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sioconform "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs. -h prints text (the command's usage) to
// stderr, like every siokit command, and returns errHelp (exit 0); a
// parse error or a stray argument is a usage error (exit 2) that points
// at -h.
func parseFlags(st *cli.State, fs *flag.FlagSet, text string, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(st.Stderr, text)
		return errHelp
	case err != nil:
		return usageErr(fs, "%v", err)
	case fs.NArg() > 0 && strings.Contains(fs.Arg(0), "://") && fs.Lookup("url") != nil:
		// k6 and vegeta users type the target last; the flag package
		// then stops there and ignores every flag after it, too.
		return usageErr(fs, "unexpected argument %q: give the server as --url %s, before or among the other flags", fs.Arg(0), fs.Arg(0))
	case fs.NArg() > 0:
		return usageErr(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// usageErr is a usage error (exit 2) of fs's command, pointing at its help.
func usageErr(fs *flag.FlagSet, format string, a ...any) error {
	return cli.WithExitCode(fmt.Errorf("%s: %s (see '%s -h')",
		strings.TrimPrefix(fs.Name(), "sioconform "), fmt.Sprintf(format, a...), fs.Name()), cli.ExitUsage)
}
