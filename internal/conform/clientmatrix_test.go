package conform_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

// The client suite against every client peer (peers/README.md, "Client
// peers"), the client counterpart of TestImplementations: the expected
// verdicts, with a reason for each non-pass, are in
// clientExpectationsFile, and docs/client-conformance-matrix.md is
// rendered from them once a run has confirmed every one.

// clientExpectationsFile holds the expected non-pass verdicts per client.
const clientExpectationsFile = "testdata/client-expected-verdicts.yaml"

// clientMatrixDoc is the generated document, from this package's folder.
const clientMatrixDoc = "../../docs/client-conformance-matrix.md"

// clientMatrixCommand is how clientMatrixDoc is regenerated.
const clientMatrixCommand = "make client-matrix"

// clientMatrixOut makes TestClientSuite write the client matrix there
// once every verdict is the expected one (bench/client-matrix.sh).
var clientMatrixOut = flag.String("conform.clientmatrix", "", "TestClientSuite: run every client peer and write the client conformance matrix (markdown) to this file")

// clientReasonKinds are reasonKinds as said of a client library.
var clientReasonKinds = map[string]string{
	"bug":     "a real bug: the client breaks the protocol or a documented Socket.IO guarantee",
	"version": "a protocol version (or revision) the library does not speak",
	"allowed": "a choice the spec allows, or an optional feature the library does not offer",
}

// loadClientExpectations reads clientExpectationsFile and checks it
// against the built-in client cases as loadExpectations does; EIO is 4, 3
// or 0 (both), Peer a known client peer.
func loadClientExpectations(tb testing.TB, cases []*conform.Case) []*implementation {
	tb.Helper()
	var doc struct {
		Clients []*implementation `yaml:"clients"`
	}
	readStrict(tb, clientExpectationsFile, &doc)
	suiteOf := func(im *implementation) ([]*conform.Case, string) { return clientSuite(cases, im), "its client suite" }
	checkImplementations(tb, clientExpectationsFile, "client", doc.Clients, suiteOf, func(im *implementation, where string, _ map[string]bool) {
		switch {
		case im.EIO != 0 && im.EIO != 3 && im.EIO != 4:
			tb.Fatalf("%s: eio %d, want 4, 3 or 0 (both)", where, im.EIO)
		case !slices.Contains(testpeer.ClientNames(), im.Peer):
			tb.Fatalf("%s: peer %q is not a client peer (%s)", where, im.Peer, strings.Join(testpeer.ClientNames(), ", "))
		case im.About == "" || im.Builtin || len(im.Env) > 0 || len(im.Isolate) > 0:
			tb.Fatalf("%s: want about, and no builtin, env or isolate", where)
		}
	})
	return doc.Clients
}

// clientSuite is the client cases of im's Engine.IO revision(s).
func clientSuite(cases []*conform.Case, im *implementation) []*conform.Case {
	return conform.SelectClient(cases, im.EIO, "", nil, nil)
}

// expectedReport is the report im gets when every verdict is the expected
// one (a racy case: its group's verdict, as racyAsExpected shows it): what
// the matrix document shows, so that the document follows from the table
// and the cases alone, the same on every regeneration.
func expectedReport(im *implementation, cases []*conform.Case) *conform.Report {
	want := im.want()
	rep := &conform.Report{Target: im.Name, EIO: im.EIO}
	for _, c := range clientSuite(cases, im) {
		rep.Results = append(rep.Results, conform.Result{ID: c.ID, Verdict: expected(want, c.ID)})
	}
	return rep
}

