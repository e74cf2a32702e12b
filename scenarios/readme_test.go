package scenarios

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExample keeps the complete scenario shown in README.md valid.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "```yaml\nname: chat-with-faults")
	if start < 0 {
		t.Fatal("README.md has no complete scenario example")
	}
	start += len("```yaml\n")
	end := strings.Index(s[start:], "```")
	sc, err := Parse("README.md", []byte(s[start:start+end]))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Flow) != 5 || len(sc.Faults) != 2 || len(sc.Thresholds) != 6 {
		t.Fatalf("parsed %d steps, %d faults, %d thresholds", len(sc.Flow), len(sc.Faults), len(sc.Thresholds))
	}
}
