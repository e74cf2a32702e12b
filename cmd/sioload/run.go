package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/redact"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/workers"
	"github.com/siokit/siokit/reports"
	"github.com/siokit/siokit/scenarios"
)

const runUsage = `Usage: sioload run SCENARIO.yaml [options]

Runs the scenario, shows live progress on stderr, prints the summary on
stdout. --out is written first (to a temporary file renamed into place,
so that a killed run leaves the previous report intact), then the
summary. Ctrl-C stops the run early, closes the connections (for at most
1 s) and still writes the results gathered so far; a second Ctrl-C skips
the closing; a third kills at once. Exit status 1 when the run failed (no
client connected, target unreachable, errors above max_error_rate) or was
interrupted, 3 when a threshold fails.

--segment I/N runs part I (from 0) of N equal parts against a target the
parts share, --start-at makes the parts start together; "sioload report"
merges their --out files into the whole run's result.

--workers N runs the parts itself: N processes of this binary on this
machine, started together, each with source addresses of its own when
the clients need more ports than one address has (127.200.I.x); their
progress is shown as one and their results merged into one summary and
one --out. Ctrl-C stops them all; a worker that dies costs its clients'
results only, and the merged result names it. --workers auto takes as
many as the client count needs under the open-files limit.

Options:
`

// overrides are the flags that change a scenario.
type overrides struct {
	target, transport string
	clients           int
	duration          time.Duration
	insecure          bool
	caFile            string
	sourceAddrs       cli.List
}

func (o *overrides) register(fs *flag.FlagSet, withTransport bool) {
	fs.StringVar(&o.target, "target", "", "server URL (default: the scenario's target, else the built-in target)")
	if withTransport {
		fs.StringVar(&o.transport, "transport", "", "websocket, polling or upgrade (default: the scenario's)")
	}
	fs.IntVar(&o.clients, "clients", 0, "closed model: clients to reach; open model: max concurrent clients")
	fs.DurationVar(&o.duration, "duration", 0, "closed model: hold time; open model: arrival duration")
	fs.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (self-signed test servers); the scenario's tls.insecure")
	fs.StringVar(&o.caFile, "ca-file", "", "also trust the CA certificates of this PEM file; the scenario's tls.ca_file")
	fs.Var(&o.sourceAddrs, "source-addrs", "comma-separated source addresses for the clients, replacing the scenario's source_addrs")
}

// transports are the values of --transport, in the order errors list them.
var transports = []string{scenarios.TransportWebSocket, scenarios.TransportPolling, scenarios.TransportUpgrade}

// checkTransport refuses a transport name that is not one of transports.
func checkTransport(flagName, t string) error {
	if !slices.Contains(transports, t) {
		return flagErr(flagName, "%q is not one of %s", t, strings.Join(transports, ", "))
	}
	return nil
}

// check refuses bad flag values before the scenario is even read, naming
// the flag: "--clients 0" must not be mistaken for a scenario's line.
func (o *overrides) check(fs *flag.FlagSet) error {
	if isSet(fs, "target") {
		if err := checkTargetURL(o.target); err != nil {
			return flagErr("target", "%v", err)
		}
	}
	if isSet(fs, "transport") {
		if err := checkTransport("transport", o.transport); err != nil {
			return err
		}
	}
	if isSet(fs, "clients") && o.clients < 1 {
		return flagErr("clients", "want at least 1, got %d", o.clients)
	}
	if isSet(fs, "duration") && o.duration <= 0 {
		return flagErr("duration", "want a positive duration, got %v", o.duration)
	}
	if isSet(fs, "ca-file") {
		if _, err := scenarios.LoadCA(o.caFile); err != nil {
			return flagErr("ca-file", "%v", err)
		}
	}
	return nil
}

// checkTargetURL wants an http, https, ws or wss URL with a host: a bare
// "127.0.0.1:3000" parses as something else entirely.
func checkTargetURL(raw string) error {
	if scenarios.CheckTarget(raw) != nil {
		return fmt.Errorf("%q is not a server URL: want http://, https://, ws:// or wss://HOST[:PORT]", raw)
	}
	return nil
}

