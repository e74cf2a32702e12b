package conform_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/server"
)

// The built-in suite against every implementation we have a contract server
// for (peers/README.md, "Contract peers") and against siokit's own server
// (internal/target). What each one is expected to get is kept, with the
// reason for every verdict other than pass, in expectationsFile; the same
// table annotates docs/conformance-matrix.md (see matrixdoc_test.go).

// expectationsFile holds the expected non-pass verdicts per implementation.
var expectationsFile = "testdata/expected-verdicts.yaml"

var (
	expectFlag = flag.String("conform.expect", "", "TestImplementations: expected verdicts file (default "+expectationsFile+")")
	casesFlag  = flag.String("conform.cases", "", "TestImplementations: also run the cases of every *.yaml below this folder")
)

// loadCases returns the built-in cases, plus those of -conform.cases.
func loadCases(tb testing.TB) []*conform.Case {
	tb.Helper()
	cases, err := conform.LoadBuiltin()
	if err != nil {
		tb.Fatal(err)
	}
	if *casesFlag != "" {
		more, err := conform.LoadDir(*casesFlag)
		if err != nil {
			tb.Fatal(err)
		}
		cases = append(cases, more...)
	}
	return cases
}

// reasonKinds are the kinds of reason why a server does not pass a case.
var reasonKinds = map[string]string{
	"bug":     "a real bug: the server breaks the protocol or fails the official test suite",
	"version": "a protocol version (or revision) the server does not speak",
	"allowed": "a choice the spec allows, or an optional feature the server does not offer",
}

// implementation is one server the suite runs against.
type implementation struct {
	// Name is the matrix column.
	Name string `yaml:"name"`
	// About says what it is: library, version, runtime.
	About string `yaml:"about"`
	// Peer is the testpeer name of its contract server, with Env added to
	// its environment; empty for siokit's own server (Builtin).
	Peer string   `yaml:"peer"`
	Env  []string `yaml:"env"`
	// Builtin marks siokit's own server, run in process.
	Builtin bool `yaml:"builtin"`
	// EIO is the Engine.IO version whose cases it runs (4: eio4.* and
	// sio5.*; 3: eio3.* and sio4.*).
	EIO int `yaml:"eio"`
	// Isolate lists cases that crash the server: they run one at a time
	// after the others, the server restarted after each (peers only).
	Isolate []string      `yaml:"isolate"`
	Groups  []expectGroup `yaml:"groups"`
}

// expectGroup is a set of cases with the same non-pass verdict for the
// same reason.
type expectGroup struct {
	Verdict conform.Verdict `yaml:"verdict"`
	Kind    string          `yaml:"kind"`
	Why     string          `yaml:"why"`
	Cases   []string        `yaml:"cases"`
	// Racy marks cases whose outcome depends on a race in the server (not
	// on the machine's load): each run gets Verdict or pass.
	Racy bool `yaml:"racy"`
}

// want returns, by case id, the group listing that case.
func (im *implementation) want() map[string]*expectGroup {
	m := map[string]*expectGroup{}
	for i := range im.Groups {
		for _, id := range im.Groups[i].Cases {
			m[id] = &im.Groups[i]
		}
	}
	return m
}

// expected is the verdict want (from implementation.want) expects of id.
func expected(want map[string]*expectGroup, id string) conform.Verdict {
	if g := want[id]; g != nil {
		return g.Verdict
	}
	return conform.Pass
}

// accepts reports whether v is an expected verdict of id: the expected
// one, or pass for a racy case.
func accepts(want map[string]*expectGroup, id string, v conform.Verdict) bool {
	g := want[id]
	return v == expected(want, id) || g != nil && g.Racy && v == conform.Pass
}

// loadExpectations reads expectationsFile and checks it against the
// built-in cases: every listed case is a case of the implementation's
// suite and is listed once; every group has a verdict other than pass, a
// known kind and a one-line reason.
func loadExpectations(tb testing.TB, cases []*conform.Case) []*implementation {
	tb.Helper()
	if *expectFlag != "" {
		expectationsFile = *expectFlag
	}
	var doc struct {
		Implementations []*implementation `yaml:"implementations"`
	}
	readStrict(tb, expectationsFile, &doc)
	suiteOf := func(im *implementation) ([]*conform.Case, string) {
		return conform.Select(cases, im.EIO, nil, nil), fmt.Sprintf("the EIO%d suite", im.EIO)
	}
	checkImplementations(tb, expectationsFile, "implementation", doc.Implementations, suiteOf, func(im *implementation, where string, suite map[string]bool) {
		switch {
		case im.EIO != 3 && im.EIO != 4:
			tb.Fatalf("%s: eio %d, want 3 or 4", where, im.EIO)
		case (im.Peer == "") == !im.Builtin:
			tb.Fatalf("%s: want exactly one of peer and builtin", where)
		case im.About == "":
			tb.Fatalf("%s: about is empty", where)
		}
		for _, id := range im.Isolate {
			if !suite[id] || im.Builtin {
				tb.Errorf("%s: isolate: %s is not a case of the EIO%d suite, or the server is not a peer", where, id, im.EIO)
			}
		}
	})
	return doc.Implementations
}

