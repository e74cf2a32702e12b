package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/reports"
)

const runUsage = `Usage: sioconform run --url URL [options]

Runs the conformance cases against the server at URL and writes a report.
The server must follow the contract of docs/conformance.md §1 (the official
test-suite servers; peers/ has ready-made ones).

Options:
  --url URL          the server's origin, e.g. http://127.0.0.1:3000 (required)
  --eio 4|3          Engine.IO version: 4 runs eio4.* and sio5.*, 3 runs
                     eio3.* and sio4.* (default 4)
  --only GLOB        run only the cases whose id matches; repeatable or
                     comma-separated; '*' spans dots, and a plain prefix
                     such as eio4.handshake selects everything below it
  --skip GLOB        leave out the cases whose id matches; repeatable
  --slow             also the slow cases (slow: true; each takes tens of
                     seconds, e.g. waiting out the upgrade timeout)
  --cases DIR        also load every *.yaml case file below DIR; repeatable
  --format FORMAT    table (default), json, junit, markdown (a CI step summary)
                     or html (one self-contained page, filterable, with traces)
  --out FILE         write the report to FILE instead of stdout; checked
                     before the run, written to a temporary file renamed
                     into place (a killed run leaves the previous report
                     intact), and written even when the run is interrupted
  --parallel N       cases run at once (default %d); cases marked serial
                     always run alone
  -v                 table format: show every case's trace, not only those
                     of failed and errored cases
  --strict           a warn (a broken SHOULD of the spec) fails the run too
  --deployment       run the deployment checks instead of the cases: URL is
                     a proxy or load balancer in front of one or more nodes
                     (stickiness, WebSocket, idle survival, cross-node
                     broadcast, CORS); --only selects among their ids:
                     deploy.sticky, deploy.websocket, deploy.idle,
                     deploy.broadcast, deploy.cors. The nodes need the
                     test handlers of peers/README.md (message-back,
                     join, broadcast), else those checks are errors
  --node-header NAME the response header in which a node names itself, to
                     show where clients landed (default %s)
  --show-secrets     keep credentials in the report: CONNECT auth values,
                     token-like query values (token, auth, key, password,
                     secret, jwt, access_token, signature...), Authorization
                     and Cookie headers; masked as *** by default. URL
                     userinfo is never shown

Server settings. Cases judge against the contract's (ping 300/200 ms,
maxPayload 1000000, connectTimeout 1000 ms). A server advertising others in
its handshake is refused (exit 2) unless its settings are stated; cases
timed for the contract's settings are then n/a:
  --ping-interval D  the server's pingInterval, e.g. 25s
  --ping-timeout D   the server's pingTimeout
  --max-payload N    the server's maxPayload (maxHttpBufferSize), bytes
  --connect-timeout D  the server's Socket.IO connectTimeout
  --settings-from-handshake  take pingInterval, pingTimeout and maxPayload
                     from the server's handshake

Before the cases, one handshake on /engine.io/ and /socket.io/ finds what
the target is: nothing Engine.IO at either (a plain HTTP server) is exit 2;
a Socket.IO-only server gets its /engine.io/ cases n/a, said in one line.

While the run lasts and stderr is a terminal, one line per finished case
goes to stderr. Ctrl-C stops the run and still writes the report of the
cases that finished, which says "interrupted: N of M cases finished" in
place of a verdict (in JUnit as an error, so that CI shows red); a second
Ctrl-C stops waiting for the cases still running and writes that report at
once; a third kills it.

Exit status:
  0  no selected case failed or errored (warn, n/a and info allowed;
     warn not with --strict)
  1  a case failed or errored (or warned, with --strict), or the run was
     interrupted
  2  usage error, unreachable target or broken case file

Examples:
  sioconform run --url http://127.0.0.1:3000
  sioconform run --url http://127.0.0.1:3000 --only 'eio4.handshake' --skip '*.ws.*' -v
  sioconform run --url http://127.0.0.1:3000 --eio 3 --format junit --out conform.xml
  sioconform run --url http://127.0.0.1:3000 --cases ./my-cases --only 'sio5.custom.*'
  sioconform run --url http://127.0.0.1:8080 --deployment
`