// scenario loads the file and applies the overrides (checked by check).
func (o *overrides) scenario(path string) (*scenarios.Scenario, error) {
	s, err := scenarios.LoadFile(path)
	if err != nil {
		return nil, cli.WithExitCode(err, cli.ExitUsage)
	}
	if o.target != "" {
		s.Target = o.target
		s.Targets = nil // --target replaces the scenario's targets too
	}
	if o.transport != "" {
		s.Transport = o.transport
	}
	if o.insecure {
		s.TLS.Insecure = true
	}
	if o.caFile != "" {
		s.TLS.CAFile = o.caFile
	}
	if len(o.sourceAddrs) > 0 {
		s.SourceAddrs = o.sourceAddrs
	}
	if o.clients > 0 {
		if s.Load.Model == scenarios.ModelOpen {
			s.Load.MaxClients = o.clients
		} else {
			s.Load.Clients = o.clients
		}
	}
	if o.duration > 0 {
		if s.Load.Model == scenarios.ModelOpen {
			s.Load.Duration = o.duration
		} else {
			s.Load.Hold = o.duration
		}
	}
	if err := s.Validate(); err != nil {
		return nil, cli.WithExitCode(err, cli.ExitUsage)
	}
	return s, nil
}

// resolveTarget returns the URL to load: the scenario's, or else that of
// the built-in target, started in-process on 127.0.0.1; stop ends it.
// restart is set for the built-in target only (the restart_target fault).
func resolveTarget(s *scenarios.Scenario) (url string, restart func(time.Duration) error, stop func(), err error) {
	if s.Target != "" || len(s.Targets) > 0 {
		// With targets the URL stays "": the engine spreads clients over them.
		return s.Target, nil, func() {}, nil
	}
	b, err := load.StartBuiltin(target.Options{})
	if err != nil {
		return "", nil, nil, err
	}
	return b.URL, b.Restart, func() { b.Close() }, nil
}