// checkImplementations checks the implementations of an expectations
// file: each named once (noun says of what), each passing check (its own
// keys; where names it in messages, suite is its suite's case ids), and
// its groups listing only cases of its suite (suiteOf: the cases and
// their name in messages). It stops the test at the first problem.
func checkImplementations(tb testing.TB, file, noun string, impls []*implementation,
	suiteOf func(*implementation) ([]*conform.Case, string), check func(im *implementation, where string, suite map[string]bool)) {
	tb.Helper()
	names := map[string]bool{}
	for _, im := range impls {
		if im.Name == "" || names[im.Name] {
			tb.Fatalf("%s: empty or duplicate %s name %q", file, noun, im.Name)
		}
		names[im.Name] = true
		where := file + ": " + im.Name
		cases, suiteName := suiteOf(im)
		suite := map[string]bool{}
		for _, c := range cases {
			suite[c.ID] = true
		}
		check(im, where, suite)
		checkGroups(tb, where, im.Groups, suite, suiteName)
	}
	if tb.Failed() {
		tb.FailNow()
	}
}

// readStrict decodes the YAML file path into v, failing tb on an unknown
// field as on any other error.
func readStrict(tb testing.TB, path string, v any) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// checkGroups checks where's groups of expected non-pass verdicts: every
// group has a verdict other than pass, a known kind and a one-line reason,
// and lists only cases of suite (named so in messages), each once.
func checkGroups(tb testing.TB, where string, groups []expectGroup, suite map[string]bool, suiteName string) {
	tb.Helper()
	seen := map[string]bool{}
	for _, g := range groups {
		why := strings.TrimSpace(g.Why)
		switch {
		case g.Verdict != conform.Fail && g.Verdict != conform.Warn && g.Verdict != conform.NA && g.Verdict != conform.Info && g.Verdict != conform.Error:
			tb.Fatalf("%s: verdict %q, want fail, warn, n/a, info or error", where, g.Verdict)
		case reasonKinds[g.Kind] == "":
			tb.Fatalf("%s: kind %q, want bug, version or allowed", where, g.Kind)
		case g.Verdict == conform.Fail && g.Kind == "allowed":
			// A case fails only on a broken must: what the spec
			// allows is never a fail (grade the case open or should).
			tb.Fatalf("%s: a fail of kind allowed: a broken must is a bug (or a version)", where)
		case why == "" || strings.Contains(why, "\n"):
			tb.Fatalf("%s: the reason of %v must be one line", where, g.Cases)
		case len(g.Cases) == 0:
			tb.Fatalf("%s: group %q lists no case", where, g.Why)
		}
		for _, id := range g.Cases {
			if !suite[id] {
				tb.Errorf("%s: %s is not a case of %s (renamed or removed?)", where, id, suiteName)
			}
			if seen[id] {
				tb.Errorf("%s: %s is listed twice", where, id)
			}
			seen[id] = true
		}
	}
}

// contractOptions configures the built-in target as docs/conformance.md §1
// says: ping 300/200, connectTimeout 1000, maxHttpBufferSize 1e6, CORS *,
// and the Engine.IO echo server on /engine.io/ (target's default).
func contractOptions() target.Options {
	return target.Options{Server: server.Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		ConnectTimeout:    time.Second,
		MaxHTTPBufferSize: 1e6,
		CORSOrigin:        "*",
	}}
}

// startBuiltin serves the built-in Go target on 127.0.0.1:0.
func startBuiltin() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	tg := target.New(contractOptions())
	done := make(chan error, 1)
	go func() { done <- tg.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		tg.Close()
		<-done
	}, nil
}

// running is one started implementation.
type running struct {
	im   *implementation
	url  string
	peer *testpeer.Peer // nil for the built-in target
	stop func()
}

