package conform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

// clientFault is one rule the fault-injecting client breaks
// (peers/clients/siokit with SIOKIT_FAULT, fault.go there), and the cases
// that judge that rule.
type clientFault struct {
	// fault is the SIOKIT_FAULT value.
	fault string
	// matches tells the cases whose rule the fault breaks: each that the
	// correct client passes must not pass against the faulty one; one the
	// correct client does not pass (a documented choice of siokit's) may
	// keep its verdict or take the fault's.
	matches func(c *conform.Case) bool
	// says is what the message of every case that does not pass names:
	// the broken rule, not some side effect of the fault.
	says string
}

// idIn matches the cases whose id has one of prefixes.
func idIn(prefixes ...string) func(c *conform.Case) bool {
	return func(c *conform.Case) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(c.ID, p) {
				return true
			}
		}
		return false
	}
}

// clientFaults are the faults of the issue "sioconform for clients": no
// pong, two polls in flight, a POST batch over maxPayload, no reconnection
// backoff.
var clientFaults = []clientFault{
	{
		fault: "no-pong",
		// Every case that waits for a pong: the heartbeat ones, and the
		// upgrade that checks the pong comes over the new WebSocket.
		matches: idIn("client.eio4.heartbeat.pong-", "client.eio4.upgrade.no-polling-after"),
		says:    `want text "3"`,
	},
	{
		fault: "two-polls",
		// The scripted server sees a second GET in flight in any polling
		// session (srv.go: an inbox item the next step reads; the fault
		// keeps the client's POSTs back until its pair of GETs is there):
		// every polling case, and the upgrade cases that hold a long poll
		// before the upgrade (or have none). The other upgrade cases move
		// to the WebSocket first; client.eio3.handshake.query-polling ends
		// at srv_hold, which reads no slip, so it cannot see the second GET.
		matches: func(c *conform.Case) bool {
			if c.ID == "client.eio3.handshake.query-polling" {
				return false
			}
			return c.Transport == "polling" || idIn("client.eio4.upgrade.not-offered", "client.eio4.upgrade.bad-probe-answer",
				"client.eio4.handshake.query-upgrade")(c)
		},
		says: "a second GET while another GET is in flight",
	},
	{
		fault:   "oversize-batch",
		matches: idIn("client.eio4.polling.max-payload"),
		says:    "over the advertised maxPayload",
	},
	{
		fault:   "no-backoff",
		matches: idIn("client.sio5.reconnect.backoff-"),
		says:    "want the reconnection attempt after delay of",
	},
}

// TestClientFaults runs the whole client suite against siokit's client
// with one rule broken at a time and asserts that exactly the cases of
// that rule do not pass, each saying why, that the correct client passes
// them, and that every other case gets the correct client's verdict
// (clientExpectationsFile).
func TestClientFaults(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	all := conform.SelectClient(cases, 0, "", nil, nil)
	spec := testpeer.ClientCommand(t, "siokit-client")
	correct := siokitClientVerdict(t, cases)
	for _, f := range clientFaults {
		t.Run(f.fault, func(t *testing.T) {
			var matching []*conform.Case
			for _, c := range all {
				if f.matches(c) && correct(c.ID) == conform.Pass {
					matching = append(matching, c)
				}
			}
			if len(matching) == 0 {
				t.Fatalf("no built-in case judges %s", f.fault)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := conform.RunClient(ctx, all, conform.ClientConfig{Cmd: "export SIOKIT_FAULT=" + f.fault + "; " + shellCmd(spec)})
			if err != nil {
				t.Fatal(err)
			}
			caught := 0
			for i, r := range rep.Results {
				c := all[i]
				judged := f.matches(c) && correct(r.ID) == conform.Pass
				switch {
				case f.matches(c) && !judged:
					if r.Verdict != correct(r.ID) && !strings.Contains(r.Message, f.says) {
						t.Errorf("%s: %s got %s (the correct client: %s), but not for the rule (want %q): %s", f.fault, r.ID, r.Verdict, correct(r.ID), f.says, r.Message)
					}
				case !f.matches(c):
					if r.Verdict != correct(r.ID) {
						t.Errorf("%s changed the verdict of %s, which does not judge its rule: %s (the correct client: %s) %s\n%s",
							f.fault, r.ID, r.Verdict, correct(r.ID), r.Message, traceText(r))
					}
				case r.Verdict == conform.Pass:
					t.Errorf("%s passed %s, which judges the rule it breaks\n%s", f.fault, r.ID, traceText(r))
				case (r.Verdict == conform.Fail || r.Verdict == conform.Warn) && !strings.Contains(r.Message, f.says):
					t.Errorf("%s: %s did not pass, but for another reason than the rule (want %q): %s", f.fault, r.ID, f.says, r.Message)
				case r.Verdict != conform.Fail && r.Verdict != conform.Warn:
					t.Errorf("%s: %s got %s, want fail (or warn for a SHOULD): %s", f.fault, r.ID, r.Verdict, r.Message)
				default:
					caught++
				}
			}
			good, err := conform.RunClient(ctx, matching, conform.ClientConfig{Cmd: shellCmd(spec)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range good.Results {
				if r.Verdict != conform.Pass {
					t.Errorf("the correct client does not pass %s: %s %s\n%s", r.ID, r.Verdict, r.Message, traceText(r))
				}
			}
			t.Logf("%s: caught by %d of the %d cases of its rule, all passed by the correct client; the %d others got the correct client's verdicts", f.fault, caught, len(matching), len(all)-len(matching))
		})
	}
}
