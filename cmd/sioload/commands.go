package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/siokit/siokit/internal/cli"
)

// ExitThreshold is the exit code of a run whose thresholds failed
// (docs/sioload.md §4).
const ExitThreshold = 3

const usage = `Usage: sioload COMMAND [ARGS]

Commands:
  run SCENARIO.yaml       run a scenario and print its summary
  compare SCENARIO.yaml   run a scenario once per transport, side by side
  report FILE.json...     merge saved results and render them again
  serve                   run the built-in target

Run "sioload COMMAND -h" for a command's options.
`

type command func(st *cli.State, args []string) error

var commands = map[string]command{
	"run":     runCmd,
	"compare": compareCmd,
	"report":  reportCmd,
	"serve":   serveCmd,
}

// dispatch picks the subcommand from st.Args.
func dispatch(st *cli.State) error {
	if len(st.Args) == 0 || st.Args[0] == "-h" || st.Args[0] == "--help" || st.Args[0] == "help" {
		fmt.Fprint(st.Stderr, usage)
		if len(st.Args) == 0 {
			return cli.WithExitCode(nil, cli.ExitUsage)
		}
		return nil
	}
	cmd, ok := commands[st.Args[0]]
	if !ok {
		fmt.Fprint(st.Stderr, usage)
		return cli.WithExitCode(fmt.Errorf("unknown command %q", st.Args[0]), cli.ExitUsage)
	}
	return cmd(st, st.Args[1:])
}

// parse parses args with fs, allowing flags after positional arguments
// ("run echo.yaml --clients 5"), and returns the positional ones. A
// parse error becomes exit 2 (the flag package has printed it).
func parse(fs *flag.FlagSet, stderr io.Writer, args []string) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, cli.WithExitCode(nil, cli.ExitOK)
			}
			return nil, cli.WithExitCode(nil, cli.ExitUsage)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func usageErr(format string, a ...any) error {
	return cli.WithExitCode(fmt.Errorf(format, a...), cli.ExitUsage)
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