// startAll starts every implementation at once (start-up is mostly
// waiting) and stops them when the test ends. A peer that cannot start
// fails the test with its install hint.
func startAll(tb testing.TB, impls []*implementation) []*running {
	tb.Helper()
	out := make([]*running, len(impls))
	errs := make([]error, len(impls))
	var wg sync.WaitGroup
	for i, im := range impls {
		wg.Go(func() {
			r := &running{im: im}
			if im.Builtin {
				r.url, r.stop, errs[i] = startBuiltin()
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 2*testpeer.StartTimeout)
				defer cancel()
				p, err := testpeer.Launch(ctx, im.Peer, im.Env...)
				if err == nil {
					r.url, r.peer, r.stop = p.URL, p, p.Stop
				}
				errs[i] = err
			}
			out[i] = r
		})
	}
	wg.Wait()
	tb.Cleanup(func() {
		var wg sync.WaitGroup
		for _, r := range out {
			if r.stop != nil {
				wg.Go(r.stop)
			}
		}
		wg.Wait()
	})
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("%s: %v", impls[i].Name, err)
		}
	}
	return out
}

// suiteParallel is how many cases of one implementation run at once.
const suiteParallel = 4

// implParallel is how many implementations run their suites at once. The
// cases hold the contract's 300/200 ms heartbeat to a few tens of
// milliseconds: with all nine servers and their clients busy at once on 2
// cores, pings were measured 300 ms late and sessions timed out.
var implParallel = flag.Int("conform.implparallel", 3, "implementations whose suites run at once (TestImplementations)")

// suiteRun is what runSuite found.
type suiteRun struct {
	rep *conform.Report
	// flakes describes, with its first trace, each case whose verdict was
	// not the expected one but was on a second run, or was inconclusive.
	flakes []string
	// inconclusive counts the cases that were conform.TooSlowToJudge on
	// every run: not failures, but no verdict for the matrix either.
	inconclusive int
	// first is each case's verdict before any second run: what a user
	// running the suite once sees. The stress (-conform.runs) counts it.
	first map[string]conform.Verdict
}

// runSuite runs r's suite: the whole suite of its Engine.IO version, the
// cases r.im.Isolate names one at a time at the end. A case whose verdict
// is not the expected one runs once more, alone: third-party servers have
// rare races of their own (zishang v2 leaves a CONNECT or a probe
// unanswered in about 2 suites of 3, each time in another case) and,
// on 2 cores, a busy moment can delay a 300/200 ms heartbeat past its
// timeout (it runs alone up to twice). Only a verdict that is wrong every
// time counts; the first is kept in
// flakes and logged, and every first-pass verdict in first (the stress,
// bench/conform-stress.sh, counts them). A peer that died is restarted before
// the next case that runs alone; the cases of r.im.Isolate get a fresh one
// each.
func runSuite(r *running, cases []*conform.Case) (*suiteRun, error) {
	ctx := context.Background()
	cfg := conform.Config{URL: r.url, EIO: r.im.EIO, Parallel: suiteParallel}
	byID := map[string]*conform.Case{}
	var main, alone []*conform.Case
	for _, c := range conform.Select(cases, r.im.EIO, nil, nil) {
		byID[c.ID] = c
		if slices.Contains(r.im.Isolate, c.ID) {
			alone = append(alone, c)
		} else {
			main = append(main, c)
		}
	}
	revive := func() error {
		if r.peer != nil && !r.peer.Running() {
			return r.peer.RestartContext(ctx)
		}
		return nil
	}
	runAlone := func(c *conform.Case) (conform.Result, error) {
		if err := revive(); err != nil {
			return conform.Result{}, err
		}
		one, err := conform.Run(ctx, []*conform.Case{c}, cfg)
		if err != nil {
			return conform.Result{}, err
		}
		return one.Results[0], nil
	}

	rep, err := conform.Run(ctx, main, cfg)
	if err != nil {
		return nil, err
	}
	out := &suiteRun{rep: rep}
	for _, c := range alone {
		res, err := runAlone(c)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, res)
		// A fresh server for what follows: the crash may still be under
		// way (the connection closes before the process has exited).
		if err := r.peer.RestartContext(ctx); err != nil {
			return nil, err
		}
	}
	want := r.im.want()
	out.first = map[string]conform.Verdict{}
	for i, res := range rep.Results {
		out.first[res.ID] = res.Verdict
		if accepts(want, res.ID, res.Verdict) {
			continue
		}
		// Up to two runs alone: on a busy machine even a case run alone
		// can miss the contract's 500 ms session life once.
		var again conform.Result
		for range 2 {
			var err error
			if again, err = runAlone(byID[res.ID]); err != nil {
				return nil, err
			}
			if accepts(want, res.ID, again.Verdict) {
				break
			}
		}
		if accepts(want, res.ID, again.Verdict) {
			out.flakes = append(out.flakes, fmt.Sprintf("%s: %s got %s, then %s on a second run; the first run:\n%s",
				r.im.Name, res.ID, res.Verdict, again.Verdict, dump(res)))
		} else if conform.TooSlowToJudge(again) {
			out.inconclusive++
			out.flakes = append(out.flakes, fmt.Sprintf("%s: %s inconclusive: its 1 MB went out after the first ping was due, every run; the last:\n%s",
				r.im.Name, res.ID, dump(again)))
		}
		rep.Results[i] = again
	}
	if err := revive(); err != nil {
		return nil, err
	}
	sort.SliceStable(rep.Results, func(i, j int) bool { return rep.Results[i].ID < rep.Results[j].ID })
	rep.Duration = time.Since(rep.Started)
	return out, nil
}