// runFormats renders a report in each --format of run.
var runFormats = map[string]func(w io.Writer, r *conform.Report, o reports.TableOptions) error{
	"table": reports.ConformTable,
	"json":  func(w io.Writer, r *conform.Report, _ reports.TableOptions) error { return reports.ConformJSON(w, r) },
	"junit": func(w io.Writer, r *conform.Report, _ reports.TableOptions) error { return reports.ConformJUnit(w, r) },
	"markdown": func(w io.Writer, r *conform.Report, _ reports.TableOptions) error {
		return reports.ConformMarkdown(w, r)
	},
	"html": func(w io.Writer, r *conform.Report, _ reports.TableOptions) error {
		return reports.ConformHTML(w, "sioconform", r)
	},
}

// runCmd is `sioconform run`.
func runCmd(ctx context.Context, st *cli.State, eng engine, args []string) error {
	fs := newFlagSet("run")
	target := fs.String("url", "", "")
	var sel selection
	sel.register(fs, 4)
	format := fs.String("format", "table", "")
	out := fs.String("out", "", "")
	parallel := fs.Int("parallel", conform.DefaultParallel, "")
	verbose := fs.Bool("v", false, "")
	strict := fs.Bool("strict", false, "")
	deployment := fs.Bool("deployment", false, "")
	nodeHeader := fs.String("node-header", conform.DefaultNodeHeader, "")
	showSecrets := fs.Bool("show-secrets", false, "")
	set := conform.ContractSettings
	fs.DurationVar(&set.PingInterval, "ping-interval", set.PingInterval, "")
	fs.DurationVar(&set.PingTimeout, "ping-timeout", set.PingTimeout, "")
	fs.IntVar(&set.MaxPayload, "max-payload", set.MaxPayload, "")
	fs.DurationVar(&set.ConnectTimeout, "connect-timeout", set.ConnectTimeout, "")
	fromHandshake := fs.Bool("settings-from-handshake", false, "")
	if err := parseFlags(st, fs, fmt.Sprintf(runUsage, conform.DefaultParallel, conform.DefaultNodeHeader), args); err != nil {
		return err
	}
	if *target == "" {
		return usageErr(fs, "--url is required")
	}
	if err := conform.CheckTarget(*target); err != nil {
		return usageErr(fs, "--url %s: %v", conform.RedactURL(*target), err)
	}
	render, ok := runFormats[*format]
	if !ok {
		return usageErr(fs, "--format %q: want table, json, junit, markdown or html", *format)
	}
	if *parallel < 1 {
		return usageErr(fs, "--parallel %d: want at least 1", *parallel)
	}
	var stated *conform.Settings
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "ping-interval", "ping-timeout", "max-payload", "connect-timeout":
			stated = &set
		}
	})
	if set.PingInterval <= 0 || set.PingTimeout <= 0 || set.MaxPayload <= 0 || set.ConnectTimeout <= 0 {
		return usageErr(fs, "--ping-interval, --ping-timeout, --max-payload and --connect-timeout must be positive")
	}
	if err := sel.check(fs, false); err != nil {
		return err
	}
	if *deployment {
		return runDeployment(ctx, st, conform.DeployConfig{URL: *target, Only: sel.only, NodeHeader: *nodeHeader}, render, *format, *out, *verbose)
	}

	all, err := sel.load(eng)
	if err != nil {
		return err
	}
	cases, err := sel.pick(eng, all, sel.eio)
	if err != nil {
		return err
	}
	dst, err := openOut(st, *out)
	if err != nil {
		return err
	}

	cfg := conform.Config{
		URL: *target, EIO: sel.eio, Parallel: *parallel,
		ShowSecrets: *showSecrets,
		Settings:    stated, Preflight: true, SettingsFromHandshake: *fromHandshake,
		Notice: func(s string) { fmt.Fprintln(st.Stderr, "sioconform: "+s) },
	}
	rep, runErr := conform.Collect(ctx, cases, *target, sel.eio, newProgress(st, "", len(cases)).done,
		func(progress func(conform.Result)) (*conform.Report, error) {
			cfg.Progress = progress
			return runAbortable(ctx, func() (*conform.Report, error) { return eng.Run(ctx, cases, cfg) })
		})
	if rep != nil {
		rep.Strict = *strict
		opts := reports.TableOptions{Verbose: *verbose, Color: *format == "table" && dst.color()}
		if err := dst.write(func(w io.Writer) error { return render(w, rep, opts) }); err != nil {
			return err
		}
	}

	switch {
	case rep != nil && rep.Interrupted:
		return cli.WithExitCode(errors.New(rep.Interruption()), cli.ExitFailed)
	case runErr != nil:
		// Run fails only when the target cannot be reached at all.
		return cli.WithExitCode(runErr, cli.ExitUsage)
	case rep == nil:
		return errors.New("internal error: the engine returned no report and no error")
	case rep.Failed():
		return cli.WithExitCode(failedErr(rep), cli.ExitFailed)
	}
	return nil
}

