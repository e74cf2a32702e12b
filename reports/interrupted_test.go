package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/conform"
)

// interruptedFixture is the report of a run of 5 cases stopped after two
// passed; the engine never returned (a second Ctrl-C), so its start is
// unknown.
func interruptedFixture() *conform.Report {
	return &conform.Report{Target: "http://127.0.0.1:3000", EIO: 4, Interrupted: true, CasesTotal: 5,
		Results: []conform.Result{{ID: "eio4.a", Verdict: conform.Pass, Step: -1}, {ID: "eio4.b", Verdict: conform.Pass, Step: -1}}}
}

// TestConformInterrupted: every renderer of one report says that the run
// was interrupted and how far it got, never that the target conforms;
// JUnit makes it an error (a CI shows red); the unknown start time is not
// written as the zero time.
func TestConformInterrupted(t *testing.T) {
	const want = "interrupted: 2 of 5 cases finished"
	r := interruptedFixture()
	render := map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return ConformTable(b, r, TableOptions{}) },
		"markdown": func(b *bytes.Buffer) error { return ConformMarkdown(b, r) },
		"html":     func(b *bytes.Buffer) error { return ConformHTML(b, "test", r) },
		"junit":    func(b *bytes.Buffer) error { return ConformJUnit(b, r) },
		"json":     func(b *bytes.Buffer) error { return ConformJSON(b, r) },
		"matrix": func(b *bytes.Buffer) error {
			return ConformMatrix(b, []string{"a", "b"}, []*conform.Report{r, nil}, true)
		},
		"matrix html": func(b *bytes.Buffer) error {
			return ConformMatrixHTML(b, "test", []string{"a"}, []*conform.Report{r})
		},
	}
	for name, fn := range render {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := b.String()
		if strings.Contains(out, "conformant") || strings.Contains(out, "0001-01-01") {
			t.Errorf("%s: an interrupted report judges the target or starts at the zero time:\n%s", name, out)
		}
		if name != "json" && !strings.Contains(out, want) {
			t.Errorf("%s: no %q:\n%s", name, want, out)
		}
		switch name {
		case "html":
			if !strings.Contains(out, `class="summary fail">`+want) {
				t.Errorf("html summary:\n%s", out)
			}
		case "json":
			var got map[string]any
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if _, ok := got["started"]; ok || got["interrupted"] != true || got["cases_total"] != 5.0 {
				t.Errorf("json: started %v, interrupted %v, cases_total %v", got["started"], got["interrupted"], got["cases_total"])
			}
		case "junit":
			var doc struct {
				Tests  int `xml:"tests,attr"`
				Errors int `xml:"errors,attr"`
				Suites []struct {
					Name  string `xml:"name,attr"`
					Cases []struct {
						Name  string `xml:"name,attr"`
						Error *struct {
							Message string `xml:"message,attr"`
							Type    string `xml:"type,attr"`
						} `xml:"error"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			last := doc.Suites[len(doc.Suites)-1]
			if doc.Errors != 1 || doc.Tests != 3 || last.Name != "sioconform" || len(last.Cases) != 1 ||
				last.Cases[0].Error == nil || last.Cases[0].Error.Message != want || last.Cases[0].Error.Type != "interrupted" {
				t.Errorf("junit:\n%s", out)
			}
		}
	}

	// A run that was not interrupted says nothing of the kind.
	r.Interrupted = false
	var b bytes.Buffer
	if err := ConformMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.SplitN(b.String(), "\n", 4)[2], "conformant · 2 cases") || strings.Contains(b.String(), "interrupted") {
		t.Errorf("complete run:\n%s", b.String())
	}
}
