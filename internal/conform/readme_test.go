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
		if r.Verdict != Pass {
			t.Errorf("README example %s: %s\n%s", r.ID, r.Verdict, dumpFailure(r))
		}
	}
}
