package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

// fakeEngine stands in for internal/conform: canned cases, a verdict per
// case id, and hooks to make a target unreachable or interrupt a run. It
// records what the commands asked of it.
type fakeEngine struct {
	builtin    []*conform.Case
	builtinErr error
	dirs       map[string][]*conform.Case // LoadDir results by folder
	dirErr     error
	verdicts   map[string]conform.Verdict // by case id; pass when absent
	down       map[string]bool            // URLs that are unreachable
	// afterCase, if set, is called after the i-th case of a run (from 0)
	// has been reported, e.g. to cancel the run's context.
	afterCase func(i int)
	// hangAfter, if set, makes Run block after that case (from 0) until
	// hang is closed: a case stuck on a server that never answers.
	hangAfter int
	hang      chan struct{}

	mu      sync.Mutex
	configs []conform.Config
	ran     [][]string // ids per Run
	selects [][]string // only, then skip, per Select
}

func (f *fakeEngine) LoadBuiltin() ([]*conform.Case, error) { return f.builtin, f.builtinErr }

func (f *fakeEngine) LoadDir(dir string) ([]*conform.Case, error) {
	if f.dirErr != nil {
		return nil, f.dirErr
	}
	return f.dirs[dir], nil
}

// Select mimics conform.Select closely enough for the commands: version
// prefixes, globs, plain prefixes and slow cases.
func (f *fakeEngine) Select(cases []*conform.Case, eio int, only, skip []string, slow bool) []*conform.Case {
	f.mu.Lock()
	f.selects = append(f.selects, append(append([]string{}, only...), append([]string{"|"}, skip...)...))
	f.mu.Unlock()
	match := func(pats []string, id string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(p, id); ok || strings.HasPrefix(id, p+".") {
				return true
			}
		}
		return false
	}
	var out []*conform.Case
	for _, c := range cases {
		v := map[int][]string{4: {"eio4.", "sio5."}, 3: {"eio3.", "sio4."}}[eio]
		if v != nil && !strings.HasPrefix(c.ID, v[0]) && !strings.HasPrefix(c.ID, v[1]) {
			continue
		}
		if len(only) > 0 && !match(only, c.ID) || match(skip, c.ID) || c.Slow && !slow {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Run behaves like conform.Run: an error for an unreachable target, else a
// result per case, reported through Progress. Like the real engine it does
// not stop when ctx is cancelled: cases cut short fail with a timeout.
func (f *fakeEngine) Run(ctx context.Context, cases []*conform.Case, cfg conform.Config) (*conform.Report, error) {
	f.mu.Lock()
	f.configs = append(f.configs, cfg)
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	f.ran = append(f.ran, ids)
	f.mu.Unlock()
	if f.down[cfg.URL] {
		return nil, errors.New("conform: target " + cfg.URL + " unreachable: connection refused")
	}
	rep := &conform.Report{Target: cfg.URL, EIO: cfg.EIO, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i, c := range cases {
		res := conform.Result{ID: c.ID, Description: c.Description, Spec: c.Spec, Verdict: conform.Pass,
			Step: -1, Duration: time.Duration(i+1) * time.Millisecond}
		if v, ok := f.verdicts[c.ID]; ok {
			res.Verdict, res.Step, res.Message = v, 1, "step 1 (http, line 9): expected status 200, got 400"
		}
		if ctx.Err() != nil {
			res.Verdict, res.Step, res.Message = conform.Fail, 0, "case timeout (5s) exceeded: context canceled"
		}
		rep.Results = append(rep.Results, res)
		if cfg.Progress != nil {
			cfg.Progress(res)
		}
		if f.afterCase != nil {
			f.afterCase(i)
		}
		if f.hang != nil && i == f.hangAfter {
			<-f.hang
		}
	}
	rep.Duration = time.Second
	return rep, nil
}

// fakeCases is a small catalogue over all four suites.
func fakeCases() []*conform.Case {
	mk := func(id string, eio int) *conform.Case {
		return &conform.Case{ID: id, Description: "checks " + id, Spec: "spec of " + id, EIO: eio,
			Server: "engineio", Path: "/engine.io/", Timeout: 5 * time.Second, File: "cases/x.yaml", Line: 1}
	}
	return []*conform.Case{
		mk("eio4.handshake.polling.ok", 4),
		mk("eio4.handshake.ws.ok", 4),
		mk("eio4.heartbeat.ws.ping", 4),
		mk("sio5.connect.ws.root", 4),
		mk("eio3.handshake.polling.ok", 3),
		mk("sio4.connect.polling.root", 3),
	}
}

func newFake() *fakeEngine {
	return &fakeEngine{builtin: fakeCases(), verdicts: map[string]conform.Verdict{}, down: map[string]bool{}}
}

// result is what one invocation of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs sioconform with args against eng, as main would, with
// neither stream a terminal.
func runCLI(t *testing.T, eng engine, args ...string) result {
	t.Helper()
	return runCLIWith(t, context.Background(), eng, nil, args...)
}

// runCLIWith is runCLI with a context and a state tweak.
func runCLIWith(t *testing.T, ctx context.Context, eng engine, tweak func(*cli.State), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	st := &cli.State{Stdout: &stdout, Stderr: &stderr, Args: args, Env: func(string) string { return "" }}
	if tweak != nil {
		tweak(st)
	}
	code := run(ctx, st, eng)
	return result{code, stdout.String(), stderr.String()}
}

// terminal makes the given streams of a State terminals.
func terminal(stdout, stderr bool) func(*cli.State) {
	return func(st *cli.State) {
		out, errw := st.Stdout, st.Stderr
		st.IsTerminal = func(w io.Writer) bool { return stdout && w == out || stderr && w == errw }
	}
}

func (f *fakeEngine) runs() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ran)
}
