package conform_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

// TestExtensionsAbsent checks that every case using an optional extension
// (docs/conformance.md §1) probes for it: the reference contract server is
// started with one extension left out at a time (peers/node4/contract.mjs,
// WITHOUT=...), and the Socket.IO cases must then get the reference's
// verdicts except for n/a, never a fail or an error; and each extension must
// make at least one case n/a, so the probe ran. node4-plain in
// TestImplementations leaves them all out at once; this catches a case that
// needs two extensions and probes only one. COOKIE=1 turns the cookie
// extension on: its cases, n/a on the reference, must then pass.
func TestExtensionsAbsent(t *testing.T) {
	cases := loadCases(t)
	want := nodeImpl(t, cases).want()
	sio := conform.Select(cases, 4, []string{"sio5"}, nil)
	cookie := conform.Select(cases, 4, []string{"eio4.cookie"}, nil)
	if len(sio) == 0 || len(cookie) == 0 {
		t.Fatalf("selected %d sio5 and %d cookie cases", len(sio), len(cookie))
	}
	runs := []struct {
		env   string
		cases []*conform.Case
	}{
		{"WITHOUT=admin", sio}, {"WITHOUT=server-ack", sio}, {"WITHOUT=disconnect-me", sio},
		{"WITHOUT=csr", sio}, {"COOKIE=1", cookie},
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, run := range runs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx := context.Background()
			p, err := testpeer.Launch(ctx, "node4-contract", run.env)
			if err != nil {
				t.Errorf("%s: %v", run.env, err)
				return
			}
			defer p.Stop()
			cfg := conform.Config{URL: p.URL, EIO: 4, Parallel: suiteParallel}
			rep, err := conform.Run(ctx, run.cases, cfg)
			if err != nil {
				t.Errorf("%s: %v", run.env, err)
				return
			}
			var na []string
			for _, res := range rep.Results {
				if run.env == "COOKIE=1" {
					if res.Verdict != conform.Pass {
						t.Errorf("%s: %s got %s, want pass\n%s", run.env, res.ID, res.Verdict, dump(res))
					}
					continue
				}
				if accepts(want, res.ID, res.Verdict) {
					continue
				}
				if res.Verdict == conform.NA && strings.Contains(res.Message, "optional feature absent") {
					na = append(na, res.ID)
					continue
				}
				// A second run alone, as TestImplementations does: the
				// 300/200 ms heartbeat can miss on a busy machine.
				again, err := conform.Run(ctx, []*conform.Case{byID(run.cases, res.ID)}, conform.Config{URL: p.URL, EIO: 4})
				if err == nil && (accepts(want, res.ID, again.Results[0].Verdict) || again.Results[0].Verdict == conform.NA) {
					continue
				}
				t.Errorf("%s: %s got %s, want %s or n/a\n%s", run.env, res.ID, res.Verdict, expected(want, res.ID), dump(res))
			}
			if run.env != "COOKIE=1" && len(na) == 0 {
				t.Errorf("%s: no case became n/a: nothing probes for the extension", run.env)
			}
			t.Logf("%s: %d cases, n/a: %v", run.env, len(rep.Results), na)
		})
	}
	wg.Wait()
}

// byID returns the case with that id.
func byID(cases []*conform.Case, id string) *conform.Case {
	for _, c := range cases {
		if c.ID == id {
			return c
		}
	}
	return nil
}
