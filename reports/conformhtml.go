package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/siokit/siokit/internal/conform"
)

var (
	//go:embed html/conform.html.tmpl
	conformTmpl string
	//go:embed html/conform.css
	conformCSS string
	//go:embed html/conform.js
	conformJS string
)

// verdictClass is a verdict as a CSS class ("n/a" is not one).
func verdictClass(v conform.Verdict) string {
	if v == conform.NA {
		return "na"
	}
	return string(v)
}

type conformCase struct {
	ID, Description, Spec, Strength, Rule, Official, Verdict, Class, Duration, Message, Diff string
	Open                                                                                     bool
	Trace                                                                                    []conformTrace
}

type conformTrace struct {
	At, Dir, Kind, Conn, Summary string
	Decided                      bool
}

type conformCount struct {
	Verdict, Class string
	N              int
}

type matrixRow struct {
	ID       string
	Verdicts string
	Cells    []matrixHTMLCell
}

type matrixHTMLCell struct{ Verdict, Class, Reason string }

type conformPage struct {
	Title, Generator string
	Style            template.CSS
	Script           template.JS
	Report           *conform.Report
	Started          string
	Duration         string
	Failed           bool
	Verdict          string
	Counts           []conformCount
	Cases            []conformCase
	Matrix           bool
	Names, Passed    []string
	Rows             []matrixRow
}

func renderConform(w io.Writer, p *conformPage) error {
	t, err := template.New("conform").Parse(conformTmpl)
	if err != nil {
		return fmt.Errorf("reports: html template: %w", err)
	}
	p.Style, p.Script = template.CSS(conformCSS), template.JS(conformJS)
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	return nil
}

var verdictOrder = []conform.Verdict{conform.Pass, conform.Fail, conform.Error, conform.Warn, conform.Info, conform.NA}

// conformVerdict is what a report says of its target, and whether that
// is bad: its Interruption ("interrupted: 190 of 251 cases finished") when
// the run was interrupted, for the cases that did not finish say nothing
// about the target; else "not conformant" when it failed, or "conformant".
// Every renderer of a single report shows it.
func conformVerdict(r *conform.Report) (string, bool) {
	switch {
	case r.Interrupted:
		return r.Interruption(), true
	case r.Failed():
		return "not conformant", true
	}
	return "conformant", false
}

// passedCell is a matrix column's total, "passed x/y" (passing cases out
// of the cases it ran), with the report's Interruption after it when the
// target's run was cut short.
func passedCell(r *conform.Report, pass, ran int) string {
	s := fmt.Sprintf("passed %d/%d", pass, ran)
	if r != nil && r.Interrupted {
		s += " (" + r.Interruption() + ")"
	}
	return s
}

// ConformHTML writes one self-contained page for a conformance report
// (Autobahn|Testsuite's index is the model): the summary, every case with
// its verdict, filterable by verdict and by case id prefix, and for each
// non-pass (opened) its expectation and message, the diff and the trace:
// every request, response, frame and close with its time, the step that
// decided the verdict outlined. Control characters in traces are shown
// as escapes (clean), as in the other human renderers.
func ConformHTML(w io.Writer, generator string, r *conform.Report) error {
	p := &conformPage{Title: "sioconform: " + r.Target, Generator: generator, Report: r, Duration: r.Duration.Round(time.Millisecond).String()}
	p.Verdict, p.Failed = conformVerdict(r)
	if !r.Started.IsZero() {
		p.Started = r.Started.UTC().Format(time.RFC3339)
	}
	counts := r.Counts()
	for _, v := range verdictOrder {
		if counts[v] > 0 {
			p.Counts = append(p.Counts, conformCount{string(v), verdictClass(v), counts[v]})
		}
	}
	for _, res := range r.Results {
		c := conformCase{ID: res.ID, Description: res.Description, Spec: res.Spec, Strength: string(res.Strength), Rule: res.Rule, Official: res.Official, Verdict: string(res.Verdict),
			Class: verdictClass(res.Verdict), Duration: res.Duration.Round(time.Microsecond).String(), Message: clean(res.Message),
			Diff: clean(res.Diff), Open: res.Verdict != conform.Pass}
		if res.Verdict != conform.Pass {
			for _, e := range res.Trace {
				c.Trace = append(c.Trace, conformTrace{At: e.At.Round(time.Microsecond).String(), Dir: e.Dir, Kind: e.Kind, Conn: e.Conn, Summary: clean(e.Summary)})
			}
			// The last entry is what the deciding step saw.
			if n := len(c.Trace); n > 0 && res.Step >= 0 {
				c.Trace[n-1].Decided = true
			}
		}
		p.Cases = append(p.Cases, c)
	}
	return renderConform(w, p)
}

// ConformMatrixHTML writes the matrix as one page: implementations ×
// cases, each cell coloured by verdict, each non-pass cell showing its
// reason (the case's message), filterable by case id prefix; a case a
// target did not run is "-". names and reps must have the same length.
func ConformMatrixHTML(w io.Writer, generator string, names []string, reps []*conform.Report) error {
	if len(names) != len(reps) {
		return fmt.Errorf("reports: matrix: %d names for %d reports", len(names), len(reps))
	}
	p := &conformPage{Title: "sioconform matrix: " + strings.Join(names, ", "), Generator: generator, Matrix: true, Names: names}
	byID := make([]map[string]conform.Result, len(reps))
	var ids []string
	for i, r := range reps {
		byID[i] = map[string]conform.Result{}
		pass, ran := 0, 0
		if r != nil {
			for _, res := range r.Results {
				byID[i][res.ID] = res
				if !slices.Contains(ids, res.ID) {
					ids = append(ids, res.ID)
				}
				ran++
				if res.Verdict == conform.Pass {
					pass++
				}
			}
		}
		p.Passed = append(p.Passed, passedCell(r, pass, ran))
	}
	slices.Sort(ids)
	for _, id := range ids {
		row := matrixRow{ID: id}
		var vs []string
		for i := range reps {
			res, ok := byID[i][id]
			if !ok {
				row.Cells = append(row.Cells, matrixHTMLCell{Verdict: matrixMissing, Class: "missing"})
				continue
			}
			cell := matrixHTMLCell{Verdict: string(res.Verdict), Class: verdictClass(res.Verdict)}
			if res.Verdict != conform.Pass {
				cell.Reason = clean(res.Message)
			}
			row.Cells = append(row.Cells, cell)
			vs = append(vs, string(res.Verdict))
		}
		row.Verdicts = strings.Join(vs, " ")
		p.Rows = append(p.Rows, row)
	}
	return renderConform(w, p)
}
