package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version is the line "prog version" prints: the module version the
// binary was built from ("go install ...@v1.2.0" records it; a build in a
// checkout says "(devel)"), the VCS revision and commit time when the
// build recorded them, and the Go version.
func Version(prog string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return prog + " (no build information)"
	}
	return VersionOf(prog, bi)
}

// VersionOf formats the version line from bi; Version reads bi from the
// running binary.
func VersionOf(prog string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", prog, v)
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	var extra []string
	if r := set["vcs.revision"]; r != "" {
		if len(r) > 12 {
			r = r[:12]
		}
		if set["vcs.modified"] == "true" {
			r += "+dirty"
		}
		extra = append(extra, "revision "+r)
	}
	if t := set["vcs.time"]; t != "" {
		extra = append(extra, t)
	}
	if bi.GoVersion != "" {
		extra = append(extra, bi.GoVersion)
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
	}
	return b.String()
}
