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
	run := func(ctx context.Context, t MatrixTarget, cs []*Case, progress func(Result)) (*Report, error) {
		rep := &Report{Target: t.label(), EIO: t.EIO}
		switch t.label() {
		case "http://down", "client: down":
			return nil, errors.New("dial tcp: connection refused")
		case "http://stop":
			progress(Result{ID: "a", Verdict: Pass})
			cancel()
			progress(Result{ID: "b", Verdict: Fail}) // cut short: not kept
			return nil, nil
		}
		for _, c := range cs {
			v := Pass
			if t.label() == "http://bad" && c.ID == "b" {
				v = Fail
			}
			r := Result{ID: c.ID, Verdict: v}
			rep.Results = append(rep.Results, r)
			progress(r)
		}
		return rep, nil
	}
	var seen []string
	var finished []int
	res := RunMatrix(ctx, Matrix{
		Targets: []MatrixTarget{{Name: "down", URL: "http://down", EIO: 4}, {Name: "bad", URL: "http://bad", EIO: 4}, {Name: "stop", URL: "http://stop", EIO: 3}, {Name: "never", URL: "http://never", EIO: 4}},
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
	// The unreachable target counts as finished: its column is whole.
	if got, want := res.Interruption(), "interrupted: 2 of 4 targets finished (stop stopped after 1 of 2 cases)"; got != want {
		t.Errorf("Interruption() = %q, want %q", got, want)
	}
}

// TestRunMatrixClients: a client program's column is named by its command,
// in its partial and its error report too.
func TestRunMatrixClients(t *testing.T) {
	cases := []*Case{{ID: "client.a"}}
	var got []string
	res := RunMatrix(context.Background(), Matrix{
		Targets: []MatrixTarget{{Name: "up", Cmd: "up"}, {Name: "down", Cmd: "down"}},
		Cases:   [][]*Case{cases, cases},
		Run: func(ctx context.Context, t MatrixTarget, cs []*Case, progress func(Result)) (*Report, error) {
			got = append(got, t.Cmd)
			if t.Cmd == "down" {
				return nil, errors.New("no such program")
			}
			return &Report{Target: t.label(), Results: []Result{{ID: "client.a", Verdict: Pass}}}, nil
		},
	})
	if !reflect.DeepEqual(got, []string{"up", "down"}) || !reflect.DeepEqual(res.Unreachable, []string{"down"}) || len(res.Failed) != 0 {
		t.Fatalf("ran %v, unreachable %v, failed %v", got, res.Unreachable, res.Failed)
	}
	if r := res.Reports[1]; r.Target != "client: down" || r.Results[0].Verdict != Error || r.Results[0].Message != "no such program" {
		t.Errorf("error report of a client program: %+v", r)
	}
}
