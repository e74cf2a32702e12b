package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/conform"
)

// TestSlowFlag: a slow case (slow: true) runs only with --slow, in run
// and in list alike; the other cases run either way.
func TestSlowFlag(t *testing.T) {
	slowCase := &conform.Case{ID: "eio4.upgrade.timeout.slow", Description: "d", Spec: "s", Server: "engineio", EIO: 4,
		Path: "/engine.io/", Slow: true, File: "slow.yaml", Line: 1}
	newSlowFake := func() *fakeEngine {
		f := newFake()
		f.builtin = append(f.builtin, slowCase)
		return f
	}
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"run", "--url", "http://127.0.0.1:1"}, false},
		{[]string{"run", "--url", "http://127.0.0.1:1", "--slow"}, true},
	} {
		f := newSlowFake()
		r := runCLI(t, f, c.args...)
		if r.code != 0 || len(f.ran) != 1 {
			t.Fatalf("%q: exit %d, runs %v\n%s%s", c.args, r.code, f.ran, r.stdout, r.stderr)
		}
		if got := slices.Contains(f.ran[0], slowCase.ID); got != c.want || len(f.ran[0]) < 2 {
			t.Errorf("%q ran %v: the slow case in it %v, want %v", c.args, f.ran[0], got, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{{[]string{"list"}, "6 cases"}, {[]string{"list", "--slow"}, "7 cases"}} {
		if r := runCLI(t, newSlowFake(), c.args...); r.code != 0 || !strings.Contains(r.stdout, c.want) {
			t.Errorf("%q: exit %d, want %q in\n%s%s", c.args, r.code, c.want, r.stdout, r.stderr)
		}
	}
}
