package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/siokit/siokit/internal/conform"
)

// TableOptions tunes ConformTable. The zero value is plain, terse output.
type TableOptions struct {
	// Verbose shows the details block (description, spec, message, diff,
	// trace) of every case, passing ones included. Without it only fail
	// and error cases get one (and warn ones in a strict run): those are
	// what a reader has to act on, while warn, n/a and info are explained
	// well enough by their message.
	Verbose bool
	// Color adds ANSI colours to verdicts. Callers set it only when the
	// writer is a terminal that wants them (and NO_COLOR is unset).
	Color bool
}

// messageWidth is where the table wraps the message column. Messages are
// one line but can be long (an expected and a received body); wrapping
// keeps the table readable in an ordinary terminal without losing text,
// and the details block below the table repeats them unwrapped.
const messageWidth = 72

// ConformTable writes r for a person at a terminal: a line naming the
// target, a table with one row per case (ID, verdict, time, message), a
// details block per case that needs attention (see TableOptions.Verbose)
// with its trace as aligned lines such as
//
//	+12.3ms  send  http  GET /engine.io/?EIO=4&transport=polling
//
// and a closing summary such as
//
//	81 cases: 78 pass, 1 fail, 1 warn, 1 n/a, 0 info, 0 error in 4.2s
//
// followed, for an interrupted run, by a line such as
//
//	interrupted: 81 of 251 cases finished: not a verdict on the target
//
// It returns the first write error.
func ConformTable(w io.Writer, r *conform.Report, o TableOptions) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "target %s (Engine.IO v%d)\n", oneLine(r.Target), r.EIO)

	t := tablewriter.NewTable(bw).Configure(func(cfg *tablewriter.Config) {
		// Right-aligned times line up on their unit.
		cfg.Row.Alignment.PerColumn = []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignLeft}
	})
	t.Header("ID", "Verdict", "Time", "Message")
	for _, res := range r.Results {
		err := t.Append(oneLine(res.ID), paint(o.Color, res.Verdict, label(res.Verdict)),
			caseTime(res.Duration), wrap(oneLine(res.Message), messageWidth))
		if err != nil {
			return fmt.Errorf("reports: table row %s: %w", res.ID, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("reports: table: %w", err)
	}

	for _, res := range r.Results {
		if o.Verbose || r.Fails(res.Verdict) {
			bw.WriteString("\n")
			writeDetails(bw, res, o.Color)
		}
	}

	bw.WriteString("\n")
	bw.WriteString(summary(r, o.Color))
	bw.WriteString("\n")
	if r.Interrupted {
		// The cases that did not finish are not in the table: no verdict
		// on the target can be drawn from it.
		fmt.Fprintf(bw, "%s: not a verdict on the target\n", paint(o.Color, conform.Fail, r.Interruption()))
	}
	return bw.Flush()
}

// writeDetails writes the block that explains one case: a heading, then
// details.
func writeDetails(w *bufio.Writer, res conform.Result, color bool) {
	fmt.Fprintf(w, "%s %s (%s)\n", paint(color, res.Verdict, "--- "+label(res.Verdict)),
		bold(color, oneLine(res.ID)), caseTime(res.Duration))
	w.WriteString(indent(details(res), "    "))
}

// details explains one case: what it checks, what went wrong and every
// packet exchanged, so that a failure can be understood without rerunning
// it. The table and JUnit renderers share it. Result.Step is not repeated:
// the engine's message already names the step and its line in the file.
func details(res conform.Result) string {
	var b strings.Builder
	if res.Description != "" {
		fmt.Fprintf(&b, "%s\n", oneLine(res.Description))
	}
	if res.Rule != "" {
		fmt.Fprintf(&b, "rule:     %s (%s)\n", oneLine(res.Rule), oneLine(string(res.Strength)))
	}
	if res.Spec != "" {
		fmt.Fprintf(&b, "spec:     %s\n", oneLine(res.Spec))
	}
	if res.Official != "" {
		fmt.Fprintf(&b, "official: %s\n", oneLine(res.Official))
	}
	if res.Message != "" {
		fmt.Fprintf(&b, "message:  %s\n", oneLine(res.Message))
	}
	if d := indent(clean(res.Diff), "    "); d != "" {
		b.WriteString("diff:\n")
		b.WriteString(d)
	}
	if len(res.Trace) > 0 {
		b.WriteString("trace:\n")
		b.WriteString(indent(traceLines(res.Trace), "    "))
	}
	return b.String()
}

// traceLines renders a trace as aligned columns: time since the case
// started, direction, connection, summary. Columns are padded to the widest
// entry so that a reader's eye can run down each of them.
func traceLines(trace []conform.TraceEntry) string {
	var atW, dirW, connW int
	ats := make([]string, len(trace))
	for i, e := range trace {
		ats[i] = "+" + millis(e.At)
		atW = max(atW, len(ats[i]))
		dirW = max(dirW, len(oneLine(e.Dir)))
		connW = max(connW, len(oneLine(e.Conn)))
	}
	var b strings.Builder
	for i, e := range trace {
		line := fmt.Sprintf("%*s  %-*s  %-*s  %s", atW, ats[i], dirW, oneLine(e.Dir), connW, oneLine(e.Conn), oneLine(e.Summary))
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteString("\n")
	}
	return b.String()
}

// knownVerdicts is the order the summary lists verdicts in: always all
// six, zeros included, so that scripts and eyes find them in one place.
var knownVerdicts = []conform.Verdict{conform.Pass, conform.Fail, conform.Warn, conform.NA, conform.Info, conform.Error}

// summary is the closing line of ConformTable, e.g.
// "81 cases: 78 pass, 1 fail, 1 warn, 1 n/a, 0 info, 0 error in 4.2s".
func summary(r *conform.Report, color bool) string {
	counts := r.Counts()
	parts := make([]string, 0, len(knownVerdicts)+len(counts))
	for _, v := range knownVerdicts {
		parts = append(parts, countPart(counts[v], v, color))
		delete(counts, v)
	}
	// Verdicts this renderer does not know (a newer engine) still count.
	others := make([]conform.Verdict, 0, len(counts))
	for v := range counts {
		others = append(others, v)
	}
	slices.Sort(others)
	for _, v := range others {
		parts = append(parts, countPart(counts[v], v, color))
	}
	noun := "cases"
	if len(r.Results) == 1 {
		noun = "case"
	}
	// Seconds as in "in 4.2s"; a run under a second (a few cases) would
	// read "in 0.0s", so it gets milliseconds.
	took := fmt.Sprintf("%.1fs", r.Duration.Seconds())
	if r.Duration < time.Second {
		took = millis(r.Duration)
	}
	return fmt.Sprintf("%d %s: %s in %s", len(r.Results), noun, strings.Join(parts, ", "), took)
}

// countPart is one "N verdict" of the summary, coloured only when N > 0 so
// that the colour draws the eye to what happened.
func countPart(n int, v conform.Verdict, color bool) string {
	s := fmt.Sprintf("%d %s", n, oneLine(string(v)))
	if n == 0 {
		return s
	}
	return paint(color, v, s)
}
