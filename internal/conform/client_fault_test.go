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
	// matches tells the cases whose rule the fault breaks: each must not
	// pass against the faulty client, and must pass against the correct one.
	matches func(c *conform.Case) bool
	// says is what the message of every case that does not pass names:
	// the broken rule, not some side effect of the fault.
	says string
	// expected names the matching cases to come, for the report when none
	// is built in yet.
	expected string
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
		// every Engine.IO v4 polling case, and the upgrade cases where the
		// client stays on polling. The other upgrade cases have moved to
		// the WebSocket before a long poll is held.
		matches: func(c *conform.Case) bool {
			return c.EIO == 4 && (c.Transport == "polling" ||
				c.ID == "client.eio4.upgrade.not-offered" || c.ID == "client.eio4.upgrade.bad-probe-answer")
		},

		says: "a second GET while another GET is in flight",
	},
	{
		fault:    "oversize-batch",
		matches:  idIn("client.eio4.polling.post-batch-max-payload"),
		expected: "client.eio4.polling.post-batch-max-payload (a POST over the advertised maxPayload)",
	},
	{
		fault:    "no-backoff",
		matches:  idIn("client.sio5.reconnect.backoff"),
		expected: "client.sio5.reconnect.backoff-* (reconnection delays within the documented bounds and their cap)",
	},
}

// TestClientFaults runs the whole client suite against siokit's client
// with one rule broken at a time and asserts that exactly the cases of
// that rule do not pass, each saying why, and that the correct client
// passes them. A fault whose cases are not built in yet still must break
// no other case.
func TestClientFaults(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	all := conform.SelectClient(cases, 0, "", nil, nil)
	spec := testpeer.ClientCommand(t, "siokit-client")
	for _, f := range clientFaults {
		t.Run(f.fault, func(t *testing.T) {
			var matching []*conform.Case
			for _, c := range all {
				if f.matches(c) {
					matching = append(matching, c)
				}
			}
			if len(matching) == 0 {
				t.Logf("no built-in case judges %s yet (want %s): checking only that it breaks no other case", f.fault, f.expected)
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
				switch {
				case !f.matches(c) && r.Verdict != conform.Pass:
					t.Errorf("%s broke %s, which does not judge its rule: %s %s\n%s", f.fault, r.ID, r.Verdict, r.Message, traceText(r))
				case f.matches(c) && r.Verdict == conform.Pass:
					t.Errorf("%s passed %s, which judges the rule it breaks\n%s", f.fault, r.ID, traceText(r))
				case f.matches(c) && (r.Verdict == conform.Fail || r.Verdict == conform.Warn) && !strings.Contains(r.Message, f.says):
					t.Errorf("%s: %s did not pass, but for another reason than the rule (want %q): %s", f.fault, r.ID, f.says, r.Message)
				case f.matches(c) && r.Verdict != conform.Fail && r.Verdict != conform.Warn:
					t.Errorf("%s: %s got %s, want fail (or warn for a SHOULD): %s", f.fault, r.ID, r.Verdict, r.Message)
				case f.matches(c):
					caught++
				}
			}
			if len(matching) == 0 {
				return
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
			t.Logf("%s: caught by %d of the %d cases of its rule, all passed by the correct client; the %d others passed", f.fault, caught, len(matching), len(all)-len(matching))
		})
	}
}
