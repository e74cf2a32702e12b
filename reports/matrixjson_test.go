package reports

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/siokit/siokit/internal/conform"
)

// TestConformMatrixJSON: one entry per column in order, each report whole
// (messages are the reasons), null for a column that did not run, and a
// length mismatch refused.
func TestConformMatrixJSON(t *testing.T) {
	names, reps := matrixFixture()
	names, reps = append(names, "never"), append(reps, nil)
	var buf bytes.Buffer
	if err := ConformMatrixJSON(&buf, names, reps); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Targets []struct {
			Name   string          `json:"name"`
			Report *conform.Report `json:"report"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if len(got.Targets) != 4 || got.Targets[1].Name != "go|fast & co" || got.Targets[3].Report != nil {
		t.Fatalf("targets %+v", got.Targets)
	}
	for i, r := range reps[:3] {
		g := got.Targets[i].Report
		if g == nil || g.Target != r.Target || len(g.Results) != len(r.Results) {
			t.Fatalf("target %d: %+v, want %+v", i, g, r)
		}
		for j := range r.Results {
			if g.Results[j].ID != r.Results[j].ID || g.Results[j].Verdict != r.Results[j].Verdict || g.Results[j].Message != r.Results[j].Message {
				t.Errorf("target %d result %d: %+v, want %+v", i, j, g.Results[j], r.Results[j])
			}
		}
	}
	if err := ConformMatrixJSON(&buf, names[:1], reps); err == nil {
		t.Error("a length mismatch was accepted")
	}
}

// TestConformMatrixReasons: one line per non-pass cell, target by target,
// cases sorted, markdown escaped; nothing at all when every cell passed.
func TestConformMatrixReasons(t *testing.T) {
	names := []string{"a|b", "ok", "gone"}
	reps := []*conform.Report{
		{Results: []conform.Result{
			{ID: "z", Verdict: conform.Fail, Message: "step 1: want <x>\ngot y"},
			{ID: "m", Verdict: conform.Pass},
			{ID: "b", Verdict: conform.NA, Message: "no cookie"},
		}},
		{Results: []conform.Result{{ID: "m", Verdict: conform.Pass}}},
		nil,
	}
	var buf bytes.Buffer
	if err := ConformMatrixReasons(&buf, names, reps, false); err != nil {
		t.Fatal(err)
	}
	if want := "\nWhy each cell that is not a pass:\na|b b n-a: no cookie\na|b z FAIL: step 1: want <x>\\ngot y\n"; buf.String() != want {
		t.Errorf("table reasons %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := ConformMatrixReasons(&buf, names, reps, true); err != nil {
		t.Fatal(err)
	}
	if want := "* a\\|b `z` **FAIL**: step 1: want &lt;x&gt;\\ngot y\n"; !bytes.HasSuffix(buf.Bytes(), []byte(want)) {
		t.Errorf("markdown reasons %q, want the suffix %q", buf.String(), want)
	}
	buf.Reset()
	if err := ConformMatrixReasons(&buf, names[1:], reps[1:], true); err != nil || buf.Len() != 0 {
		t.Errorf("all passing: %q, %v; want nothing", buf.String(), err)
	}
	if err := ConformMatrixReasons(&buf, names[:1], reps, false); err == nil {
		t.Error("a length mismatch was accepted")
	}
}
