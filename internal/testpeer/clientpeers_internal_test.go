package testpeer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A client peer that is not installed is an error naming the missing file and the command that
// installs it; an unknown name lists the known ones.
func TestClientNotInstalled(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "peers", "clients", "siokit"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := clientIn(root, "siokit-client")
	if err == nil {
		t.Fatal("no error for a client peer without its binary")
	}
	for _, want := range []string{"siokit-client is not installed", filepath.Join(root, "peers/clients/siokit/bin/siokit-client"), "peers/install.sh clients"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = clientIn(root, "nope")
	if err == nil || !strings.Contains(err.Error(), "node4-client") {
		t.Errorf("unknown peer: error %v does not list the known peers", err)
	}
}

// Every client peer's folder and entry program is in the tree (installed or not).
func TestClientSpecsPointAtFiles(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{"js": "client.mjs", "python": "client.py", "go-zishang-v3": "main.go", "siokit": "main.go"}
	for name, sp := range clientSpecs {
		entry, ok := entries[sp.dir]
		if !ok {
			t.Errorf("%s: folder %s has no known entry program", name, sp.dir)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "peers", "clients", sp.dir, entry)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSiokitClientBuiltFresh: the siokit client peer is built from the tree before a test process
// uses it, so that a binary from an earlier `make peers` never judges old code as the new.
func TestSiokitClientBuiltFresh(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "peers", "clients", "siokit", "bin", "siokit-client")
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(bin, old, old); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	built.Delete("siokit-client")
	start := time.Now().Add(-time.Second)
	c, err := Client("siokit-client")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.Argv[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.ModTime().Before(start) {
		t.Errorf("%s dates from %v: not built by this test process", c.Argv[0], fi.ModTime())
	}
}
