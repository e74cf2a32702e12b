package k8s

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes/ from the renderer")

// shipped are the options of deploy/kubernetes/: scenarios/echo.yaml in 3
// parts against a target Service, with a start time to fill in
// (envsubst, deploy/kubernetes/README.md) and the wait "sioload k8s"
// computes for echo.yaml (30 s delay + 25 s load + 5 s grace + 2 min).
func shipped(t *testing.T) Options {
	t.Helper()
	data, err := os.ReadFile("../../scenarios/echo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Name: "sioload-echo", Image: "siokit/sioload:latest", Parallelism: 3, ScenarioFile: "echo.yaml",
		Scenario: data, Target: "http://sioload-target:3000", StartAt: "${START_AT}", Wait: 3 * time.Minute}
}

// TestShippedManifests: deploy/kubernetes/ is what the renderer makes for
// its options, so the shipped files and "sioload k8s" cannot drift apart
// (go test ./internal/k8s -update rewrites them).
func TestShippedManifests(t *testing.T) {
	docs, err := Render(shipped(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		path := filepath.Join("../../deploy/kubernetes", d.File)
		if *update {
			if err := os.WriteFile(path, d.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/k8s -update writes it)", err)
		}
		if !bytes.Equal(got, d.YAML) {
			t.Errorf("%s differs from what the renderer makes; go test ./internal/k8s -update rewrites it", path)
		}
	}
}

// TestScenarioCarriedExactly: the ConfigMap holds every shipped scenario
// byte for byte, as a literal block where that is exact, quoted otherwise
// (odd strings included).
func TestScenarioCarriedExactly(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	var blocks int
	texts := map[string]string{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		texts[filepath.Base(f)] = string(b)
	}
	for i, s := range []string{"", "x", "no newline", " leading space\n", "\nleading newline\n", "two\n\n", "cr\r\nlf\n",
		"\tindent by tab\n", "a\n\tb\n", "trailing spaces  \n   \nend\n", "unicode é ✓\n", "bom \ufeff\n", "nul \x00\n", "# a comment\n---\nkey: [1, 2]\n"} {
		texts["odd-"+string(rune('a'+i))+".yaml"] = s
	}
	for name, text := range texts {
		o := shipped(t)
		o.ScenarioFile, o.Scenario = name, []byte(text)
		docs, err := Render(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(docs[0].YAML, &cm); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, docs[0].YAML)
		}
		if cm.Data[name] != text {
			t.Errorf("%s: the ConfigMap holds %q, want %q", name, cm.Data[name], text)
		}
		if cm.Data["wait-parts.sh"] != waitScript {
			t.Errorf("%s: the ConfigMap's wait-parts.sh differs from the script", name)
		}
		if strings.Contains(string(docs[0].YAML), ": |\n") && strings.HasPrefix(text, "name:") {
			blocks++
		}
	}
	if blocks != len(files) {
		t.Errorf("%d of %d shipped scenarios as literal blocks: want all (readable in the ConfigMap)", blocks, len(files))
	}
}

// TestOptionsRefused: what the objects cannot be is refused, naming it.
func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Name = "Upper" }, `"Upper" is not a name`},
		{func(o *Options) { o.Name = strings.Repeat("a", 41) }, "at most 40"},
		{func(o *Options) { o.Name = "-x" }, "is not a name"},
		{func(o *Options) { o.Namespace = "a_b" }, `"a_b" is not a namespace`},
		{func(o *Options) { o.Image = "" }, "not an image reference"},
		{func(o *Options) { o.Image = "a b" }, "not an image reference"},
		{func(o *Options) { o.Parallelism = 0 }, "parallelism 0"},
		{func(o *Options) { o.ScenarioFile = "a b.yaml" }, "cannot be a ConfigMap key"},
		{func(o *Options) { o.ScenarioFile = "wait-parts.sh" }, "cannot be a ConfigMap key"},
		{func(o *Options) { o.StartAt = "" }, "no start time"},
		{func(o *Options) { o.Wait = 0 }, "wait 0s"},
		{func(o *Options) { o.AccessMode = "ReadOnlyMany" }, `access mode "ReadOnlyMany"`},
	} {
		o := shipped(t)
		c.edit(&o)
		if _, err := Render(o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", o, err, c.want)
		}
	}
	for in, want := range map[string]string{"echo": "sioload-echo", "Chat Rooms!": "sioload-chat-rooms", "": "sioload",
		strings.Repeat("x", 50): "sioload-" + strings.Repeat("x", 32), "ünï": "sioload-n"} {
		if got := DefaultName(in); got != want || CheckName(got) != nil {
			t.Errorf("DefaultName(%q) = %q (check %v), want %q", in, got, CheckName(got), want)
		}
	}
}

// TestWaitParts runs the merge step's wait script with the machine's sh
// (POSIX, as busybox's): it waits for parts written while it waits,
// and gives up after its timeout naming the parts still missing.
func TestWaitParts(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "wait-parts.sh")
	os.WriteFile(script, []byte(waitScript), 0o644)
	os.WriteFile(filepath.Join(dir, "part-0.json"), []byte("{}"), 0o644)

	// Parts 1 and 2 missing, 1 s timeout: exit 1 naming both.
	var out bytes.Buffer
	c := exec.Command("sh", script, dir, "3", "1")
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out.String(), "parts missing: 1/3 2/3") {
		t.Errorf("missing parts: %v, output %q; want exit 1 naming 1/3 and 2/3", err, out.String())
	}

	// A part's temporary file is not the part; the renamed one is, and
	// the script sees it while it waits.
	out.Reset()
	c = exec.Command("sh", script, dir, "2", "60")
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	tmp := filepath.Join(dir, ".part-1.json.123.tmp")
	os.WriteFile(tmp, []byte("{}"), 0o644)
	select {
	case err := <-done:
		t.Fatalf("exited (%v) with part 1 not there: %s", err, out.String())
	case <-time.After(2500 * time.Millisecond): // past one poll with only the temporary file
	}
	os.Rename(tmp, filepath.Join(dir, "part-1.json"))
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "all 2 parts are in") {
			t.Errorf("all parts there: %v, output %q; want exit 0", err, out.String())
		}
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatalf("still waiting 30 s after the last part came: %s", out.String())
	}
}
