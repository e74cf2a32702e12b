// Command sioload is a Socket.IO load generator: it runs scenario files
// (docs/sioload.md) against a server and reports latencies, counters,
// errors and threshold verdicts.
//
// Usage:
//
//	sioload run SCENARIO.yaml [--target URL] [--transport T] [--clients N] [--duration D] [--out FILE] [--quiet]
//	            [--interval D] [--html FILE] [--junit FILE] [--summary-md FILE]
//	            [--segment I/N] [--start-at T] [--workers N|auto] [--source-addrs A,B]
//	sioload compare SCENARIO.yaml --transports polling,websocket,upgrade [--target URL] [--out FILE]
//	sioload report FILE.json... [--format table|json|html] [--out FILE]
//	sioload serve [--addr 127.0.0.1:3000] [--workers N]
//	sioload k8s SCENARIO.yaml --parallelism N [--image IMG] [--start-delay 30s] [--namespace NS] [--name NAME] [--target URL]
//
// Exit codes: 0 ok, 1 run failed (no client connected, target
// unreachable, errors above max_error_rate), run error or interrupted,
// 2 usage or bad scenario, 3 a threshold failed (1 wins over 3).
package main

import (
	"os"

	"github.com/siokit/siokit/internal/cli"
)

func main() {
	st := cli.NewState()
	err := dispatch(st)
	cli.PrintError(st.Stderr, "sioload", err)
	os.Exit(cli.ExitCode(err))
}
