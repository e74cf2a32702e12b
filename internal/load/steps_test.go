package load

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
)

// TestReconnectStep: the reconnect step breaks each client's transport
// and resumes the flow once the client is back; with connection state
// recovery (the Node peer's /csr/) the session is restored, without it
// (the built-in target) it is a new one.
func TestReconnectStep(t *testing.T) {
	t.Parallel()
	const clients = 3
	// The hold is only a bound: the run ends once every client has its
	// second ack (runUntil), however long a busy machine takes.
	flow := `load: {clients: 3, ramp: 0s, hold: 1m, grace: 5s}
flow:
  - connect: {}
  - emit_ack: {event: echo-ack, args: [a], timeout: 20s}
  - reconnect: {timeout: 20s}
  - emit_ack: {event: echo-ack, args: [b], timeout: 20s}
`
	b := startBuiltin(t, target.Options{})
	peer := testpeer.Start(t, "node4")
	for _, c := range []struct {
		name, target, path string
		recovered          int64
	}{
		{"builtin", b.URL, "", 0},
		{"node-csr", peer.URL, "path: /csr/\n", clients},
		{"node", peer.URL, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := parseScenario(t, "name: reconnect-step\n"+c.path+flow)
			res := runUntil(t, s, Options{Target: c.target, Reconnect: fastReconnect}, func(r *metrics.Result) bool {
				return r.Counters["acks"] == 2*clients || r.TotalErrors() > 0
			})
			t.Logf("counters %v errors %v disconnects %v", res.Counters, res.Errors, res.Disconnects)
			eq(t, "dropped", res.Counters["dropped"], clients)
			eq(t, "reconnects", res.Counters["reconnects"], clients)
			eq(t, "reconnect samples", res.Latency("reconnect").TotalCount(), clients)
			eq(t, "recovered", res.Counters["recovered"], c.recovered)
			eq(t, "acks", res.Counters["acks"], 2*clients)
			eq(t, "reconnect_failed", res.Counters["reconnect_failed"], 0)
			eq(t, "errors", res.TotalErrors(), 0)
			eq(t, "transport error disconnects", res.Disconnects["transport error"], clients)
		})
	}
}

// TestWaitAfterFailedSend: an emit or emit_ack that cannot be sent is one
// error, emit_error. A wait after it in the same loop iteration still
// waits, so the flow keeps its pace, but counts no timeout (its reply
// never had a message to answer): the fault is not counted twice. A
// send that succeeds, or the next iteration, ends that.
func TestWaitAfterFailedSend(t *testing.T) {
	t.Parallel()
	b := startBuiltin(t, target.Options{})
	// /other is never connected: each send to it fails at once.
	s := parseScenario(t, `name: send-failed
load: {clients: 2, ramp: 0s, hold: 1s, grace: 5s}
flow:
  - connect: {}
  - loop:
      count: 3
      steps:
        - emit: {namespace: /other, event: echo, args: [{seq: "{{.Seq}}"}]}
        - wait: {event: echo, timeout: 300ms}
  - emit_ack: {namespace: /other, event: echo-ack, args: [x], timeout: 5s}
  - wait: {event: echo, timeout: 300ms}
  - emit_ack: {event: echo-ack, args: [y], timeout: 5s}
  - wait: {event: never, timeout: 200ms}
`)
	start := time.Now()
	res, err := Run(t.Context(), s, Options{Target: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("counters %v errors %v in %v", res.Counters, res.Errors, time.Since(start))
	eq(t, "emit_error", res.Errors[metrics.ErrEmit], 2*(3+1))
	eq(t, "wait_timeout (only the wait after a send that went)", res.Errors[metrics.ErrWaitTimeout], 2)
	eq(t, "operations (connect, 3 emits, 2 emit_acks, the last wait)", res.Counters["operations"], 2*(1+3+2+1))
	eq(t, "acks", res.Counters["acks"], 2)
	if took := time.Since(start); took < 4*300*time.Millisecond {
		t.Errorf("the run took %v: the void waits did not wait", took)
	}
}

// TestFaultSchedule: faults run in time order whatever the file's, an
// exec fault's down window does not hold back the next fault (a restart
// listed first but due later used to be skipped), and a failed command
// says why, by its place in the file.
func TestFaultSchedule(t *testing.T) {
	t.Parallel()
	s := parseScenario(t, `name: fault-schedule
load: {clients: 2, ramp: 0s, hold: 1500ms, grace: 2s}
flow:
  - connect: {}
  - think: 3s
faults:
  - {at: 600ms, restart_target: true, down: 100ms}
  - {at: 200ms, exec: "exit 3"}
`)
	b := startBuiltin(t, target.Options{})
	res, err := Run(t.Context(), s, Options{Target: b.URL, Restart: b.Restart, Reconnect: fastReconnect})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "restarts", res.Counters[metrics.Restarts.String()], 1)
	eq(t, "exec_error", res.Errors["exec_error"], 1)
	if c := res.Causes["exec_error"]; c == nil || c.First != "faults[1].exec: exit status 3" {
		t.Errorf("exec_error cause %+v, want faults[1].exec: exit status 3", c)
	}
	var marks []string
	for _, m := range res.Timeline.Markers {
		if m.Kind == metrics.MarkFault {
			marks = append(marks, m.Text)
			// Due at 600 ms, after the exec's 5 s down window opened.
			if strings.HasPrefix(m.Text, "restart") && (m.T < 0.55 || m.T > 1.2) {
				t.Errorf("the restart ran at %.2fs, want at 0.6s", m.T)
			}
		}
	}
	if want := []string{"exec faults[1]", "restart target, down 100ms"}; !slices.Equal(marks, want) {
		t.Errorf("fault marks %q, want %q", marks, want)
	}
}
