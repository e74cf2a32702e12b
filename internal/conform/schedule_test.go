package conform

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestScheduleSerial: the parallel cases overlap up to par, the serial
// ones run alone and after them, each result lands at its case's index,
// and progress hears every case once. Run and RunClient share it.
func TestScheduleSerial(t *testing.T) {
	var cases []*Case
	for i, serial := range []bool{true, false, false, true, false, false, false} {
		cases = append(cases, &Case{ID: string(rune('a' + i)), Serial: serial})
	}
	var (
		mu                 sync.Mutex
		running, most      int
		order              []string
		serialSeenRunning  []int
		parallelAfterFirst bool
		heard              = map[string]int{}
	)
	res := schedule(cases, 3, func(r Result) { heard[r.ID]++ }, func(c *Case) Result {
		mu.Lock()
		running++
		most = max(most, running)
		if c.Serial {
			serialSeenRunning = append(serialSeenRunning, running)
		} else if len(serialSeenRunning) > 0 {
			parallelAfterFirst = true
		}
		order = append(order, c.ID)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return Result{ID: c.ID}
	})
	for i, r := range res {
		if r.ID != cases[i].ID {
			t.Errorf("result %d is %q, want %q", i, r.ID, cases[i].ID)
		}
		if heard[r.ID] != 1 {
			t.Errorf("progress heard %q %d times", r.ID, heard[r.ID])
		}
	}
	if most != 3 {
		t.Errorf("at most %d cases ran at once, want 3 (par)", most)
	}
	for _, n := range serialSeenRunning {
		if n != 1 {
			t.Errorf("a serial case ran alongside %d others", n-1)
		}
	}
	if parallelAfterFirst || len(serialSeenRunning) != 2 {
		t.Errorf("order %v: want the five parallel cases, then a and d alone", order)
	}
	if got := strings.Join(order[len(order)-2:], ""); got != "ad" {
		t.Errorf("serial cases ran in order %q, want ad", got)
	}
}

// TestClientBackoffCasesSerial: the backoff cases measure delays of tens of
// milliseconds, so they must not share the cores with the other cases'
// client programs.
func TestClientBackoffCasesSerial(t *testing.T) {
	cases, err := LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		if strings.Contains(c.ID, ".reconnect.backoff-") {
			n++
			if !c.Serial {
				t.Errorf("%s is not serial", c.ID)
			}
		}
	}
	if n != 3 {
		t.Errorf("found %d backoff cases, want 3", n)
	}
}
