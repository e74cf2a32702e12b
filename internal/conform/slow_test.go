package conform

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// contractPingInterval is the contract peers' pingInterval: a session
// that has not answered its first ping is closed pingTimeout (200 ms)
// after it.
const contractPingInterval = 300 * time.Millisecond

// heartbeatCase matches the cases about the heartbeat itself: a ping is
// what they judge, never an accident of the machine.
var heartbeatCase = regexp.MustCompile(`heartbeat|ping|pong`)

// overtaken are the marks, in a result's message, of the contract's
// heartbeat getting in the way: a ping ("2") where something else was
// wanted, or the session gone (its pong was never sent).
var overtaken = []string{`"2"`, `\x1e2`, `2\x1e`, "Session ID unknown", "code 1005"}

// TooSlowToJudge reports whether r is a case this machine could not carry
// out before the contract's heartbeat (300/200 ms, which the cases do not
// answer) got in its way: it did not pass, it is not a heartbeat case, its
// message shows a ping or the session's end, and its own requests were
// still going out half a ping interval after the session opened (on a fast
// machine they are all out within milliseconds, so a server that sends a
// ping instead of an answer is still caught there). Such a verdict says
// nothing of the server. Exported for the external tests
// (TestImplementations).
func TooSlowToJudge(r Result) bool {
	if r.Verdict == Pass || heartbeatCase.MatchString(r.ID) {
		return false
	}
	hit := false
	for _, m := range overtaken {
		hit = hit || strings.Contains(r.Message, m)
	}
	if !hit {
		return false
	}
	opened, last := time.Duration(-1), time.Duration(-1)
	for _, e := range r.Trace {
		switch {
		case opened < 0 && e.Dir == "recv":
			opened = e.At
		case opened >= 0 && e.Dir == "send":
			last = e.At
		}
	}
	return last >= 0 && last-opened >= contractPingInterval/2
}

// TestTooSlowToJudge: only a case whose own sends were late and that the
// heartbeat then overtook is inconclusive; one that sent everything at
// once and still failed counts, and so does any heartbeat case.
func TestTooSlowToJudge(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	trace := func(sendAt int) []TraceEntry {
		return []TraceEntry{{At: 0, Dir: "send", Kind: "ws-open"}, {At: ms(18), Dir: "recv", Kind: "ws-open"},
			{At: ms(31), Dir: "recv", Kind: "text"}, {At: ms(sendAt), Dir: "send", Kind: "binary"}, {At: ms(560), Dir: "recv", Kind: "close"}}
	}
	const closed = `want the connection to close, got text "2"`
	for _, c := range []struct {
		name string
		r    Result
		want bool
	}{
		{"late send", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Info, Message: closed, Trace: trace(904)}, true},
		{"late noop", Result{ID: "eio4.upgrade.noop-to-held-get", Verdict: Fail, Message: `body: want "6", got "2"`, Trace: trace(255)}, true},
		{"prompt send", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Info, Message: closed, Trace: trace(40)}, false},
		{"prompt noop, ping instead", Result{ID: "eio4.upgrade.noop-to-held-get", Verdict: Fail, Message: `body: want "6", got "2"`, Trace: trace(20)}, false},
		{"late, other failure", Result{ID: "eio4.upgrade.ok", Verdict: Fail, Message: `body: want "6", got "4x"`, Trace: trace(904)}, false},
		{"passed", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Pass, Trace: trace(904)}, false},
		{"heartbeat case", Result{ID: "eio4.heartbeat.ws.ping-pong", Verdict: Fail, Message: closed, Trace: trace(904)}, false},
	} {
		if got := TooSlowToJudge(c.r); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
