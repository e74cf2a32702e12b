package metrics

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCauseText(t *testing.T) {
	for in, want := range map[string]string{
		`Get "http://user:pw@127.0.0.1:3000/socket.io/?EIO=4&transport=polling&sid=abc": EOF`: `Get "http://***@127.0.0.1:3000/socket.io/?…": EOF`,
		"read tcp 127.0.0.1:40312->127.0.0.1:3000: read: connection reset by peer":            "read tcp 127.0.0.1:3000: read: connection reset by peer",
		"read tcp [::1]:40312->[::1]:3000: i/o timeout":                                       "read tcp [::1]:3000: i/o timeout",
		"two\nlines": "two lines",
		"":           "(no message)",
		"wss://tok@h/x?token=secret: bad handshake": "wss://***@h/x?…: bad handshake",
	} {
		if got := CauseText(in); got != want {
			t.Errorf("CauseText(%q) = %q, want %q", in, got, want)
		}
	}
	long := CauseText(strings.Repeat("é", 500))
	if len(long) > MaxCauseLen+len("…") || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "éé") {
		t.Errorf("long message: %d bytes %q", len(long), long[:20])
	}
}

func TestErrorCausesBoundedAndMerged(t *testing.T) {
	r := NewRecorder(4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			sh := r.Shard(w)
			for i := range 100 {
				sh.ErrorCause(ErrHandshake, errors.New("connection refused")) // 400 in all
				sh.ErrorCause(ErrHandshake, fmt.Errorf("odd %d-%d", w, i))    // 400 distinct
			}
			sh.Error(ErrHandshake) // no cause: counted, not sampled
		})
	}
	wg.Wait()
	res := r.Snapshot()
	c := res.Causes[ErrHandshake]
	if res.Errors[ErrHandshake] != 804 || c == nil {
		t.Fatalf("errors %v causes %+v", res.Errors, c)
	}
	if len(c.Top) > MaxCauses || c.Top[0] != (Cause{"connection refused", 400}) || c.Counted() != 800 {
		t.Errorf("top %+v other %d counted %d; want ≤ %d messages, refused x400 first, 800 counted", c.Top, c.Other, c.Counted(), MaxCauses)
	}
	if c.First != "connection refused" {
		t.Errorf("first %q", c.First)
	}
	if got := res.MainCause(); got != "handshake_error x400: connection refused" {
		t.Errorf("MainCause %q", got)
	}

	// Through JSON and Merge (sioload report): counts add up, the bound holds.
	back, _ := jsonRoundTrip(t, res)
	m := Merge(back, res)
	mc := m.Causes[ErrHandshake]
	if mc.Counted() != 1600 || len(mc.Top) > MaxCauses || mc.Top[0].Count != 800 || mc.First != "connection refused" {
		t.Errorf("merged: top %+v other %d", mc.Top, mc.Other)
	}
	if res.Causes[ErrHandshake].Counted() != 800 {
		t.Error("Merge changed its input")
	}
}

func TestJudge(t *testing.T) {
	mk := func(peak, ops, errs int64) *Result {
		r := newResult()
		r.PeakClients, r.Counters[Operations.String()], r.Counters[ClientsStarted.String()] = peak, ops, 5
		if errs > 0 {
			r.Errors[ErrAckTimeout] = errs
		}
		return r
	}
	for _, c := range []struct {
		r    *Result
		max  float64
		want string // "" = not failed
	}{
		{mk(0, 5, 0), 0.1, "no client connected (5 started)"},
		{mk(5, 100, 10), 0.1, ""},
		{mk(5, 100, 11), 0.1, "errors 11% of operations (11 of 100), above max_error_rate 10%: ack_timeout x11"},
		{mk(5, 100, 11), 0.5, ""},
		{mk(5, 100, 1), 0, "errors 1% of operations"},
		{mk(5, 100, 300), 1, ""},
	} {
		c.r.Judge(c.max)
		if c.r.Failed != (c.want != "") || !strings.HasPrefix(c.r.FailReason, c.want) {
			t.Errorf("peak %d errors %v max %v: failed %v %q, want %q", c.r.PeakClients, c.r.Errors, c.max, c.r.Failed, c.r.FailReason, c.want)
		}
	}
}
