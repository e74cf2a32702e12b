package conform

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestRunMatrix: an unreachable target gets an error column and the others
// still run; failures are named; an interruption keeps only the cases that
// finished before it and runs no further target.
func TestRunMatrix(t *testing.T) {
	cases := []*Case{{ID: "a"}, {ID: "b"}}
	sel := [][]*Case{cases, cases, cases, cases}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := func(ctx context.Context, cs []*Case, cfg Config) (*Report, error) {
		rep := &Report{Target: cfg.URL, EIO: cfg.EIO}
		switch cfg.URL {
		case "http://down":
			return nil, errors.New("dial tcp: connection refused")
		case "http://stop":
			cfg.Progress(Result{ID: "a", Verdict: Pass})
			cancel()
			cfg.Progress(Result{ID: "b", Verdict: Fail}) // cut short: not kept
			return nil, nil
		}
		for _, c := range cs {
			v := Pass
			if cfg.URL == "http://bad" && c.ID == "b" {
				v = Fail
			}
			r := Result{ID: c.ID, Verdict: v}
			rep.Results = append(rep.Results, r)
			cfg.Progress(r)
		}
		return rep, nil
	}
	var seen []string
	var finished []int
	res := RunMatrix(ctx, Matrix{
		Targets: []MatrixTarget{{"down", "http://down", 4}, {"bad", "http://bad", 4}, {"stop", "http://stop", 3}, {"never", "http://never", 4}},
		Cases:   sel, Run: run,
		Progress: func(i int, r Result) { seen = append(seen, r.ID) },
		Finished: func(i int, rep *Report) { finished = append(finished, i) },
	})
	if !reflect.DeepEqual(res.Unreachable, []string{"down"}) || !reflect.DeepEqual(res.Failed, []string{"bad"}) || !res.Interrupted {
		t.Fatalf("unreachable %v, failed %v, interrupted %v", res.Unreachable, res.Failed, res.Interrupted)
	}
	if r := res.Reports[0]; len(r.Results) != 2 || r.Results[0].Verdict != Error || r.Results[0].Message != "dial tcp: connection refused" {
		t.Errorf("unreachable target's report %+v", r)
	}
	if r := res.Reports[2]; len(r.Results) != 1 || r.Results[0].ID != "a" || r.EIO != 3 {
		t.Errorf("partial report %+v, want only case a", r)
	}
	if res.Reports[3] != nil {
		t.Errorf("a target after the interruption ran: %+v", res.Reports[3])
	}
	if !reflect.DeepEqual(seen, []string{"a", "b", "a"}) || !reflect.DeepEqual(finished, []int{0, 1}) {
		t.Errorf("progress %v, finished %v", seen, finished)
	}
}
