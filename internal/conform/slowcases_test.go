package conform

import (
	"context"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/testpeer"
)

// TestSlowCases: the slow cases (slow: true) are left out by Select, so
// no other test or default run waits for them, and each of them passes
// against the Node reference (Node's upgradeTimeout is its default 10 s
// in the contract peer). A case that fails is run once more before it
// counts: it holds the contract's 300/200 ms heartbeat for 16 s, and a
// loaded machine can miss a pong once.
func TestSlowCases(t *testing.T) {
	t.Parallel()
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Select(cases, 0, nil, nil) {
		if c.Slow {
			t.Errorf("Select kept the slow case %s", c.ID)
		}
	}
	var slow []*Case
	for _, c := range SelectSlow(cases, 4, nil, nil) {
		if c.Slow {
			slow = append(slow, c)
		}
	}
	if len(slow) == 0 {
		t.Fatal("no built-in EIO4 case is slow")
	}
	peer := testpeer.Start(t, "node4-contract")
	cfg := Config{URL: peer.URL, EIO: 4}
	// poll_heartbeat fails when the session ends: here it never existed.
	lost, err := parseFile("lost.yaml", []byte("cases:\n  - id: eio4.x.lost\n    description: d\n    spec: s\n    steps:\n"+
		"      - poll_heartbeat: {query: {transport: polling, sid: nope}, for: 5s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(context.Background(), lost, cfg); err != nil || rep.Results[0].Verdict != Fail ||
		!strings.Contains(rep.Results[0].Message, "poll_heartbeat: the session ended after") {
		t.Errorf("poll_heartbeat on an unknown sid: %v %+v", err, rep)
	}
	rep, err := Run(context.Background(), slow, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Results {
		if r.Verdict == Pass {
			continue
		}
		again, err := Run(context.Background(), slow[i:i+1], cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a := again.Results[0]; a.Verdict != Pass {
			t.Errorf("%s: %s twice; first:\n%s\nsecond:\n%s", r.ID, a.Verdict, DumpFailure(r), DumpFailure(a))
		} else {
			t.Logf("%s passed on a second run; the first:\n%s", r.ID, DumpFailure(r))
		}
	}
}
