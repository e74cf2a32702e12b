package load

import (
	"context"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// A paced loop whose body ends with an emit_ack sleeps toward its next
// iteration from the ack callback (ackWait.due). These tests hold what
// that must not change: the count, one iteration per interval at most,
// the next iteration waiting for a slow ack, and the flow ending at the
// end of the load rather than at its next due time.

// pacedRun runs src against a built-in target with the reply delay, to
// its end or, when iterations is not 0, until that many iterations are
// done; it returns the result and how long the run took.
func pacedRun(t *testing.T, delay time.Duration, src string, iterations int64) (*metrics.Result, time.Duration) {
	t.Helper()
	b, err := StartBuiltin(target.Options{Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, opts := parseScenario(t, src), Options{Target: b.URL}
	start := time.Now()
	if iterations > 0 {
		res := runUntil(t, s, opts, func(r *metrics.Result) bool {
			return r.Counters["iterations"] >= iterations || r.TotalErrors() > 0
		})
		return res, time.Since(start)
	}
	res, err := Run(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, time.Since(start)
}

// ackLoop is the scenario of most of these tests: each client connects,
// then loops an emit_ack of echo-ack; load is the load mapping's body and
// loop the loop's keys before its steps, one a line.
func ackLoop(name, load string, loop ...string) string {
	src := "name: " + name + "\nload: {" + load + "}\nflow:\n  - connect: {}\n  - loop:\n"
	for _, kv := range loop {
		src += "      " + kv + "\n"
	}
	return src + "      steps:\n        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}\n"
}

func TestPacedAckLoopKeepsItsSchedule(t *testing.T) {
	t.Parallel()
	// 3 clients, 8 iterations 50 ms apart, then 4 more of a body with an
	// emit before the emit_ack.
	res, took := pacedRun(t, 0, `name: paced
load: {clients: 3, ramp: 0s, hold: 1m, grace: 5s}
flow:
  - connect: {}
  - loop:
      count: 8
      rate: 20
      steps:
        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
  - loop:
      count: 4
      rate: 20
      steps:
        - emit: {event: echo, args: [y]}
        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
`, 3*12)
	if it, acks, n := res.Counters["iterations"], res.Counters["acks"], res.StatsOf("ack").Count; it != 36 || acks != 36 || n != 36 {
		t.Errorf("%d iterations, %d acks, %d ack samples; want 36 each (errors %v)", it, acks, n, res.Errors)
	}
	// 7 + 3 intervals at least: an iteration never starts early.
	if min := 10 * 50 * time.Millisecond; took < min {
		t.Errorf("the loops took %v, less than their %v of intervals", took, min)
	}
}

func TestPacedAckLoopWaitsForASlowAck(t *testing.T) {
	t.Parallel()
	const delay = 120 * time.Millisecond // more than the 50 ms interval
	res, took := pacedRun(t, delay, ackLoop("slow", "clients: 2, ramp: 0s, hold: 1m, grace: 5s", "count: 5", "rate: 20"), 2*5)
	if it, acks := res.Counters["iterations"], res.Counters["acks"]; it != 10 || acks != 10 {
		t.Errorf("%d iterations, %d acks; want 10 each (errors %v)", it, acks, res.Errors)
	}
	if st := res.StatsOf("ack"); st.Min < delay {
		t.Errorf("fastest ack %v, below the server's delay %v: measured from the wrong send", st.Min, delay)
	}
	if min := 5 * delay; took < min {
		t.Errorf("5 round trips of at least %v took %v: an iteration did not wait for its ack", delay, took)
	}
}

func TestPacedAckLoopEndsWithTheLoad(t *testing.T) {
	t.Parallel()
	// One iteration every 3 s; the load ends 600 ms in, while every flow
	// sleeps toward its second iteration.
	res, took := pacedRun(t, 0, ackLoop("ends", "clients: 2, ramp: 0s, hold: 600ms, grace: 5s", "rate: 0.33"), 0)
	if acks := res.Counters["acks"]; acks != 2 || res.TotalErrors() != 0 {
		t.Errorf("%d acks, errors %v; want 2 and none", acks, res.Errors)
	}
	if took >= 2500*time.Millisecond {
		t.Errorf("the run took %v: the flows waited for their next iteration (3 s in) after the load ended (600 ms in)", took)
	}
}

// TestAckInFlightEndsWithTheGrace: an ack still awaited when the grace
// ends (the server holds it 3 s) ends the flow then: the run closes the
// client, which fails the ack, without counting a timeout or an error.
func TestAckInFlightEndsWithTheGrace(t *testing.T) {
	t.Parallel()
	res, took := pacedRun(t, 3*time.Second, ackLoop("grace", "clients: 2, ramp: 0s, hold: 300ms, grace: 500ms", "rate: 10"), 0)
	if took >= 2500*time.Millisecond {
		t.Errorf("the run took %v: the flows waited for their acks (3 s) past the grace (800 ms in)", took)
	}
	if sent, acks := res.Counters["messages_sent"], res.Counters["acks"]; sent != 2 || acks != 0 || res.TotalErrors() != 0 {
		t.Errorf("%d sent, %d acks, errors %v; want 2 sent, no ack, no error", sent, acks, res.Errors)
	}
}

// TestPacedAckLoopStopsWhenCancelled: a run cancelled while its flows
// sleep toward their next iteration (due 2.5 s in, the cancel 600 ms in)
// ends without waiting for it: no flow is left behind when Run returns.
func TestPacedAckLoopStopsWhenCancelled(t *testing.T) {
	b, err := StartBuiltin(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := parseScenario(t, ackLoop("cancelled", "clients: 2, ramp: 0s, hold: 1m, grace: 5s", "rate: 0.4"))
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, s, Options{Target: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	if n := goroutinesIn("internal/load.(*vclient)"); n != 0 {
		t.Errorf("%d goroutines still in the runner's client code after Run returned (the flows sleep until 2.5 s)", n)
	}
	if acks := res.Counters["acks"]; acks != 2 || res.TotalErrors() != 0 || !res.Partial {
		t.Errorf("%d acks, errors %v, partial %v; want 2, none, partial", acks, res.Errors, res.Partial)
	}
}