func runCmd(st *cli.State, args []string) error {
	fs := flag.NewFlagSet("sioload run", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), runUsage); fs.PrintDefaults() }
	var o overrides
	o.register(fs, true)
	out := fs.String("out", "", "write the whole result as JSON to this file (checked before the run)")
	quiet := fs.Bool("quiet", false, "no live progress on stderr")
	junit := fs.String("junit", "", "write JUnit XML (a testcase per threshold, one for errors) to this file")
	summaryMD := fs.String("summary-md", "", "write a Markdown summary (for a CI step summary, e.g. $GITHUB_STEP_SUMMARY) to this file")
	html := fs.String("html", "", "write a self-contained HTML report (charts over time) to this file")
	interval := fs.Duration("interval", time.Second, "timeline interval (the --out JSON's timeline has one entry per interval)")
	segment := fs.String("segment", "", "run part I of N equal parts (I from 0 to N-1, e.g. 1/3); merge the parts' --out files with sioload report")
	startAt := fs.String("start-at", "", "start at this RFC3339 time (e.g. 2026-01-02T15:04:05Z), so that parts run by several processes start together")
	nWorkers := fs.String("workers", "", `run as N worker processes of this binary, one part each, and merge their results; "auto": as many as the open-files limit needs`)
	progressFD := fs.Int("progress-fd", 0, "write live progress as JSON lines to this inherited file descriptor (how --workers' workers report)")
	pos, err := parse(fs, st.Stderr, args)
	if err != nil {
		return err
	}
	if v := st.Env(workers.TargetEnv); v != "" && isSet(fs, "segment") && !isSet(fs, "target") {
		_ = fs.Set("target", v) // a worker of run --workers: its target, out of ps's sight
	}
	var seg load.Segment
	if *segment != "" {
		if seg, err = load.ParseSegment(*segment); err != nil {
			return flagErr("segment", "%v", err)
		}
	}
	var at time.Time
	if *startAt != "" {
		if at, err = time.Parse(time.RFC3339, *startAt); err != nil {
			return flagErr("start-at", "%q is not an RFC3339 time such as 2026-01-02T15:04:05Z", *startAt)
		}
		if err := load.CheckStartAt(at, time.Now()); err != nil {
			return flagErr("start-at", "%v", err)
		}
	}
	if *nWorkers != "" && *segment != "" {
		return flagErr("workers", "--workers runs the parts itself: give --workers or --segment, not both")
	}
	if *progressFD < 0 || *progressFD > 0 && *progressFD < 3 {
		return flagErr("progress-fd", "want an inherited descriptor, 3 or more, got %d", *progressFD)
	}
	if *interval < 10*time.Millisecond {
		return usageErr("--interval must be at least 10ms, got %s", *interval)
	}
	if _, err := oneScenario(fs, pos); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	outs := outputs{json: *out, html: *html, junit: *junit, md: *summaryMD}
	if err := outs.check(); err != nil {
		return err
	}
	s, err := o.scenario(pos[0])
	if err != nil {
		return err
	}
	m := scenarioMasker(s)
	st = masked(st, m)
	if *nWorkers != "" {
		return maskErr(m, runWorkers(st, m, fs, s, pos[0], *nWorkers, at, *quiet, outs))
	}
	if err := load.CheckSegment(s, seg); err != nil {
		return maskErr(m, cli.WithExitCode(err, cli.ExitUsage))
	}
	if seg.Count > 1 && s.Target == "" && len(s.Targets) == 0 {
		// Each part would load a built-in target of its own: the merge
		// would be of N small runs, not of one split run.
		return flagErr("segment", "parts need one target they share: give --target (e.g. a sioload serve) or set the scenario's target")
	}
	targetURL, restart, stopTarget, err := resolveTarget(s)
	if err != nil {
		return maskErr(m, err)
	}
	defer stopTarget()
	ctx, stop := cli.Signals(context.Background())
	defer stop()
	opts := load.Options{Target: targetURL, Restart: restart, Abort: cli.Abort(ctx), Interval: *interval, Segment: seg, StartAt: at}
	if !*quiet && !at.IsZero() {
		fmt.Fprintf(st.Stderr, "sioload: starting at %s (--start-at), in %s\n", at.Format(time.RFC3339), time.Until(at).Round(time.Second))
	}
	if !*quiet {
		p := newProgress(st.Stderr, st.Terminal(st.Stderr))
		opts.Progress = p.update
		defer p.done()
	}
	if *progressFD > 0 {
		f := os.NewFile(uintptr(*progressFD), "progress")
		if f == nil {
			return flagErr("progress-fd", "descriptor %d is not open", *progressFD)
		}
		defer f.Close()
		opts.Progress = workers.ProgressWriter(f)
	}
	res, err := load.Run(ctx, s, opts)
	if err != nil {
		if errors.Is(err, load.ErrUnsupported) {
			return maskErr(m, cli.WithExitCode(err, cli.ExitUsage))
		}
		return maskErr(m, err)
	}
	return maskErr(m, finish(st, m, res, s.Name, outs))
}

// outputs are the files a run writes besides the summary on stdout.
type outputs struct{ json, html, junit, md string }

// check checks every output path before anything runs (cli.CheckOutput).
func (o outputs) check() error {
	for _, f := range []struct{ flag, path string }{{"--out", o.json}, {"--html", o.html}, {"--junit", o.junit}, {"--summary-md", o.md}} {
		if err := checkOut(f.flag, f.path); err != nil {
			return err
		}
	}
	return nil
}

