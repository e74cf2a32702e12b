package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
)

// TestRunDeployment runs `sioconform run --deployment` against one node4 peer (a deployment of
// one node, no proxy): every check passes, the JSON report holds the five deploy.* results,
// --only narrows them and an --only that selects nothing is a usage error. The checks against
// real proxies and clusters are internal/conform's TestDeploymentVariants.
func TestRunDeployment(t *testing.T) {
	p := testpeer.Start(t, "node4", "PING_INTERVAL=500", "PING_TIMEOUT=500")
	r := runCLI(t, newFake(), "run", "--url", p.URL, "--deployment", "--format", "json")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d, want 0\nstderr: %s\nstdout: %s", r.code, r.stderr, r.stdout)
	}
	var rep conform.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, r.stdout)
	}
	var ids []string
	for _, res := range rep.Results {
		ids = append(ids, res.ID)
		if res.Verdict != conform.Pass {
			t.Errorf("%s: %s: %s", res.ID, res.Verdict, res.Message)
		}
	}
	if got, want := strings.Join(ids, " "), "deploy.sticky deploy.websocket deploy.idle deploy.broadcast deploy.cors"; got != want {
		t.Errorf("checks %q, want %q", got, want)
	}

	r = runCLI(t, newFake(), "run", "--url", p.URL, "--deployment", "--only", "deploy.cors")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "deploy.cors") || strings.Contains(r.stdout, "deploy.sticky") {
		t.Errorf("--only deploy.cors: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, newFake(), "run", "--url", p.URL, "--deployment", "--only", "deploy.nothing")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "no deployment check matches") {
		t.Errorf("--only deploy.nothing: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRunUsageListsDeployChecks keeps run's usage text in step with the engine's check ids.
func TestRunUsageListsDeployChecks(t *testing.T) {
	for _, c := range conform.DeployChecks() {
		if !strings.Contains(runUsage, c[0]) {
			t.Errorf("run usage does not name the deployment check %s", c[0])
		}
	}
}

// TestRunDeploymentInterrupted: Ctrl-C during the deployment checks reports
// only the checks that finished, as run does: the idle check (two ping
// intervals of the built-in target's 25 s) is cut short and left out, not
// an error "interrupted". The cancel comes 3 s in: the CORS check needs a
// few requests, the idle one 50 s.
func TestRunDeploymentInterrupted(t *testing.T) {
	url := prototest.Serve(t, target.New(target.Options{Server: server.Options{CORSOrigin: "*"}}))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	time.AfterFunc(3*time.Second, func() { cancel(cli.ErrInterrupted) })
	r := runCLIWith(t, ctx, newFake(), nil, "run", "--url", url, "--deployment", "--only", "deploy.idle,deploy.cors", "--format", "json")
	if r.code != cli.ExitFailed || r.stderr != "sioconform: interrupted: 1 of 2 cases finished\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	var rep conform.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, r.stdout)
	}
	if !rep.Interrupted || rep.CasesTotal != 2 || len(rep.Results) != 1 || rep.Results[0].ID != "deploy.cors" || rep.Results[0].Verdict != conform.Pass {
		t.Errorf("partial deployment report:\n%s", r.stdout)
	}
}
