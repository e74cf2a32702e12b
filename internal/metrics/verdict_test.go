package metrics

import "testing"

func TestDecidePrecedence(t *testing.T) {
	failedT := []ThresholdResult{{Pass: true}, {Pass: false}}
	ok := &Summary{Result: &Result{Transport: "websocket"}, Thresholds: []ThresholdResult{{Pass: true}}}
	thr := &Summary{Result: &Result{Transport: "polling"}, Thresholds: failedT}
	failed := &Summary{Result: &Result{Transport: "upgrade", Failed: true, FailReason: "no client connected"}, Thresholds: failedT}
	for _, tc := range []struct {
		name    string
		sums    []*Summary
		partial bool
		want    Outcome
		msg     string
		nThr    int
	}{
		{"ok", []*Summary{ok}, false, Passed, "", 0},
		{"threshold", []*Summary{ok, thr}, false, ThresholdsFailed, "1 threshold(s) failed", 1},
		{"partial beats thresholds", []*Summary{thr}, true, Partial, "run stopped early (interrupted); results above are partial", 1},
		{"failed beats all", []*Summary{thr, failed}, true, Failed, "run failed (upgrade): no client connected", 2},
		{"one failed run", []*Summary{failed}, false, Failed, "run failed: no client connected", 1},
	} {
		v := Decide(tc.sums, tc.partial, "interrupted")
		if v.Outcome != tc.want || v.Message != tc.msg || v.FailedThresholds != tc.nThr {
			t.Errorf("%s: %+v, want outcome %d %q with %d failed thresholds", tc.name, v, tc.want, tc.msg, tc.nThr)
		}
	}
}
