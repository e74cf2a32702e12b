package conform

import (
	"strings"
	"testing"
	"time"
)

// contractPingInterval is the contract peers' pingInterval: a session
// that has not answered its first ping is closed pingTimeout (200 ms)
// after it.
const contractPingInterval = 300 * time.Millisecond

// TooSlowToJudge reports whether r is a payload-limit case that this
// machine could not carry out in time: its 1 MB body or frame went out
// (the first send after the open arrived) only after the contract's first
// ping was due. From then on the session lives or dies by the heartbeat
// the case does not answer, so a wrong verdict says nothing of the server;
// on a fast machine, or with a server that really ignores the limit, the
// send goes out within milliseconds and the verdict counts. Exported for
// the external tests (TestImplementations).
func TooSlowToJudge(r Result) bool {
	if r.Verdict == Pass || !strings.Contains(r.ID, "payload-limit") {
		return false
	}
	opened := time.Duration(-1)
	for _, e := range r.Trace {
		switch {
		case opened < 0 && e.Dir == "recv":
			opened = e.At
		case opened >= 0 && e.Dir == "send":
			return e.At-opened >= contractPingInterval
		}
	}
	return false
}

// TestTooSlowToJudge: only a payload-limit case that got its body out
// after the first ping was due is inconclusive; one that sent it at once
// and still failed counts.
func TestTooSlowToJudge(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	trace := func(sendAt int) []TraceEntry {
		return []TraceEntry{{At: 0, Dir: "send", Kind: "ws-open"}, {At: ms(18), Dir: "recv", Kind: "ws-open"},
			{At: ms(31), Dir: "recv", Kind: "text"}, {At: ms(sendAt), Dir: "send", Kind: "binary"}, {At: ms(560), Dir: "recv", Kind: "close"}}
	}
	for _, c := range []struct {
		name string
		r    Result
		want bool
	}{
		{"late send", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Info, Trace: trace(904)}, true},
		{"prompt send", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Info, Trace: trace(40)}, false},
		{"passed", Result{ID: "eio4.websocket.payload-limit.over", Verdict: Pass, Trace: trace(904)}, false},
		{"other case", Result{ID: "eio4.heartbeat.ws.ping-pong", Verdict: Fail, Trace: trace(904)}, false},
	} {
		if got := TooSlowToJudge(c.r); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
