package cli

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	prev := filepath.Join(dir, "r.json")
	os.WriteFile(prev, []byte("previous"), 0o600)
	for _, ok := range []string{filepath.Join(dir, "new.json"), prev, os.DevNull} {
		if err := CheckOutput("--out", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	// The check leaves nothing behind and does not touch the old report.
	if b, _ := os.ReadFile(prev); string(b) != "previous" {
		t.Errorf("the previous report became %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the check left files: %v", ents)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	for path, want := range map[string]string{
		filepath.Join(dir, "no", "such", "x.json"): "--out: directory " + filepath.Join(dir, "no", "such") + ": no such file or directory",
		dir:                           "is a directory",
		filepath.Join(prev, "x.json"): "not a directory",
		"":                            "--out: empty path",
	} {
		err := CheckOutput("--out", path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", path, err, want)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if err := CheckOutput("--out", filepath.Join(ro, "x.json")); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("read-only directory: %v", err)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := WriteFile(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v", fi.Mode())
	}
	os.Chmod(p, 0o600)
	// Through a symlink: the target is replaced, the link stays.
	link := filepath.Join(dir, "link.json")
	os.Symlink(p, link)
	if err := WriteFile(link, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("file holds %q", b)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode not kept: %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("temporary files left: %v", ents)
	}
	// A device is written in place, and its error returned.
	if _, err := os.Stat("/dev/full"); err == nil {
		if err := WriteFile("/dev/full", []byte("x")); err == nil || !strings.Contains(err.Error(), "no space") {
			t.Errorf("/dev/full: %v", err)
		}
	}
	if err := WriteFile(filepath.Join(dir, "no", "x"), []byte("x")); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/siokit/siokit", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := VersionOf("sioload", bi), "sioload v1.2.0 (revision 0123456789ab+dirty, 2026-11-30T10:00:00Z, go1.26.8)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := VersionOf("sioconform", &debug.BuildInfo{}); got != "sioconform (devel)" {
		t.Errorf("empty build info: %q", got)
	}
	if got := Version("sioload"); !strings.HasPrefix(got, "sioload ") {
		t.Errorf("Version: %q", got)
	}
}
