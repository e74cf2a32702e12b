package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/redact"
)

// ExitThreshold is the exit code of a run whose thresholds failed
// (README "Exit status").
const ExitThreshold = cli.ExitThreshold

const usage = `Usage: sioload COMMAND [ARGS]

Commands:
  run SCENARIO.yaml       run a scenario and print its summary
  compare SCENARIO.yaml   run a scenario once per transport, side by side
  report FILE.json...     merge saved results and render them again
  serve                   run the built-in target
  k8s SCENARIO.yaml       print Kubernetes manifests that run a scenario in N parts
  version                 print the version (also --version)

Run "sioload COMMAND -h" (or "sioload help COMMAND") for a command's options.
`

type command func(st *cli.State, args []string) error

var commands = map[string]command{
	"run":     runCmd,
	"compare": compareCmd,
	"report":  reportCmd,
	"serve":   serveCmd,
	"k8s":     k8sCmd,
}

// errHelp is what a command returns after printing its usage for -h:
// nothing failed, dispatch makes it exit 0.
var errHelp = errors.New("help requested")

// dispatch picks the subcommand from st.Args. Everything the commands
// print goes through a masking writer (URL userinfo, token-like query
// values: package redact); run and compare add the scenario's secrets.
func dispatch(st *cli.State) error {
	st = masked(st, redact.New())
	args := st.Args
	if len(args) > 0 && args[0] == "help" && len(args) > 1 {
		// "sioload help run" is "sioload run -h".
		args = []string{args[1], "-h"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(st.Stderr, usage)
		if len(args) == 0 {
			return cli.WithExitCode(nil, cli.ExitUsage)
		}
		return nil
	}
	if args[0] == "version" || args[0] == "--version" || args[0] == "-version" {
		_, err := fmt.Fprintln(st.Stdout, cli.Version("sioload"))
		return err
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(st.Stderr, usage)
		return cli.WithExitCode(fmt.Errorf("unknown command %q", args[0]), cli.ExitUsage)
	}
	err := cmd(st, args[1:])
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// masked returns a copy of st whose Stdout and Stderr mask what m masks,
// and that still knows which of them is a terminal.
func masked(st *cli.State, m *redact.Masker) *cli.State {
	out, errw := st.Stdout, st.Stderr
	mo, me := m.Writer(out), m.Writer(errw)
	ns := *st
	ns.Stdout, ns.Stderr = mo, me
	ns.IsTerminal = func(w io.Writer) bool {
		switch w {
		case mo:
			w = out
		case me:
			w = errw
		}
		return st.Terminal(w)
	}
	return &ns
}

// parse parses args with fs, allowing flags after positional arguments
// ("run echo.yaml --clients 5"), and returns the positional ones. -h
// prints the command's usage to stderr and returns errHelp; a bad flag is
// a usage error (exit 2) that points at -h, as sioconform's are, rather
// than the flag package's message followed by the whole usage.
func parse(fs *flag.FlagSet, stderr io.Writer, args []string) ([]string, error) {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(stderr) }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stderr)
				usage()
				return nil, errHelp
			}
			return nil, usageErr("%v (see '%s -h')", err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneScenario returns the one scenario file of pos. With none, the usage
// is shown (a first try wants it); with more, one line names what was
// extra, and a URL among them is pointed at --target, where k6 and
// vegeta users would put it last on the line.
func oneScenario(fs *flag.FlagSet, pos []string) (string, error) {
	cmd := strings.TrimPrefix(fs.Name(), "sioload ")
	switch {
	case len(pos) == 1:
		return pos[0], nil
	case len(pos) == 0:
		fs.Usage()
		return "", usageErr("%s takes one scenario file, got none", cmd)
	}
	hint := ""
	for _, a := range pos[1:] {
		if strings.Contains(a, "://") && fs.Lookup("target") != nil {
			hint = fmt.Sprintf("; the server is --target %s", a)
			break
		}
	}
	return "", usageErr("%s takes one scenario file, got %d: %q%s (see '%s -h')", cmd, len(pos), pos, hint, fs.Name())
}

// flagErr is a usage error (exit 2) about flag name's value.
func flagErr(name, format string, a ...any) error {
	return usageErr("--%s: %s", name, fmt.Sprintf(format, a...))
}

// isSet reports whether the command line set flag name, so that an
// explicit "--clients 0" is refused while the default 0 means "the
// scenario's".
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func usageErr(format string, a ...any) error {
	return cli.WithExitCode(fmt.Errorf(format, a...), cli.ExitUsage)
}