// runAll runs every implementation's suite n times in a row against the
// same server, implParallel suites at a time, and returns the runs by
// implementation, in order.
func runAll(tb testing.TB, rs []*running, cases []*conform.Case, n int) [][]*suiteRun {
	tb.Helper()
	runs := make([][]*suiteRun, len(rs))
	errs := make([]error, len(rs))
	sem := make(chan struct{}, max(1, *implParallel))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			for range n {
				// The semaphore is taken per suite, so the implementations
				// take turns and the load stays that of a single run.
				sem <- struct{}{}
				run, err := runSuite(r, cases)
				<-sem
				if err != nil {
					errs[i] = err
					return
				}
				runs[i] = append(runs[i], run)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("%s: run %d: %v", rs[i].im.Name, len(runs[i])+1, err)
		}
	}
	return runs
}

// mismatches compares a report with im's expectations and returns one
// message, with the case's trace, per case whose verdict is not the
// expected one.
func mismatches(im *implementation, rep *conform.Report) []string {
	want := im.want()
	var out []string
	for _, res := range rep.Results {
		exp, why := expected(want, res.ID), ""
		if g := want[res.ID]; g != nil {
			why = fmt.Sprintf(" (%s: %s)", g.Kind, g.Why)
		}
		// An inconclusive result (see runSuite) is logged as a flake.
		if !accepts(want, res.ID, res.Verdict) && !conform.TooSlowToJudge(res) {
			out = append(out, fmt.Sprintf("%s: %s got %s, want %s%s\n%s", im.Name, res.ID, res.Verdict, exp, why, dump(res)))
		}
	}
	return out
}

// dump is a result's message, diff and trace, indented.
func dump(res conform.Result) string { return "  " + conform.DumpFailure(res) }

// runsFlag is how many times TestImplementations runs each suite.
var runsFlag = flag.Int("conform.runs", 1, "TestImplementations: run every suite this many times against the same server and print the stress figures (bench/conform-stress.sh)")

// TestImplementations runs the built-in suite against every implementation
// of expectationsFile (implParallel at a time) and checks each case's
// verdict. With -conform.matrix FILE it also writes the conformance matrix
// (docs/conformance-matrix.md), if every verdict was the expected one.
// With -conform.runs N it runs every suite N times against the same
// server, checks every run and prints the stress figures (printStress).
func TestImplementations(t *testing.T) {
	n := max(1, *runsFlag)
	if *matrixOut != "" && n > 1 {
		t.Fatal("-conform.matrix takes one run: drop -conform.runs")
	}
	cases := loadCases(t)
	impls := loadExpectations(t, cases)
	start := time.Now()
	rs := startAll(t, impls)
	started := time.Since(start)
	all := runAll(t, rs, cases, n)
	runs := make([]*suiteRun, len(impls))
	for i, im := range impls {
		runs[i] = all[i][0]
		t.Run(im.Name, func(t *testing.T) {
			for k, run := range all[i] {
				rep, prefix := run.rep, ""
				if n > 1 {
					prefix = fmt.Sprintf("run %d/%d: ", k+1, n)
				}
				for _, m := range mismatches(im, rep) {
					t.Error(prefix + m)
				}
				for _, f := range run.flakes {
					t.Logf("%sflaky: %s", prefix, f)
				}
				c := rep.Counts()
				t.Logf("%s%s (EIO%d): %d cases, %d pass, %d fail, %d warn, %d n/a, %d info, %d error in %v", prefix, im.Name, im.EIO,
					len(rep.Results), c[conform.Pass], c[conform.Fail], c[conform.Warn], c[conform.NA], c[conform.Info], c[conform.Error],
					rep.Duration.Round(time.Millisecond))
			}
			if t.Failed() && rs[i].peer != nil {
				t.Logf("output of peer %s:\n%s", rs[i].peer.Name, rs[i].peer.Output())
			}
		})
	}
	t.Logf("%d implementations: started in %v, %d suites each done in %v", len(impls),
		started.Round(time.Millisecond), n, time.Since(start).Round(time.Millisecond))
	if n > 1 {
		printStress(impls, all)
	}
	if *matrixOut != "" {
		for i, im := range impls {
			if runs[i].inconclusive > 0 {
				t.Fatalf("-conform.matrix: %s not written: %d %s cases inconclusive (the machine was too busy)", *matrixOut, runs[i].inconclusive, im.Name)
			}
		}
		if t.Failed() {
			t.Fatalf("-conform.matrix: %s not written: some verdicts were not the expected ones", *matrixOut)
		}
		writeMatrixDoc(t, *matrixOut, cases, impls, runs)
	}
}

