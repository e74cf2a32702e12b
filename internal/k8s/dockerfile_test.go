package k8s

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDockerfile reads the Dockerfile (no Docker here to build it): it
// builds, without cgo, the package the Makefile's sioload-static target
// builds, a main package of this module; its image runs as the non-root
// user of the pods, on distroless/static or scratch, and holds the
// binary where the manifests run it; its Go is at least go.mod's.
func TestDockerfile(t *testing.T) {
	df := read(t, "../../Dockerfile")
	mk := read(t, "../../Makefile")

	build := regexp.MustCompile(`(?m)^RUN CGO_ENABLED=0 go build .*-o (\S+) (\./\S+)$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatalf("Dockerfile: no \"RUN CGO_ENABLED=0 go build ... -o OUT ./PKG\" line")
	}
	out, pkg := build[1], build[2]
	recipe := regexp.MustCompile(`(?m)^sioload-static:\n\tCGO_ENABLED=0 \$\(GO\) build .*-o \S+ (\./\S+)$`).FindStringSubmatch(mk)
	if recipe == nil {
		t.Fatalf("Makefile: no sioload-static target building with CGO_ENABLED=0")
	}
	if recipe[1] != pkg {
		t.Errorf("the Dockerfile builds %s, the Makefile %s", pkg, recipe[1])
	}
	list, err := exec.Command("go", "list", "-f", "{{.Name}} {{.ImportPath}}", "../../"+strings.TrimPrefix(pkg, "./")).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	if got := strings.TrimSpace(string(list)); got != "main github.com/siokit/siokit/cmd/sioload" {
		t.Errorf("the Dockerfile builds %q, want the sioload command", got)
	}

	froms := regexp.MustCompile(`(?m)^FROM (\S+)(?: AS (\S+))?$`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 || froms[0][2] == "" {
		t.Fatalf("Dockerfile: want two stages, a named build stage then the image; got %v", froms)
	}
	if base := froms[1][1]; base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("image base %s: want distroless/static or scratch (a static binary needs nothing else)", base)
	}
	copyLine := "COPY --from=" + froms[0][2] + " " + out + " " + Binary
	if !strings.Contains(df, "\n"+copyLine+"\n") {
		t.Errorf("Dockerfile: want %q, the binary where the manifests run it", copyLine)
	}
	if !strings.Contains(df, "\nUSER "+strconv.Itoa(UID)+":"+strconv.Itoa(UID)+"\n") {
		t.Errorf("Dockerfile: want USER %d:%d, the pods' runAsUser (numeric: runAsNonRoot cannot check a name)", UID, UID)
	}
	if !strings.Contains(df, `ENTRYPOINT ["`+Binary+`"]`) {
		t.Errorf("Dockerfile: want ENTRYPOINT [%q]", Binary)
	}

	goImage := regexp.MustCompile(`^golang:(\d+)\.(\d+)`).FindStringSubmatch(froms[0][1])
	goMod := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(read(t, "../../go.mod"))
	if goImage == nil || goMod == nil {
		t.Fatalf("build stage %s, go.mod's go line %v: want golang:MAJOR.MINOR and a go directive", froms[0][1], goMod)
	}
	if atoi(goImage[1])*1000+atoi(goImage[2]) < atoi(goMod[1])*1000+atoi(goMod[2]) {
		t.Errorf("build stage %s is older than go.mod's go %s.%s", froms[0][1], goMod[1], goMod[2])
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
