package conform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/testpeer"
)

// TestReadmeExample keeps the case file shown in README.md honest: it must
// load and pass against the Node reference.
func TestReadmeExample(t *testing.T) {
	cases := docExample(t, "README.md", "server: engineio", "case file")
	peer := testpeer.Start(t, "node4-contract")
	rep := runOn(t, peer.URL, cases)
	for _, r := range rep.Results {
		// As in checkSuite: a case that did not pass runs again alone, up
		// to twice; one the heartbeat overtook every time is inconclusive.
		for i := 0; i < 2 && r.Verdict != Pass; i++ {
			var c []*Case
			for _, k := range cases {
				if k.ID == r.ID {
					c = append(c, k)
				}
			}
			r = runOn(t, peer.URL, c).Results[0]
		}
		switch {
		case r.Verdict != Pass && TooSlowToJudge(r):
			t.Logf("README example %s inconclusive (the machine was too slow for the heartbeat):\n%s", r.ID, DumpFailure(r))
		case r.Verdict != Pass:
			t.Errorf("README example %s: %s\n%s", r.ID, r.Verdict, DumpFailure(r))
		}
	}
}

// docExample loads the case file shown in a document of the repository
// (path from its root): the first yaml block that starts with first; what
// names the example in the failure when there is none.
func docExample(t *testing.T, path, first, what string) []*Case {
	t.Helper()
	root, err := testpeer.Root()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "```yaml\n"+first)
	if start < 0 {
		t.Fatalf("%s has no %s example", path, what)
	}
	start += len("```yaml\n")
	end := strings.Index(s[start:], "```")
	cases, err := parseFile(filepath.Base(path), []byte(s[start:start+end]))
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// runOn runs cases against the server at url over Engine.IO v4, failing
// t when the run cannot start.
func runOn(t *testing.T, url string, cases []*Case) *Report {
	t.Helper()
	rep, err := Run(context.Background(), cases, Config{URL: url, EIO: 4})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