// finish writes the files, prints the summary and maps the outcome to an
// exit code: failed or interrupted 1, threshold failed 3. The JSON goes
// first, then the HTML and CI files, then the summary; a failure of one
// output does not stop the others (stdout on a full disk still leaves
// --out), and write errors are reported with the verdict.
func finish(st *cli.State, m *redact.Masker, res *metrics.Result, name string, o outputs) error {
	sum := res.Summarize()
	var errs []error
	if o.json != "" {
		if err := writeJSON(o.json, m, res); err != nil {
			errs = append(errs, fmt.Errorf("--out: %w", err))
		}
	}
	if err := writeHTML(o.html, m, []reports.HTMLRun{{Name: name, Result: res}}); err != nil {
		errs = append(errs, fmt.Errorf("--html: %w", err))
	}
	errs = append(errs, writeCI(o.junit, o.md, m, sum)...)
	if err := render(st.Stdout, func(w io.Writer) error { return reports.LoadSummary(w, sum) }); err != nil {
		errs = append(errs, fmt.Errorf("writing the summary: %w", err))
	}
	return errors.Join(append(errs, verdict(res.Partial, res.StopReason, []*metrics.Summary{sum}))...)
}

// verdict maps the engine's verdict to an exit status: failed or
// interrupted 1, a threshold failed 3 (ExitThreshold).
func verdict(partial bool, reason string, sums []*metrics.Summary) error {
	v := metrics.Decide(sums, partial, reason)
	switch v.Outcome {
	case metrics.Failed, metrics.Partial:
		return errors.New(v.Message)
	case metrics.ThresholdsFailed:
		return cli.WithExitCode(errors.New(v.Message), ExitThreshold)
	}
	return nil
}

// writeJSON writes v as indented JSON to path, atomically (cli.WriteFile),
// with m's secrets masked. HTML escaping is off so that a URL's "&" stays
// "&" and the masking sees the query parameters.
func writeJSON(path string, m *redact.Masker, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return cli.WriteFile(path, m.Bytes(b.Bytes()))
}

// checkOut checks an output path before anything runs (cli.CheckOutput).
func checkOut(flag, path string) error {
	if path == "" {
		return nil
	}
	if err := cli.CheckOutput(flag, path); err != nil {
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	return nil
}

// render renders a report into memory and writes it to w in one Write:
// the masking writer sees it whole, and a failing w fails once.
func render(w io.Writer, fn func(io.Writer) error) error {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// maskErr masks m's secrets in err's message, keeping its exit code and
// leaving silent errors (usage already printed) silent.
func maskErr(m *redact.Masker, err error) error {
	var e *cli.ExitError
	if errors.As(err, &e) && e.Err == nil {
		return err
	}
	return m.Error(err)
}

// scenarioMasker masks what a scenario configures as secret, on top of
// URL userinfo and token-like query parameters: the values of secret
// query parameters and headers (Authorization, Cookie, X-Api-Key...) and
// the string leaves of CONNECT auth payloads under secret-named keys. A
// templated value is masked by its constant parts
// (redact.MinLiteral bytes or longer); in URLs its whole value is masked
// by key.
func scenarioMasker(s *scenarios.Scenario) *redact.Masker {
	m := redact.New()
	for k, v := range s.Query {
		if redact.IsSecretKey(k) {
			m.Key(k)
			literals(m, v)
		}
	}
	for k, v := range s.Headers {
		if redact.IsSecretKey(k) {
			literals(m, v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				literals(m, cred) // "Bearer TOKEN": the token alone, too
			}
		}
	}
	var auth func(key string, x any)
	auth = func(key string, x any) {
		switch x := x.(type) {
		case string:
			if redact.IsSecretKey(key) {
				literals(m, x)
			}
		case map[string]any:
			for k, v := range x {
				auth(k, v)
			}
		case []any:
			for _, v := range x {
				auth(key, v)
			}
		}
	}
	auth("", s.Auth)
	var steps func([]scenarios.Step)
	steps = func(ss []scenarios.Step) {
		for _, st := range ss {
			auth("", st.Auth)
			steps(st.Steps)
		}
	}
	steps(s.Flow)
	if u, err := url.Parse(s.Target); err == nil && u.User != nil {
		literals(m, u.User.String())
		if pw, ok := u.User.Password(); ok {
			literals(m, pw)
		}
	}
	return m
}

// literals registers the constant parts of a template as secrets.
func literals(m *redact.Masker, tmpl string) {
	for tmpl != "" {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			m.Literal(tmpl)
			return
		}
		m.Literal(tmpl[:i])
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			return
		}
		tmpl = tmpl[i+j+2:]
	}
}
