// Command sioconform checks that an Engine.IO / Socket.IO server speaks the
// protocol correctly: it runs conformance cases (docs/conformance.md)
// against a server and reports a verdict per case.
//
//	sioconform run --url http://127.0.0.1:3000
//	sioconform list
//	sioconform matrix --target node=http://127.0.0.1:3000 --target mine=http://127.0.0.1:4000
//
// Exit status: 0 no selected case failed or errored (warn, n/a and info
// allowed), 1 a case failed or errored (or warned, with run --strict; or the
// run was interrupted), 2 usage error, unreachable target or broken case
// file.
package main

import (
	"context"
	"os"

	"github.com/siokit/siokit/internal/cli"
)

func main() {
	st := cli.NewState()
	ctx, stop := cli.Signals(context.Background())
	code := run(ctx, st, conformEngine{})
	stop()
	os.Exit(code)
}

// run executes the command line in st.Args and returns the exit code; it
// is main without the process, for tests.
func run(ctx context.Context, st *cli.State, eng engine) int {
	err := dispatch(ctx, st, eng)
	cli.PrintError(st.Stderr, "sioconform", err)
	return cli.ExitCode(err)
}
