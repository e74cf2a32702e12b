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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("reports: json: %w", err)
	}
	return nil
}
