package conform

import (
	"testing"
	"time"
)

// TestNewStepKindsLoad: http_slow and poll_heartbeat read their keys, take
// what the registry says they take (expect, async), and refuse bad values
// as file:line: field: problem.
func TestNewStepKindsLoad(t *testing.T) {
	const head = caseHead + "    steps:\n"
	steps := loadOne(t, head+
		"      - http_slow: {query: {sid: x}, body: \"4abc\", chunk: 2, every: 30ms, pad_to: 10}\n"+
		"        name: post1\n        async: true\n        expect: {status: 400}\n"+
		"      - poll_heartbeat: {query: {sid: x}, for: 2s}\n        name: keep\n        async: true\n"+
		"      - wait: post1\n      - wait: keep\n").steps
	slow, ok := steps[0].act.(*httpSlow)
	if !ok || slow.req.method != "POST" || slow.req.body != "4abc" || slow.req.pad.to != 10 || slow.chunk != 2 ||
		slow.every != 30*time.Millisecond || slow.expect == nil || slow.expect.status[0] != 400 || !steps[0].async {
		t.Errorf("http_slow step: %+v", steps[0].act)
	}
	if hb, ok := steps[1].act.(*pollHeartbeat); !ok || hb.dur != 2*time.Second || len(hb.query) != 1 {
		t.Errorf("poll_heartbeat step: %+v", steps[1].act)
	}
	for _, tt := range []struct{ name, steps, want string }{
		{"slow without body", "      - http_slow: {query: {sid: x}}\n", "f.yaml:6: eio4.a.b.steps[0].http_slow: needs a body"},
		{"slow chunk 0", "      - http_slow: {body: x, chunk: 0}\n", "f.yaml:6: eio4.a.b.steps[0].http_slow.chunk: must be at least 1 byte"},
		{"slow every 0", "      - http_slow: {body: x, every: 0s}\n", "f.yaml:6: eio4.a.b.steps[0].http_slow.every: must be positive"},
		{"slow abort_after", "      - http_slow: {body: x, abort_after: 1s}\n", "f.yaml:6: eio4.a.b.steps[0].http_slow.abort_after: unknown key"},
		{"heartbeat without for", "      - poll_heartbeat: {query: {sid: x}}\n", "f.yaml:6: eio4.a.b.steps[0].poll_heartbeat.for: missing"},
		{"heartbeat expect", "      - poll_heartbeat: {for: 1s}\n        expect: {status: 200}\n",
			"f.yaml:7: eio4.a.b.steps[0].poll_heartbeat.expect: only http, http_slow and ws_open steps take expect"},
		{"async sleep", "      - sleep: 1ms\n        name: s\n        async: true\n",
			"eio4.a.b.steps[0].sleep.async: only a named http, http_slow or poll_heartbeat step can be async"},
	} {
		wantLoadError(t, tt.name, head+tt.steps, tt.want)
	}
}
