package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

func TestList(t *testing.T) {
	r := runCLI(t, newFake(), "list")
	if r.code != 0 || !strings.Contains(r.stdout, "eio3.handshake.polling.ok") || !strings.Contains(r.stdout, "sio5.connect.ws.root") ||
		!strings.Contains(r.stdout, "6 cases") {
		t.Errorf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = runCLI(t, newFake(), "list", "--eio", "3", "--format", "json")
	var got []struct {
		ID, Description, Spec string
		Line                  int
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("list json: %v\n%s", err, r.stdout)
	}
	if len(got) != 2 || got[0].ID != "eio3.handshake.polling.ok" || got[1].ID != "sio4.connect.polling.root" || got[0].Line != 1 {
		t.Errorf("list --eio 3 --format json: %+v", got)
	}

	r = runCLI(t, newFake(), "list", "--only", "eio4.handshake", "--skip", "*.ws.*")
	if r.code != 0 || !strings.Contains(r.stdout, "1 case\n") {
		t.Errorf("list --only --skip:\n%s", r.stdout)
	}

	for _, args := range [][]string{{"list", "--format", "junit"}, {"list", "--eio", "2"}, {"list", "--only", "zzz"}} {
		if r := runCLI(t, newFake(), args...); r.code != cli.ExitUsage {
			t.Errorf("%q: exit %d, want 2", args, r.code)
		}
	}
}

// TestListDeployment: list --deployment lists the checks run --deployment runs, each once, and
// --only selects among them.
func TestListDeployment(t *testing.T) {
	r := runCLI(t, newFake(), "list", "--deployment", "--format", "json")
	var got []struct{ ID, Strength string }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("list --deployment: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	want := map[string]bool{}
	for _, c := range conform.DeployChecks() {
		want[c[0]] = true
	}
	for _, c := range got {
		if !want[c.ID] || c.Strength != "must" {
			t.Errorf("listed %+v: not a deployment check, or not a must", c)
		}
		delete(want, c.ID)
	}
	if len(want) != 0 || len(got) != len(conform.DeployChecks()) {
		t.Errorf("list --deployment: %+v; missing %v", got, want)
	}
	r = runCLI(t, newFake(), "list", "--deployment", "--only", "deploy.idle")
	if r.code != 0 || !strings.Contains(r.stdout, "deploy.idle") || !strings.Contains(r.stdout, "1 case\n") {
		t.Errorf("list --deployment --only deploy.idle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
