package conform

import (
	"testing"
	"time"
)

// TestSrvClientStepsLoad: the reconnection, batching and malformed-packet
// steps read their keys and refuse bad values; a client case's env takes
// only the contract's variables.
func TestSrvClientStepsLoad(t *testing.T) {
	const head = clientCaseHead
	c := loadOne(t, head+
		"    env: {SIOCONFORM_RECONNECTION_DELAY: \"100\"}\n    steps:\n"+
		"      - srv_refuse: {gap: {min: 50ms, max: 150ms}, status: 400}\n"+
		"      - srv_batch: {texts: ['42[\"a\"]'], max_body: 60}\n"+
		"      - srv_raw: {text: \"9x\", via: ws}\n"+
		"      - srv_post_delay: {delay: 200ms}\n"+
		"      - srv_alive: {for: 1s}\n")
	if c.Env["SIOCONFORM_RECONNECTION_DELAY"] != "100" {
		t.Errorf("env: %v", c.Env)
	}
	if r, ok := c.steps[0].act.(*srvRefuse); !ok || r.gap.min != 50*time.Millisecond || r.gap.max != 150*time.Millisecond || r.status != 400 {
		t.Errorf("srv_refuse: %+v", c.steps[0].act)
	}
	if b, ok := c.steps[1].act.(*srvBatch); !ok || b.maxBody != 60 || len(b.texts) != 1 {
		t.Errorf("srv_batch: %+v", c.steps[1].act)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"env key", "    env: {HOME: /}\n    steps:\n      - srv_alive: {for: 1s}\n", "HOME is no optional variable of the client contract"},
		{"env value", "    env: {SIOCONFORM_RANDOMIZATION_FACTOR: \"2\"}\n    steps:\n      - srv_alive: {for: 1s}\n", "invalid value"},
		{"refuse status", "    steps:\n      - srv_refuse: {status: 200}\n", "want an HTTP error status"},
		{"gap order", "    steps:\n      - srv_refuse: {gap: {min: 2s, max: 1s}}\n", "min ≤ max"},
		{"batch size", "    steps:\n      - srv_batch: {texts: [\"4\"]}\n", "want a positive size"},
		{"raw both", "    steps:\n      - srv_raw: {text: x, binary_hex: \"01\"}\n", "exactly one of text, binary_hex"},
		{"alive for", "    steps:\n      - srv_alive: {}\n", "for: missing"},
	} {
		wantLoadError(t, tt.name, head+tt.body, tt.want)
	}
}

// TestCheckGap: a reconnection attempt too early or too late is a
// mismatch, one within the bounds is not.
func TestCheckGap(t *testing.T) {
	mark := time.Now()
	g := gapBound{min: 50 * time.Millisecond, max: 150 * time.Millisecond, set: true}
	for _, tt := range []struct {
		after time.Duration
		ok    bool
	}{{10 * time.Millisecond, false}, {100 * time.Millisecond, true}, {400 * time.Millisecond, false}} {
		err := checkGap(g, mark, mark.Add(tt.after))
		if (err == nil) != tt.ok {
			t.Errorf("after %v: err = %v, want ok=%v", tt.after, err, tt.ok)
		}
	}
	if err := checkGap(g, time.Time{}, mark); err == nil {
		t.Error("no mark: want a broken case")
	}
}
