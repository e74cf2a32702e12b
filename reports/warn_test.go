package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/conform"
)

// TestWarnIsAFailureOnlyWhenStrict: a warn (a broken SHOULD) is on record in
// every format, counted, and a failure (JUnit <failure>, "not conformant")
// only in a strict run.
func TestWarnIsAFailureOnlyWhenStrict(t *testing.T) {
	for _, strict := range []bool{false, true} {
		r := &conform.Report{Target: "http://127.0.0.1:1", EIO: 4, Strict: strict, Results: []conform.Result{
			{ID: "eio4.a.pass", Verdict: conform.Pass, Step: -1},
			{ID: "eio4.a.warn", Verdict: conform.Warn, Strength: conform.Should, Rule: "the server SHOULD do it", Message: "it did not", Step: 1},
		}}
		var junit, md, table bytes.Buffer
		if err := ConformJUnit(&junit, r); err != nil {
			t.Fatal(err)
		}
		if err := ConformMarkdown(&md, r); err != nil {
			t.Fatal(err)
		}
		if err := ConformTable(&table, r, TableOptions{}); err != nil {
			t.Fatal(err)
		}
		failure := strings.Contains(junit.String(), `<failure message="it did not" type="warn">`)
		if failure != strict || strings.Contains(junit.String(), `failures="1"`) != strict {
			t.Errorf("strict=%v: JUnit failure=%v:\n%s", strict, failure, junit.String())
		}
		if !strict && !strings.Contains(junit.String(), "warn: ") {
			t.Errorf("JUnit keeps no record of the warn:\n%s", junit.String())
		}
		if strings.Contains(md.String(), "**not conformant**") != strict || !strings.Contains(md.String(), "1 warn") {
			t.Errorf("strict=%v: markdown:\n%s", strict, md.String())
		}
		if !strings.Contains(table.String(), "1 pass, 0 fail, 1 warn") {
			t.Errorf("table summary:\n%s", table.String())
		}
		if strings.Contains(table.String(), "rule:     the server SHOULD do it (should)") != strict {
			t.Errorf("strict=%v: the details block (with the rule) should show only when the warn fails the run:\n%s", strict, table.String())
		}
	}
}