// runClientPeer runs im's suite against its program. A case whose verdict
// is not the expected one runs again alone, up to twice (the libraries have
// races of their own, and 2 busy cores can delay a heartbeat); only a
// verdict wrong every time counts, and the first is kept in flakes.
func runClientPeer(t *testing.T, im *implementation, cases []*conform.Case) (rep *conform.Report, flakes []string) {
	t.Helper()
	spec := testpeer.ClientCommand(t, im.Peer)
	speaks := []int{im.EIO}
	if im.EIO == 0 {
		speaks = []int{4, 3}
	}
	if !slices.Equal(slices.Sorted(slices.Values(speaks)), slices.Sorted(slices.Values(spec.EIO))) {
		t.Fatalf("%s: eio %d in %s, but the peer speaks %v", im.Name, im.EIO, clientExpectationsFile, spec.EIO)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := conform.ClientConfig{Cmd: shellCmd(spec)}
	sel := clientSuite(cases, im)
	rep, err := conform.RunClient(ctx, sel, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := im.want()
	for i, res := range rep.Results {
		if accepts(want, res.ID, res.Verdict) {
			continue
		}
		again := res
		for range 2 {
			one, err := conform.RunClient(ctx, []*conform.Case{sel[i]}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if again = one.Results[0]; accepts(want, res.ID, again.Verdict) {
				flakes = append(flakes, fmt.Sprintf("%s: %s got %s, then %s alone; the first run:\n%s", im.Name, res.ID, res.Verdict, again.Verdict, dump(res)))
				break
			}
		}
		rep.Results[i] = again
	}
	return rep, flakes
}

// TestClientSuite runs the client suite against every client peer of
// clientExpectationsFile and asserts every verdict (a wrong one runs again
// alone, up to twice, before it counts: runClientPeer). With
// -conform.clientmatrix FILE it also writes the client conformance matrix
// there if every verdict was the expected one (bench/client-matrix.sh).
func TestClientSuite(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(conform.SelectClient(cases, 0, "", nil, nil)); n < 60 {
		t.Fatalf("want at least 60 client cases (issue 13), got %d", n)
	}
	impls := loadClientExpectations(t, cases)
	for _, im := range impls {
		t.Run(im.Peer, func(t *testing.T) {
			start := time.Now()
			rep, flakes := runClientPeer(t, im, cases)
			took := time.Since(start)
			for _, m := range mismatches(im, rep) {
				t.Error(m)
			}
			for _, f := range flakes {
				t.Logf("flaky: %s", f)
			}
			// How long a client's suite takes (issue 13's goal: under 30 s
			// on a quiet machine) is read from this line in
			// bench/client-matrix.sh's output, not asserted: a flaky case's
			// reruns, on a machine shared with other suites, took one
			// zishang v3 run to 72 s with every verdict right.
			c := rep.Counts()
			t.Logf("%s: %d cases, %d pass, %d fail, %d warn, %d n/a, %d info, %d error in %v", im.Name, len(rep.Results),
				c[conform.Pass], c[conform.Fail], c[conform.Warn], c[conform.NA], c[conform.Info], c[conform.Error], took.Round(time.Millisecond))
		})
	}
	if *clientMatrixOut == "" {
		return
	}
	if t.Failed() {
		t.Fatalf("-conform.clientmatrix: %s not written: some verdicts were not the expected ones", *clientMatrixOut)
	}
	if err := os.WriteFile(*clientMatrixOut, clientMatrixText(t, cases, impls), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", *clientMatrixOut)
}

// siokitClientVerdict is what the correct siokit client gets of id, from
// clientExpectationsFile: the baseline TestClientFaults compares against.
func siokitClientVerdict(tb testing.TB, cases []*conform.Case) func(id string) conform.Verdict {
	tb.Helper()
	for _, im := range loadClientExpectations(tb, cases) {
		if im.Peer == "siokit-client" {
			want := im.want()
			return func(id string) conform.Verdict { return expected(want, id) }
		}
	}
	tb.Fatalf("%s: no siokit-client", clientExpectationsFile)
	return nil
}

// clientMatrixText renders docs/client-conformance-matrix.md: a summary
// per client, the matrix as `sioconform client matrix --format markdown`
// renders it (reports.ConformMatrix), and the reason of every non-pass
// cell. It follows from the cases and clientExpectationsFile alone (see
// expectedReport), so TestClientMatrixDoc can tell whether it is stale
// without running a client.
func clientMatrixText(t *testing.T, cases []*conform.Case, impls []*implementation) []byte {
	t.Helper()
	n4 := len(conform.SelectClient(cases, 4, "", nil, nil))
	n3 := len(conform.SelectClient(cases, 3, "", nil, nil))
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	writeHead(&b, matrixHead{title: "client conformance matrix of real Socket.IO client libraries", what: "The verdicts and reasons",
		file: clientExpectationsFile, n4: n4, n3: n3, sub: "client ",
		against: ", sioconform playing the server, against the client program (docs/conformance.md §6) of each " +
			"client library under peers/clients/ (peers/README.md, \"Client peers\")",
		command: clientMatrixCommand, script: "client-matrix.sh"})
	p("It runs every program's cases of the Engine.IO revisions its library speaks (`sioconform client run`), checks every " +
		"verdict against the expected ones (it writes nothing if one differs; a case whose verdict is unexpected runs again alone, " +
		"up to twice, before it counts) and renders the matrix with `sioconform client matrix --format markdown`'s renderer. The " +
		"same table, of any client programs, one `--cmd` each (the peers' command lines: peers/README.md):\n\n")
	p("```sh\nsioconform client matrix --format markdown \\\n    --cmd 'siokit=peers/clients/siokit/bin/siokit-client' \\\n" +
		"    --cmd 'node4=cd peers/clients/js && node client.mjs 4'\n```\n\n")

	reps := make([]*conform.Report, len(impls))
	for i, im := range impls {
		reps[i] = expectedReport(im, cases)
	}
	writeTables(t, &b, matrixWords{noun: "client", lib: "library", kinds: clientReasonKinds,
		absent: "not in an Engine.IO revision the library speaks",
		rules:  "Each case's rule and source: `sioconform client list`."}, impls, reps)
	return b.Bytes()
}

// TestClientMatrixDoc fails when docs/client-conformance-matrix.md is not
// what the current client cases and clientExpectationsFile give, or when
// README.md's copy of its summary (bench/readme-matrix.sh client) is not
// the document's.
func TestClientMatrixDoc(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	want := clientMatrixText(t, cases, loadClientExpectations(t, cases))
	got, err := os.ReadFile(clientMatrixDoc)
	if err != nil {
		t.Fatalf("%v (generate it with `%s`)", err, clientMatrixCommand)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (the client cases or %s changed): run `%s`", filepath.Base(clientMatrixDoc), clientExpectationsFile, clientMatrixCommand)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(want)
	start, end := strings.Index(s, "## Summary\n"), strings.Index(s, "## Matrix\n")
	summary := "#" + strings.TrimSpace(s[start:end])
	begin := strings.Index(string(readme), "<!-- client-matrix:begin -->")
	if begin < 0 || !strings.Contains(string(readme)[begin:], summary) {
		t.Errorf("README.md's client matrix block (<!-- client-matrix:begin -->) does not hold the summary of %s: run `%s`", filepath.Base(clientMatrixDoc), clientMatrixCommand)
	}
}
