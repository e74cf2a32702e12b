package reports

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/siokit/siokit/internal/conform"
)

// matrixCell is how ConformMatrix spells a verdict: short, and with only
// the failure in capitals so that it stands out in a wide grid.
var matrixCell = map[conform.Verdict]string{
	conform.Pass:  "pass",
	conform.Fail:  "FAIL",
	conform.Warn:  "warn",
	conform.NA:    "n-a",
	conform.Info:  "info",
	conform.Error: "error",
}

// matrixMissing fills a cell whose target did not run that case (another
// Engine.IO version, or a run cut short).
const matrixMissing = "-"

// ConformMatrix writes several targets' reports side by side: one row per
// case id (the union of all reports, sorted), one column per target (named
// by names, in order), cells pass, FAIL, warn, n-a, info or error, and "-" where
// a target did not run the case. A last row gives each target's "passed
// x/y": passing cases out of the cases it ran, followed by "(interrupted:
// N of M cases finished)" for a target whose run was cut short. With markdown it writes a
// GitHub-flavoured markdown table (for a README or a pull request), else a
// terminal table. names and reps must have the same length.
func ConformMatrix(w io.Writer, names []string, reps []*conform.Report, markdown bool) error {
	if len(names) != len(reps) {
		return fmt.Errorf("reports: matrix: %d names for %d reports", len(names), len(reps))
	}
	cellText := oneLine
	if markdown {
		cellText = mdCell
	}

	verdicts := make([]map[string]conform.Verdict, len(reps))
	var ids []string
	seen := map[string]bool{}
	for i, r := range reps {
		verdicts[i] = map[string]conform.Verdict{}
		if r == nil {
			continue // a target that produced no report at all: all "-"
		}
		for _, res := range r.Results {
			verdicts[i][res.ID] = res.Verdict
			if !seen[res.ID] {
				seen[res.ID] = true
				ids = append(ids, res.ID)
			}
		}
	}
	slices.Sort(ids)

	opts := []tablewriter.Option{}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	// tablewriter drops write errors, so render into memory and write
	// once, where an error can be seen.
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf, opts...).Configure(func(cfg *tablewriter.Config) {
		// Target names are the user's; keep their case.
		cfg.Header.Formatting.AutoFormat = tw.Off
		cfg.Footer.Formatting.AutoFormat = tw.Off
		cfg.Header.Alignment.Global = tw.AlignLeft
		cfg.Footer.Alignment.Global = tw.AlignLeft
	})

	header := make([]string, 0, len(names)+1)
	header = append(header, "case")
	for _, n := range names {
		header = append(header, cellText(n))
	}
	t.Header(header)

	passed := make([]int, len(reps))
	for _, id := range ids {
		row := make([]string, 0, len(reps)+1)
		row = append(row, cellText(id))
		for i := range reps {
			v, ok := verdicts[i][id]
			switch {
			case !ok:
				row = append(row, matrixMissing)
			case matrixCell[v] != "":
				row = append(row, matrixCell[v])
			default:
				row = append(row, cellText(string(v)))
			}
			if v == conform.Pass {
				passed[i]++
			}
		}
		if err := t.Append(row); err != nil {
			return fmt.Errorf("reports: matrix row %s: %w", id, err)
		}
	}

	totals := make([]string, 0, len(reps)+1)
	totals = append(totals, "total")
	for i := range reps {
		totals = append(totals, cellText(passedCell(reps[i], passed[i], len(verdicts[i]))))
	}
	t.Footer(totals)
	if err := t.Render(); err != nil {
		return fmt.Errorf("reports: matrix: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: matrix: %w", err)
	}
	return nil
}

// mdEscaper keeps cell text literal in GitHub markdown: a pipe would split
// the cell, and GitHub treats <...> as HTML and drops tags it does not
// allow (a target named "node <4.8>" would lose its version).
var mdEscaper = strings.NewReplacer("|", `\|`, "&", "&amp;", "<", "&lt;", ">", "&gt;")

// mdCell makes s safe inside a markdown table cell: one line, escaped.
func mdCell(s string) string {
	return mdEscaper.Replace(oneLine(s))
}

// ConformMatrixReasons writes, under a ConformMatrix, the reason of every
// cell that is not a pass: one line per cell, target by target in order,
// cases sorted, each the case's message (for an n/a, why it does not
// apply). It writes nothing when every cell passed. With markdown it
// writes a list, else plain lines. names and reps must have the same
// length; a nil report has no cells.
func ConformMatrixReasons(w io.Writer, names []string, reps []*conform.Report, markdown bool) error {
	if len(names) != len(reps) {
		return fmt.Errorf("reports: matrix: %d names for %d reports", len(names), len(reps))
	}
	var buf bytes.Buffer
	for i, r := range reps {
		if r == nil {
			continue
		}
		res := slices.Clone(r.Results)
		slices.SortStableFunc(res, func(a, b conform.Result) int { return strings.Compare(a.ID, b.ID) })
		for _, c := range res {
			if c.Verdict == conform.Pass {
				continue
			}
			cell := matrixCell[c.Verdict]
			if cell == "" {
				cell = string(c.Verdict)
			}
			if markdown {
				fmt.Fprintf(&buf, "* %s `%s` **%s**: %s\n", mdEscaper.Replace(oneLine(names[i])), c.ID, cell, mdEscaper.Replace(oneLine(c.Message)))
			} else {
				fmt.Fprintf(&buf, "%s %s %s: %s\n", oneLine(names[i]), c.ID, cell, oneLine(c.Message))
			}
		}
	}
	if buf.Len() == 0 {
		return nil
	}
	head := "\nWhy each cell that is not a pass:\n"
	if markdown {
		head += "\n"
	}
	if _, err := io.WriteString(w, head); err != nil {
		return fmt.Errorf("reports: matrix: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: matrix: %w", err)
	}
	return nil
}
