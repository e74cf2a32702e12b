package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultClientParallel is how many client cases (each its own client
// process) run at once when ClientConfig.Parallel is 0.
const DefaultClientParallel = 6

// clientStartTimeout bounds the wait for a client program's first request,
// before its case's timeout starts: peers get 30 s to start on a loaded
// machine, as the server peers do.
const clientStartTimeout = 30 * time.Second

// ClientGrace is how long a client program has to exit after its stdin
// closes before it is killed. The contract gives it 3 s (docs/conformance.md
// §6.5), but no case judges the exit yet and the verdict is already known:
// waiting longer would only slow the run. 'sioconform client run -h' says
// this value.
const ClientGrace = time.Second

// ClientConfig says which client program to judge and how.
type ClientConfig struct {
	// Cmd is the client program, run with sh -c (docs/conformance.md §6.1).
	Cmd string
	// Dir is its working directory; "" = this process's.
	Dir string
	// Parallel caps how many cases run at once; 0 = DefaultClientParallel.
	Parallel int
	// Progress, if set, is called once per finished case, one at a time.
	Progress func(Result)
	// ShowSecrets keeps credentials in the results (see Config).
	ShowSecrets bool
}

// SelectClient keeps the client cases of one Engine.IO version (4:
// client.eio4.* and client.sio5.*; 3: client.eio3.* and client.sio4.*; 0:
// all) and transport ("" = all), then applies only and skip as Select
// does. Sorted by ID.
func SelectClient(cases []*Case, eio int, transport string, only, skip []string) []*Case {
	prefixes := versionPrefixes("client.", eio)
	var out []*Case
	for _, c := range cases {
		if c.Side != "client" || transport != "" && c.Transport != transport {
			continue
		}
		if selected(c.ID, prefixes, only, skip) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RunClient plays every client case against a fresh process of cfg.Cmd:
// per case a scripted server on 127.0.0.1:0 and one client program started
// with the contract's environment, stopped at the end of the case (stdin
// closed, killed after a grace). Cases run concurrently up to
// cfg.Parallel, except serial ones, which run alone after the rest (as in
// Run). The error is non-nil only for an unusable configuration, a
// program that cannot start included (see errClientStart): then no report.
func RunClient(ctx context.Context, cases []*Case, cfg ClientConfig) (*Report, error) {
	if strings.TrimSpace(cfg.Cmd) == "" {
		return nil, errors.New("conform: client run needs the client program (--cmd)")
	}
	for _, c := range cases {
		if c.Side != "client" {
			return nil, fmt.Errorf("conform: case %s is a server case", c.ID)
		}
	}
	rep := &Report{Target: ClientTarget(cfg.Cmd), Started: time.Now(), CasesTotal: len(cases)}
	par := cfg.Parallel
	if par <= 0 {
		par = DefaultClientParallel
	}
	// A program that cannot start is a setup error, not a verdict on the
	// library: the first case that finds it ends the run, the cases still
	// to start do not start it again, and none is reported.
	var startErr atomic.Pointer[error]
	progress := cfg.Progress
	if progress != nil {
		progress = func(r Result) {
			if startErr.Load() == nil {
				cfg.Progress(r)
			}
		}
	}
	rep.Results = schedule(cases, par, progress, func(c *Case) Result {
		if startErr.Load() != nil {
			return Result{ID: c.ID, Verdict: Error, Message: "not run: the client program cannot start"}
		}
		res, err := runClientCase(ctx, c, &cfg)
		if err != nil {
			startErr.CompareAndSwap(nil, &err)
		}
		return res
	})
	if err := startErr.Load(); err != nil {
		return nil, *err
	}
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// errClientStart is the error of a client program that cannot start: sh
// could not be run, or the program exited 126 (found but not executable)
// or 127 (not found) before its first request, as sh -c does for a
// command it cannot run.
func errClientStart(cmd string, err error) error {
	return fmt.Errorf("cannot start the client program (--cmd %q): %w", cmd, err)
}

// startExitCodes are the exit codes of sh -c for a command it could not
// run, each with what it means.
var startExitCodes = map[int]string{126: "found but not executable", 127: "command not found"}

// ClientTarget is how a report names the client program cmd it judged
// (Report.Target of RunClient).
func ClientTarget(cmd string) string { return "client: " + cmd }

// runClientCase runs one client case: the first failing step decides, as
// in runCase; a program that refused the environment (exit 2) makes the
// case n/a. The error is set, and the result meaningless, when the
// program cannot start (errClientStart).
func runClientCase(ctx context.Context, c *Case, cfg *ClientConfig) (Result, error) {
	res := Result{ID: c.ID, Description: c.Description, Spec: c.Spec, Strength: c.Strength, Rule: c.Rule, Official: c.Official, Step: -1, Verdict: Pass}
	r := &runner{c: c, start: time.Now(), vars: map[string]string{"eio": strconv.Itoa(c.EIO), "path": c.Path},
		conns: map[string]*wsConn{}, asyncs: map[string]*asyncReq{}, secrets: map[string]bool{}}
	srv, err := startScriptServer(r)
	if err != nil {
		res.Verdict, res.Message = Error, err.Error()
		return res, nil
	}
	r.srv = srv
	proc, err := startClient(cfg, c, srv.URL())
	if err != nil {
		srv.shutdown()
		return res, errClientStart(cfg.Cmd, err)
	}
	r.proc = proc
	// The program's start (a runtime loading, on a busy machine seconds)
	// is not the case's time: the case's timeout runs from the first thing
	// the program does, which stays in the inbox for the first step.
	if !srv.awaitFirst(ctx, clientStartTimeout, proc.done) {
		if code, exited := proc.exitCode(); exited && startExitCodes[code] != "" {
			proc.stop()
			srv.shutdown()
			r.cleanup()
			err := fmt.Errorf("it exited with code %d (%s) before its first request", code, startExitCodes[code])
			if out := lastLine(proc.log.String()); out != "" {
				err = fmt.Errorf("%w: %s", err, out)
			}
			return res, errClientStart(cfg.Cmd, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	go func() {
		// A program that exits (refused, crashed, or done) will send
		// nothing more: the waiting step ends now rather than at the
		// case's timeout.
		select {
		case <-proc.done:
			cancel()
		case <-cctx.Done():
		}
	}()
	r.runSteps(cctx, c.steps, &res)
	cancel()
	res.Duration = time.Since(r.start) // the case's own time, without the program's exit
	code, exited := proc.exitCode()
	proc.stop()
	srv.shutdown()
	r.cleanup()
	if res.Verdict != Pass {
		switch {
		case exited && code == 2:
			res.Verdict = NA
			res.Message = "the client program refused the environment (exit 2): " + lastLine(proc.log.String())
		case exited:
			res.Message += fmt.Sprintf(" (the client program had exited with code %d)", code)
		}
		if out := proc.log.String(); out != "" {
			r.addTrace(time.Now(), "recv", "log", "client", "client program output:\n"+tail(out, 40))
		}
	}
	r.mu.Lock()
	res.Trace = append([]TraceEntry(nil), r.trace...)
	sanitize(&res, r.secrets, cfg.ShowSecrets)
	r.mu.Unlock()
	return res, nil
}

// clientProc is one running client program.
type clientProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *capBuffer
	done  chan struct{}
}

// startClient starts the program for one case with the contract's
// environment (docs/conformance.md §6.1), in its own process group so
// that stop reaches what sh started.
func startClient(cfg *ClientConfig, c *Case, url string) (*clientProc, error) {
	cmd := exec.Command("sh", "-c", cfg.Cmd)
	cmd.Dir = cfg.Dir
	cmd.Env = append(os.Environ(),
		"SIOCONFORM_URL="+url,
		"SIOCONFORM_TRANSPORT="+c.Transport,
		"SIOCONFORM_EIO="+strconv.Itoa(c.EIO),
		"SIOCONFORM_NAMESPACE=/")
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &clientProc{cmd: cmd, log: &capBuffer{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.WaitDelay = time.Second
	ownGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exitCode returns the program's exit code if it has exited.
func (p *clientProc) exitCode() (int, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	default:
		return 0, false
	}
}

// stop closes stdin (the contract's "exit now"), waits ClientGrace, then
// kills the process group and waits.
func (p *clientProc) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
		return
	case <-time.After(ClientGrace):
	}
	killGroup(p.cmd)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// capBuffer keeps the newest max bytes written to it.
type capBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b = append(c.b, p...)
	if len(c.b) > c.max {
		c.b = append([]byte(nil), c.b[len(c.b)-c.max:]...)
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string { return tail(s, 1) }
