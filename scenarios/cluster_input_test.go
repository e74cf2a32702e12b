package scenarios

import (
	"strings"
	"testing"
)

// TestTargetsAndExec checks the cluster-related keys: targets (several URLs, exclusive with
// target) and the exec fault.
func TestTargetsAndExec(t *testing.T) {
	for _, c := range []struct{ extra, want string }{
		{"targets: [\"http://127.0.0.1:3001\", \"ws://127.0.0.1:3002\"]\n", ""},
		{"targets: [\"http://127.0.0.1:3001\", \"nope\"]\n", `targets[1]: want an http, https, ws or wss URL, got "nope"`},
		{"target: http://127.0.0.1:3000\ntargets: [\"http://127.0.0.1:3001\"]\n", "targets: set target or targets, not both"},
		{"faults:\n  - {at: 500ms, exec: \"kill -KILL 1\", down: 2s}\n", ""},
		{"faults:\n  - {at: 500ms, down: 2s}\n", "faults[0]: needs drop, restart_target or exec"},
		// good's load ends at 1 s: a fault due then or later never runs.
		{"faults:\n  - {at: 500ms, drop: 0.5}\n  - {at: 1s, drop: 0.5}\n", "t.yaml:7: faults[1].at: 1s is not before the load ends, at 1s (load.ramp 0s + load.hold 1s): the fault would never run"},
		{"faults:\n  - {at: 200ms, restart_target: true, down: 500ms}\n  - {at: 500ms, drop: 0.5}\n", "t.yaml:7: faults[1].at: 500ms falls in faults[0]'s restart (at 200ms, down 500ms): the fault would run late, at 700ms"},
		{"faults:\n  - {at: 200ms, restart_target: true, down: 500ms}\n  - {at: 700ms, drop: 0.5}\n", ""},
	} {
		s, err := Parse("t.yaml", []byte(good+c.extra))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q: got %v, want %q", c.extra, err, c.want)
		}
		if c.want == "" && strings.HasPrefix(c.extra, "targets") && len(s.Targets) != 2 {
			t.Errorf("targets parsed as %q", s.Targets)
		}
		if c.want == "" && strings.Contains(c.extra, "exec") && (len(s.Faults) != 1 || s.Faults[0].Exec != "kill -KILL 1") {
			t.Errorf("faults parsed as %+v", s.Faults)
		}
	}
}
