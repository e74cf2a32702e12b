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
	root, err := testpeer.Root()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "```yaml\nserver: engineio")
	if start < 0 {
		t.Fatal("README.md has no case file example")
	}
	start += len("```yaml\n")
	end := strings.Index(s[start:], "```")
	cases, err := parseFile("README.md", []byte(s[start:start+end]))
	if err != nil {
		t.Fatal(err)
	}
	peer := testpeer.Start(t, "node4-contract")
	rep, err := Run(context.Background(), cases, Config{URL: peer.URL, EIO: 4})
	if err != nil {
		t.Fatal(err)
	}
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
			one, err := Run(context.Background(), c, Config{URL: peer.URL, EIO: 4})
			if err != nil {
				t.Fatal(err)
			}
			r = one.Results[0]
		}
		switch {
		case r.Verdict != Pass && TooSlowToJudge(r):
			t.Logf("README example %s inconclusive (the machine was too slow for the heartbeat):\n%s", r.ID, dumpFailure(r))
		case r.Verdict != Pass:
			t.Errorf("README example %s: %s\n%s", r.ID, r.Verdict, dumpFailure(r))
		}
	}
}
