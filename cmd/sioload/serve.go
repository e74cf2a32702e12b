package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/workers"
	"github.com/siokit/siokit/protocol/server"
)

const serveUsage = `Usage: sioload serve [--addr 127.0.0.1:3000] [--ping-interval D] [--ping-timeout D]
                     [--connect-timeout D] [--max-payload N] [--cors-origin O] [--delay D]
                     [--workers N]

Runs the built-in target (the contract server of peers/README.md) until
Ctrl-C. Settings left out are those of a default Node server (ping 25s/20s,
connectTimeout 45s, maxHttpBufferSize 1000000, no CORS).

The conformance contract configuration (docs/conformance.md §1: ping
300/200 ms, connectTimeout 1000 ms, maxHttpBufferSize 1000000, CORS "*"),
for sioconform run --url http://127.0.0.1:3000:

  sioload serve --ping-interval 300ms --ping-timeout 200ms --connect-timeout 1s --cors-origin '*'

(without --cors-origin '*' only the eio4.cors.* cases fail).

--workers N serves from N processes, so that one process's open-files
limit and one core do not cap the target: all on --addr through
SO_REUSEPORT, which spreads WebSocket connections over them, and each on
a port of its own too, listed at start: a long-polling (or upgrade)
session sends its requests on several connections and needs them all on
the process that holds it, so give polling scenarios that list as their
targets. Every response names the worker in a Sioload-Worker header.

Options:
`

// serveConfig is what serve's flags ask for.
type serveConfig struct {
	addr    string
	opts    target.Options
	workers int
	worker  string // I/N: this process is worker I of a serve --workers N
	fs      *flag.FlagSet
}

// parseServe reads serve's flags.
func parseServe(st *cli.State, args []string) (*serveConfig, error) {
	fs := flag.NewFlagSet("sioload serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	ping := fs.Duration("ping-interval", 0, "Engine.IO ping interval (default: the server's, 25s)")
	pingTimeout := fs.Duration("ping-timeout", 0, "time a client has to answer a ping (default: the server's, 20s)")
	connectTimeout := fs.Duration("connect-timeout", 0, "close a connection that joins no namespace within this (default: the server's, 45s)")
	maxPayload := fs.Int("max-payload", 0, "largest polling POST body / WebSocket message in bytes, Node's maxHttpBufferSize (default: the server's, 1000000)")
	cors := fs.String("cors-origin", "", `Access-Control-Allow-Origin to send, "*" for any origin (default: no CORS)`)
	delay := fs.Duration("delay", 0, "delay added before every reply")
	nWorkers := fs.Int("workers", 0, "serve from this many processes (WebSocket on --addr through SO_REUSEPORT, polling on one port each)")
	worker := fs.String("worker", "", "I/N: serve as worker I of serve --workers N (set by serve --workers)")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 0 {
		return nil, usageErr("serve takes no arguments")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ping-interval", *ping}, {"ping-timeout", *pingTimeout}, {"connect-timeout", *connectTimeout}, {"delay", *delay}} {
		if d.v < 0 {
			return nil, usageErr("--%s: negative duration %v", d.name, d.v)
		}
	}
	if *maxPayload < 0 {
		return nil, usageErr("--max-payload: negative size %d", *maxPayload)
	}
	if isSet(fs, "workers") && *nWorkers < 1 {
		return nil, flagErr("workers", "want at least 1, got %d", *nWorkers)
	}
	if *worker != "" {
		if _, err := load.ParseSegment(*worker); err != nil || *nWorkers > 0 {
			return nil, flagErr("worker", "%q: want I/N, set by serve --workers only", *worker)
		}
	}
	return &serveConfig{addr: *addr, workers: *nWorkers, worker: *worker, fs: fs, opts: target.Options{
		Server: server.Options{
			PingInterval:      *ping,
			PingTimeout:       *pingTimeout,
			ConnectTimeout:    *connectTimeout,
			MaxHTTPBufferSize: *maxPayload,
			CORSOrigin:        *cors,
		},
		Delay: *delay,
	}}, nil
}

func serveCmd(st *cli.State, args []string) error {
	cfg, err := parseServe(st, args)
	if err != nil {
		return err
	}
	if cfg.workers > 0 {
		return serveWorkers(st, cfg)
	}
	if cfg.worker != "" {
		ctx, stop := cli.Signals(context.Background())
		defer stop()
		cfg.opts.Worker = fmt.Sprintf("%s pid %d", cfg.worker, os.Getpid())
		return workers.ServeWorker(ctx, cfg.addr, cfg.opts, st.Stdout, cli.Abort(ctx))
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	t := target.New(cfg.opts)
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
		case <-cli.Abort(ctx): // a second Ctrl-C: now
		}
		return nil
	case err := <-errc:
		return err
	}
}

// serveWorkers is serve --workers N: internal/workers runs N processes
// of this binary, each given the flags of this one.
func serveWorkers(st *cli.State, cfg *serveConfig) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--workers: cannot find this binary: %w", err)
	}
	args := []string{"serve"}
	cfg.fs.Visit(func(f *flag.Flag) {
		if f.Name != "workers" && f.Name != "addr" {
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	return workers.Serve(ctx, workers.ServeOptions{Exe: exe, Args: args, Workers: cfg.workers, Addr: cfg.addr, Log: st.Stderr, Abort: cli.Abort(ctx)})
}
