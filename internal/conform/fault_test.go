package conform

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/faultproxy"
	"github.com/siokit/siokit/internal/testpeer"
)

// TestFaultsFailMatchingCases tests the tester: behind a proxy that breaks
// one protocol rule, the built-in suite must fail the cases that check
// that rule (must: they do not pass), and no case unrelated to it (allowed names the cases
// that may notice the fault as a side effect, e.g. any case that waits
// for a heartbeat when pings are hidden).
func TestFaultsFailMatchingCases(t *testing.T) {
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	// The proxy reads a whole request body before it forwards it, so a
	// POST held open mid-body (http_slow) reaches the server complete,
	// after the second POST: the concurrent-POST cases cannot be judged
	// behind it.
	sel := Select(cases, 4, nil, []string{"*.concurrent-post.*"})
	peer := testpeer.Start(t, "node4-contract")
	for _, tc := range faultExpectations {
		t.Run(string(tc.fault), func(t *testing.T) {
			p := faultproxy.Start(peer.Addr, tc.fault)
			defer p.Close()
			rep, err := Run(context.Background(), sel, Config{URL: p.URL, EIO: 4, Parallel: 12})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, r := range rep.Results {
				if _, broken := wantVerdicts[4][r.ID]; broken {
					// Node itself breaks that rule (or lacks the
					// feature): the case says nothing about the fault.
					continue
				}
				if r.Verdict == Fail || r.Verdict == Error {
					failed = append(failed, r.ID)
					// With the heartbeat broken, every session dies after
					// pingInterval+pingTimeout (500 ms): a case that lived
					// that long may fail for that reason alone.
					if tc.heartbeat && r.Duration >= 400*time.Millisecond {
						continue
					}
					// The payload-limit cases move 1 MB each way through the
					// proxy (in this process, under -race) within the
					// contract's 500 ms session life: on a busy machine the
					// proxy alone can take longer, even for a case run alone.
					if slowThroughProxy.MatchString(r.ID) || TooSlowToJudge(r) {
						t.Logf("%s failed behind the proxy (allowed: 1 MB within 500 ms):\n%s", r.ID, DumpFailure(r))
						continue
					}
					if !tc.allowed.MatchString(r.ID) && !failsAlone(t, sel, r.ID, p.URL) {
						// A loaded 2-core machine can delay one frame past a
						// deadline; the same case run alone decides.
						t.Logf("%s failed once, passed alone:\n%s", r.ID, DumpFailure(r))
					} else if !tc.allowed.MatchString(r.ID) {
						t.Errorf("%s failed, but it does not check what %s breaks:\n%s", r.ID, tc.fault, DumpFailure(r))
					}
				}
			}
			for _, id := range tc.must {
				for _, r := range rep.Results {
					// info counts: a case graded info when the server departs
					// from the reference has noticed the fault all the same.
					if r.ID != id || r.Verdict != Pass {
						continue
					}
					// A case that outlived the contract's session life (its
					// pings are not answered) may pass by the session's
					// expiry (a 400 for the overlapping GET): only a prompt
					// pass, in the suite or alone, shows the fault unnoticed.
					if r.Duration >= sessionLife && !passesPromptly(sel, id, p.URL) {
						t.Logf("%s passed in %v, past the %v session life, and never promptly alone: the expiry, not the fault, decided", id, r.Duration, sessionLife)
						continue
					}
					t.Errorf("%s passed although the server %s", id, tc.fault)
				}
			}
			t.Logf("%d cases failed: %q", len(failed), failed)
		})
	}
}

// slowThroughProxy matches the cases that may fail behind any fault proxy
// for its cost alone (see TestFaultsFailMatchingCases).
var slowThroughProxy = regexp.MustCompile(`payload-limit`)

var faultExpectations = []struct {
	fault     faultproxy.Fault
	must      []string
	allowed   *regexp.Regexp
	heartbeat bool // the fault kills every session that outlives a heartbeat
}{
	{faultproxy.DropPongs,
		[]string{"eio4.heartbeat.polling.ping-pong", "eio4.heartbeat.ws.ping-pong", "eio4.heartbeat.polling.pong-in-time",
			"sio5.eio.heartbeat.polling.ping-pong", "sio5.eio.heartbeat.ws.ping-pong",
			"eio4.heartbeat.ws.late-pong-inside-timeout", "eio4.heartbeat.polling.late-pong-inside-timeout"},
		regexp.MustCompile(`heartbeat|ping|pong|timeout`), true},
	{faultproxy.NoPings,
		[]string{"eio4.heartbeat.polling.ping-pong", "eio4.heartbeat.ws.ping-pong", "sio5.eio.heartbeat.ws.ping-pong",
			"sio5.disconnect.main", "eio4.heartbeat.ws.first-ping-timing", "eio4.polling.long-poll-held-until-ping"},
		regexp.MustCompile(`heartbeat|ping|pong|timeout|disconnect`), true},
	{faultproxy.CorruptAckIDs,
		[]string{"sio5.message.ack", "sio5.message.binary-ack", "sio5.ack.id-zero", "sio5.ack.polling", "sio5.binary.polling.ack"},
		regexp.MustCompile(`ack`), false},
	{faultproxy.SIOSidIsEIOSid, nil, regexp.MustCompile(`sid|csr`), false},
	{faultproxy.IgnorePayloadLimit,
		[]string{"eio4.polling.payload-limit.over", "eio4.polling.payload-limit.utf8-bytes"},
		regexp.MustCompile(`payload|limit|size`), false},
	{faultproxy.AcceptSecondPoll,
		[]string{"eio4.message.polling.duplicate-get", "eio4.polling.concurrent-get.post-after",
			"eio4.polling.concurrent-get.with-queued-data"},
		regexp.MustCompile(`duplicate|concurrent|second|overlap`), false},
	{faultproxy.ReorderEvents, []string{"sio5.event.ordering"},
		regexp.MustCompile(`order|event|message|csr|broadcast`), false},
	{faultproxy.JoinFrames, []string{"eio4.websocket.one-packet-per-frame"},
		regexp.MustCompile(`frame|order|message\.ws|websocket|upgrade`), false},
}

// sessionLife is the contract's pingInterval+pingTimeout: a session that
// answers no ping ends then.
const sessionLife = 500 * time.Millisecond

// passesPromptly runs one case again, alone, up to twice, and reports
// whether it passed within sessionLife.
func passesPromptly(cases []*Case, id, url string) bool {
	for _, c := range cases {
		if c.ID == id {
			for range 2 {
				rep, err := Run(context.Background(), []*Case{c}, Config{URL: url, EIO: 4})
				if err == nil && rep.Results[0].Verdict == Pass && rep.Results[0].Duration < sessionLife {
					return true
				}
			}
		}
	}
	return false
}

// failsAlone runs one case again, alone, up to twice (a busy machine can
// delay a step past the contract's 500 ms session life even then), and
// reports whether it never passed (an inconclusive run, TooSlowToJudge,
// is not a failure).
func failsAlone(t *testing.T, cases []*Case, id, url string) bool {
	for _, c := range cases {
		if c.ID == id {
			for range 2 {
				rep, err := Run(context.Background(), []*Case{c}, Config{URL: url, EIO: 4})
				if err == nil && (rep.Results[0].Verdict != Fail && rep.Results[0].Verdict != Error || TooSlowToJudge(rep.Results[0])) {
					return false
				}
			}
			return true
		}
	}
	return true
}