// printStress prints, to stdout as "conform-stress: " lines (the shape
// bench/conform-stress.sh reads), per implementation: its runs, their mean
// and slowest wall time, every racy case and every case whose verdict was
// not the same expected one on every run. Each such case shows its first-pass verdicts
// (before any second run: what a single run shows a user) and its final
// ones (after the second runs alone that TestImplementations gives an
// unexpected verdict), marked racy (expectationsFile says the server
// races), rescued (only the first pass varied: a run alone gave the
// expected verdict, machine load), inconclusive, or UNEXPECTED (a final
// verdict that is not an expected one; TestImplementations fails it).
func printStress(impls []*implementation, all [][]*suiteRun) {
	counts := func(vs []conform.Verdict) string {
		n := map[conform.Verdict]int{}
		var order []conform.Verdict
		for _, v := range vs {
			if n[v] == 0 {
				order = append(order, v)
			}
			n[v]++
		}
		sort.SliceStable(order, func(i, j int) bool { return n[order[i]] > n[order[j]] })
		parts := make([]string, len(order))
		for i, v := range order {
			parts[i] = fmt.Sprintf("%s %d", v, n[v])
		}
		return strings.Join(parts, " / ")
	}
	total := 0
	for i, im := range impls {
		runs := all[i]
		want := im.want()
		var sum, worst time.Duration
		first := map[string][]conform.Verdict{}
		final := map[string][]conform.Result{}
		for _, run := range runs {
			sum += run.rep.Duration
			worst = max(worst, run.rep.Duration)
			for _, res := range run.rep.Results {
				first[res.ID] = append(first[res.ID], run.first[res.ID])
				final[res.ID] = append(final[res.ID], res)
			}
		}
		var lines []string
		unexpected := 0
		for id, fs := range first {
			exp := expected(want, id)
			steady := true
			for _, v := range fs {
				steady = steady && v == exp
			}
			// A racy case is always shown: its line is the measured rate.
			if g := want[id]; steady && (g == nil || !g.Racy) {
				continue
			}
			bad, slow := 0, 0
			for _, res := range final[id] {
				if !accepts(want, id, res.Verdict) {
					bad++
					if conform.TooSlowToJudge(res) {
						slow++
					}
				}
			}
			mark := "rescued by a run alone"
			switch g := want[id]; {
			case bad > slow:
				mark = "UNEXPECTED"
			case bad > 0:
				mark = fmt.Sprintf("inconclusive %d", bad)
			case g != nil && g.Racy:
				mark = "racy"
			}
			if mark == "UNEXPECTED" {
				unexpected++
			}
			var fv []conform.Verdict
			for _, res := range final[id] {
				fv = append(fv, res.Verdict)
			}
			lines = append(lines, fmt.Sprintf("  %s (want %s): first pass %s; final %s: %s", id, exp, counts(fs), counts(fv), mark))
		}
		sort.Strings(lines)
		total += unexpected
		fmt.Printf("conform-stress: %s (EIO%d, %d cases): %d runs, mean %.2fs, slowest %.2fs; %d racy or unsteady cases, %d unexpected\n",
			im.Name, im.EIO, len(first), len(runs), sum.Seconds()/float64(max(1, len(runs))), worst.Seconds(), len(lines), unexpected)
		for _, l := range lines {
			fmt.Printf("conform-stress: %s\n", l)
		}
	}
	fmt.Printf("conform-stress: %d implementations, %d runs each: %d cases with unexpected verdicts\n", len(impls), len(all[0]), total)
}

// nodeImpl returns the expectations of the reference's EIO4 run.
func nodeImpl(tb testing.TB, cases []*conform.Case) *implementation {
	tb.Helper()
	for _, im := range loadExpectations(tb, cases) {
		if im.Peer == "node4-contract" && im.EIO == 4 && len(im.Env) == 0 {
			return im
		}
	}
	tb.Fatalf("%s: no node4-contract EIO4 entry", expectationsFile)
	return nil
}
