package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/server"
)

const serveUsage = `Usage: sioload serve [--addr 127.0.0.1:3000] [--ping-interval D] [--delay D]

Runs the built-in target (the contract server of peers/README.md) until
Ctrl-C.

Options:
`

func serveCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	ping := fs.Duration("ping-interval", 0, "Engine.IO ping interval (default: the server's)")
	delay := fs.Duration("delay", 0, "delay added before every reply")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("serve takes no arguments")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	t := target.New(target.Options{Server: server.Options{PingInterval: *ping}, Delay: *delay})
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- t.Serve(ln) }()
	fmt.Fprintf(st.Stderr, "sioload: built-in target on http://%s\n", ln.Addr())
	select {
	case <-ctx.Done():
		t.Close()
		select {
		case <-errc:
		case <-time.After(5 * time.Second):
		}
		return nil
	case err := <-errc:
		return err
	}
}