// failedErr says how many cases failed, for stderr: the report itself may
// have gone to a file.
func failedErr(rep *conform.Report) error {
	c := rep.Counts()
	if rep.Strict && c[conform.Warn] > 0 {
		return fmt.Errorf("%s: %d failed, %d warned (--strict), %d errored (of %d cases)", rep.Target, c[conform.Fail], c[conform.Warn], c[conform.Error], len(rep.Results))
	}
	return fmt.Errorf("%s: %d failed, %d errored (of %d cases)", rep.Target, c[conform.Fail], c[conform.Error], len(rep.Results))
}

// progress prints one line per finished case to stderr when stderr is a
// terminal (in CI logs the report says it all). Which cases finished
// before an interruption is the engine's to know (conform.Collector).
type progress struct {
	mu     sync.Mutex
	w      io.Writer // nil: print nothing
	prefix string
	total  int
	n      int
}

// newProgress returns the progress of a run of total cases; prefix (a
// matrix target's name) starts every line.
func newProgress(st *cli.State, prefix string, total int) *progress {
	p := &progress{prefix: prefix, total: total}
	if st.Terminal(st.Stderr) {
		p.w = st.Stderr
	}
	return p
}

// done prints r, the n-th finished case.
func (p *progress) done(r conform.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.w != nil {
		// Milliseconds, as in the reports.
		fmt.Fprintf(p.w, "%s[%*d/%d] %-5s %s %.1fms\n", p.prefix, len(fmt.Sprint(p.total)), p.n, p.total,
			r.Verdict, r.ID, float64(r.Duration)/float64(time.Millisecond))
	}
}

// runAbortable is run (an engine's run of cases) that gives up waiting on
// a second Ctrl-C (cli.Abort): it then returns no report and no error,
// and conform.Collect makes the partial report of the cases that
// finished. run's goroutine is left to the process's exit.
func runAbortable(ctx context.Context, run func() (*conform.Report, error)) (*conform.Report, error) {
	type ran struct {
		rep *conform.Report
		err error
	}
	done := make(chan ran, 1)
	go func() {
		rep, err := run()
		done <- ran{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-cli.Abort(ctx):
		return nil, nil
	}
}

// output is where a report goes: stdout, or a file checked before the run
// so that an unwritable path is a usage error now, not after a long run.
// The file is written only at the end, atomically (cli.WriteFile): until
// then the previous report stays as it was.
type output struct {
	st   *cli.State
	name string // "" for stdout
}

// openOut checks --out (without touching the file) or returns stdout.
func openOut(st *cli.State, name string) (*output, error) {
	o := &output{st: st, name: name}
	if name == "" || name == "-" {
		o.name = ""
		return o, nil
	}
	if err := cli.CheckOutput("--out", name); err != nil {
		return nil, cli.WithExitCode(err, cli.ExitUsage)
	}
	return o, nil
}

// color reports whether a table written here should have colours: only on
// a terminal, and never when NO_COLOR is set (https://no-color.org).
func (o *output) color() bool {
	return o.name == "" && o.st.Terminal(o.st.Stdout) && (o.st.Env == nil || o.st.Env("NO_COLOR") == "")
}

// write renders into memory first and then writes in one go, so that a
// rendering error never leaves half a report behind.
func (o *output) write(render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if o.name == "" {
		_, err := o.st.Stdout.Write(buf.Bytes())
		return err
	}
	if err := cli.WriteFile(o.name, buf.Bytes()); err != nil {
		return cli.WithExitCode(fmt.Errorf("--out: %w", err), cli.ExitUsage)
	}
	return nil
}
