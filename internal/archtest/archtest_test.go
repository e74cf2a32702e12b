package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/siokit/siokit/"

// allowed lists, for every package of the module, the packages of the
// module its non-test code may import (docs/architecture.md has the
// reasons). A new package must be added here: where it sits is a decision.
var allowed = map[string][]string{
	"protocol/engineio":  {},
	"protocol/socketio":  {},
	"protocol/transport": {"protocol/engineio"},
	"protocol/client":    {"protocol/engineio", "protocol/socketio", "protocol/transport"},
	"protocol/server":    {"protocol/engineio", "protocol/socketio"},
	"protocol/prototest": {"protocol/client"},

	"scenarios":           {"internal/yamldoc", "protocol/socketio"},
	"internal/yamldoc":    {},
	"internal/cli":        {"internal/redact"},
	"internal/redact":     {},
	"internal/metrics":    {},
	"internal/testpeer":   {},
	"internal/hostile":    {"internal/metrics"},
	"internal/archtest":   {},
	"internal/k8s":        {},
	"internal/faultproxy": {"protocol/engineio", "protocol/socketio"},
	"internal/target":     {"protocol/engineio", "protocol/socketio", "protocol/server"},
	"internal/conform":    {"protocol/engineio", "protocol/socketio", "protocol/transport", "protocol/client", "internal/yamldoc", "internal/redact"},
	"internal/load": {"protocol/engineio", "protocol/socketio", "protocol/transport", "protocol/client",
		"protocol/server", "scenarios", "internal/metrics", "internal/target"},
	"internal/workers": {"internal/load", "internal/metrics", "internal/target", "scenarios"},

	"reports": {"internal/metrics", "internal/conform", "scenarios"},

	"cmd/sioload": {"internal/cli", "internal/redact", "internal/load", "internal/metrics", "internal/target",
		"internal/workers", "protocol/server", "reports", "scenarios", "internal/k8s"},
	"cmd/sioconform":  {"internal/cli", "internal/redact", "internal/conform", "reports"},
	"examples/echo":   {"protocol/client", "protocol/engineio", "internal/testpeer"},
	"bench/cluster":   {"internal/testpeer"},
	"bench/rawclient": {},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasPrefix(name, "peers/") {
			continue // test peers are programs of their own
		}
		seen++
		ok, known := allowed[name]
		if !known {
			t.Errorf("package %s is not in the import rules: add it to allowed and docs/architecture.md", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s, which the import rules do not allow (docs/architecture.md)", name, dep)
			}
		}
	}
	if seen < len(allowed) {
		t.Errorf("go list found %d packages, the rules name %d: remove the ones that are gone", seen, len(allowed))
	}
}
