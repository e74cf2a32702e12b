package reports

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/siokit/siokit/internal/conform"
)

// ConformJSON writes r as indented JSON, exactly as conform.Report's json
// tags define it (durations in nanoseconds, the start time in RFC 3339),
// followed by a newline. Strings keep their control characters (as \u
// escapes; only bytes that are not UTF-8 become U+FFFD, which JSON cannot
// avoid) and HTML characters are not escaped, so that `<` in a message
// stays `<` for a person reading the file. A report with no
// results has "results": [] rather than null, so that consumers can
// iterate without a check.
func ConformJSON(w io.Writer, r *conform.Report) error {
	out := *r
	if out.Results == nil {
		out.Results = []conform.Result{}
	}
	return writeJSON(w, &out)
}

// conformMatrixTarget is one column of ConformMatrixJSON.
type conformMatrixTarget struct {
	Name   string          `json:"name"`
	Report *conform.Report `json:"report"`
}

// ConformMatrixJSON writes a matrix run as indented JSON: {"targets":
// [{"name", "report"}]}, one per column in order, each report as
// ConformJSON writes it (so every non-pass keeps its message, the reason
// the other formats show) and null for a target that did not run (an
// interruption). names and reps must have the same length.
func ConformMatrixJSON(w io.Writer, names []string, reps []*conform.Report) error {
	if len(names) != len(reps) {
		return fmt.Errorf("reports: matrix: %d names for %d reports", len(names), len(reps))
	}
	out := struct {
		Targets []conformMatrixTarget `json:"targets"`
	}{Targets: make([]conformMatrixTarget, len(names))}
	for i, n := range names {
		out.Targets[i].Name = n
		if r := reps[i]; r != nil {
			c := *r
			if c.Results == nil {
				c.Results = []conform.Result{}
			}
			out.Targets[i].Report = &c
		}
	}
	return writeJSON(w, &out)
}

// writeJSON is the encoding of both: indented, HTML characters kept.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("reports: json: %w", err)
	}
	return nil
}
