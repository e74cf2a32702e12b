package load

import (
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// TestLatencyFidelity: with a known server delay the reported latencies
// are that delay plus a little. The delay is a floor (the target sleeps
// at least Delay before answering), so min and p50 may not be below it.
// Above it a busy machine adds what it likes (a descheduled goroutine
// shows as milliseconds, on a loaded 2-core machine as hundreds), so the
// upper bounds only catch gross errors (a unit off by 1000, a sample
// taken from the run's start): p50 below 1 s, p99 below 2 s. Each client
// does exactly 20 iterations, so the sample count is exact. The loop is
// not paced: a paced loop that a busy machine cannot keep up with
// rightly reports its growing lateness as latency (see below).
func TestLatencyFidelity(t *testing.T) {
	t.Parallel()
	const delay = 20 * time.Millisecond
	const clients, count = 4, 20
	b := startBuiltin(t, target.Options{Delay: delay})
	s := parseScenario(t, `name: fidelity
load: {clients: 4, ramp: 200ms, hold: 1m, grace: 5s}
flow:
  - connect: {}
  - loop:
      count: 20
      steps:
        - think: 50ms
        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
        - emit: {event: echo, args: [{seq: "{{.Seq}}", t: "{{.SendTime}}"}]}
        - wait: {event: echo, match: {seq: "{{.Seq}}"}, timeout: 30s}
`)
	res := runUntil(t, s, Options{Target: b.URL}, func(r *metrics.Result) bool {
		return r.Counters["iterations"] == clients*count || r.TotalErrors() > 0
	})
	for _, name := range []string{"ack", "event"} {
		st := res.StatsOf(name)
		t.Logf("%s: n=%d min %v p50 %v p99 %v max %v", name, st.Count, st.Min, st.P50, st.P99, st.Max)
		if st.Count != clients*count {
			t.Errorf("%s: %d samples, want %d", name, st.Count, clients*count)
		}
		// HdrHistogram at 3 significant digits: values are within 0.1 %.
		if st.Min < delay-delay/1000 || st.P50 < delay-delay/1000 {
			t.Errorf("%s: min %v, p50 %v: below the injected delay %v", name, st.Min, st.P50, delay)
		}
		if st.P50 > time.Second || st.P99 > 2*time.Second {
			t.Errorf("%s: p50 %v, p99 %v: want an injected %v plus at most 1 s (p50), 2 s (p99)", name, st.P50, st.P99, delay)
		}
	}
	if res.TotalErrors() != 0 {
		t.Errorf("errors %v", res.Errors)
	}
}

// TestStallShowsInOpenModel proves there is no coordinated omission: the
// target holds every reply for 1 s while the clients loop. Measured from
// the intended send times of a paced loop (20 per second per client),
// every request that was due during the stall counts it: about 20 samples
// per client lie between 0 and 1 s. A closed loop (send, wait, think) over
// the same stall sends one request per client during it and reports
// percentiles that look healthy: that is coordinated omission.
// The stall starts once every client is looping (not at a fixed time), each
// client does exactly 60 iterations, and what is compared is how many
// samples are at least half the stall: a busy machine makes every sample
// slower, which only adds to the paced loop's and cannot hide the stall.
func TestStallShowsInOpenModel(t *testing.T) {
	t.Parallel()
	const stall = time.Second
	const clients, count = 4, 60
	run := func(flow string) *metrics.Result {
		b, err := StartBuiltin(target.Options{})
		if err != nil {
			t.Error(err)
			return nil
		}
		defer b.Close()
		s := parseScenario(t, `name: stall
load: {clients: 4, ramp: 0s, hold: 1m, grace: 10s}
flow:
  - connect: {}
`+flow)
		var once sync.Once
		return runUntil(t, s, Options{Target: b.URL}, func(r *metrics.Result) bool {
			// A sixth of the way in: every client has 50 iterations
			// (2.5 s at 20/s) left for the 1 s stall.
			if r.ClientsConnected == clients && r.Counters["acks"] >= clients*count/6 {
				once.Do(func() { b.Target().Stall(stall) })
			}
			return r.Counters["acks"] == clients*count || r.TotalErrors() > 0
		})
	}
	var open, closed *metrics.Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		open = run(`  - loop:
      rate: 20
      count: 60
      steps:
        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
`)
	}()
	closed = run(`  - loop:
      count: 60
      steps:
        - emit_ack: {event: echo-ack, args: [x], timeout: 30s}
        - think: 50ms
`)
	<-done
	if open == nil || closed == nil {
		return
	}
	// slow counts the samples of at least half the stall.
	slow := func(r *metrics.Result) int64 {
		n := int64(0)
		for _, b := range r.Latency("ack").Distribution() {
			if b.From >= (stall / 2).Microseconds() {
				n += b.Count
			}
		}
		return n
	}
	o, c := open.StatsOf("ack"), closed.StatsOf("ack")
	so, sc := slow(open), slow(closed)
	t.Logf("open (intended time): n=%d p50 %v p90 %v p99 %v max %v, %d samples >= %v", o.Count, o.P50, o.P90, o.P99, o.Max, so, stall/2)
	t.Logf("closed loop:          n=%d p50 %v p90 %v p99 %v max %v, %d samples >= %v", c.Count, c.P50, c.P90, c.P99, c.Max, sc, stall/2)
	if o.Count != clients*count || c.Count != clients*count {
		t.Errorf("samples: open %d, closed %d, want %d each", o.Count, c.Count, clients*count)
	}
	// In theory 10 per client in the paced loop (the requests due in the
	// stall's first half), 1 per client in the closed one.
	if so < clients*5 {
		t.Errorf("open model: %d samples >= %v, want >= %d: the stall vanished from the percentiles", so, stall/2, clients*5)
	}
	if sc*2 > so {
		t.Errorf("closed loop: %d samples >= %v, open model %d: expected the closed loop to hide the stall", sc, stall/2, so)
	}
	// Both saw the whole stall in their slowest sample.
	if o.Max < stall-100*time.Millisecond || c.Max < stall-100*time.Millisecond {
		t.Errorf("max: open %v, closed %v, want about %v: the stall did not happen", o.Max, c.Max, stall)
	}
	if open.TotalErrors() != 0 || closed.TotalErrors() != 0 {
		t.Errorf("errors: open %v closed %v", open.Errors, closed.Errors)
	}
}
