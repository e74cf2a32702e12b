package reports

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/siokit/siokit/internal/conform"
)

// The JUnit XML elements ConformJUnit writes. There is no single JUnit
// schema; this is the common subset that Jenkins (junit plugin), GitLab
// (unit test reports) and the GitHub actions that read JUnit all accept:
// testsuites > testsuite > testcase with failure / error / skipped /
// system-out children and the usual count attributes.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr,omitempty"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitOutcome `xml:"failure,omitempty"`
		Error     *junitOutcome `xml:"error,omitempty"`
		Skipped   *junitOutcome `xml:"skipped,omitempty"`
		SystemOut *junitText    `xml:"system-out,omitempty"`
	}
	// Texts are CDATA sections so that multi-line details stay readable
	// in the file (character data would turn every newline into &#xA;).
	// encoding/xml splits any "]]>" inside them.
	junitText struct {
		Text string `xml:",cdata"`
	}
	junitOutcome struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",cdata"`
	}
)

// junitRunSuite is the name of the suite (and the classname of its one
// testcase, "sioconform.interrupted") that ConformJUnit adds to the report
// of an interrupted run.
const junitRunSuite = "sioconform"

// junitTimestamp is the timestamp layout of the Ant/Jenkins schema: ISO
// 8601 without a zone (we always write UTC).
const junitTimestamp = "2006-01-02T15:04:05"

// ConformJUnit writes r as JUnit XML for CI test-report parsers. Each suite
// prefix of the case ids (the first dot-separated segment: eio4, eio3,
// sio5, sio4) becomes a <testsuite>, sorted by name; each case a
// <testcase classname="<suite>" name="<id>" time="<seconds>"> in report
// order. Verdicts map to:
//
//   - pass: an empty testcase;
//   - fail: <failure type="fail" message="<message>"> with the case's
//     details (description, spec, step, message, diff, trace) as text;
//   - error: <error type="error" ...> likewise: the case could not be run,
//     which is what JUnit's error (as opposed to failure) means;
//   - n/a: <skipped message="not applicable">, the probe's message as text;
//   - warn (a broken SHOULD): like info, unless the run is strict
//     (Report.Strict), then a <failure type="warn">;
//   - info: a passing testcase whose <system-out> holds the details, so the
//     difference is on record without failing the build.
//
// An interrupted run (Report.Interrupted) gets one more suite, named
// sioconform, holding one testcase sioconform.interrupted whose <error
// type="interrupted" message="interrupted: N of M cases finished"> makes the
// build red, with the properties interrupted, cases_total and
// cases_finished.
//
// Counts (tests, failures, errors, skipped) are on every suite and on the
// root; a suite's time is the sum of its cases' times (cases may have run
// in parallel), the root's is the wall-clock time of the run. Target and
// Engine.IO version are suite properties. Text is cleaned as described in
// the package documentation, so the output is always well-formed XML.
func ConformJUnit(w io.Writer, r *conform.Report) error {
	root := junitSuites{
		Name: "sioconform " + oneLine(r.Target),
		Time: seconds(r.Duration),
	}
	bySuite := map[string]*junitSuite{}
	var durations = map[string]time.Duration{}
	for _, res := range r.Results {
		name, _, _ := strings.Cut(res.ID, ".")
		name = oneLine(name)
		s := bySuite[name]
		if s == nil {
			s = &junitSuite{
				Name: name,
				Properties: []junitProperty{
					{Name: "target", Value: oneLine(r.Target)},
					{Name: "eio", Value: fmt.Sprint(r.EIO)},
				},
			}
			if !r.Started.IsZero() {
				s.Timestamp = r.Started.UTC().Format(junitTimestamp)
			}
			bySuite[name] = s
		}
		c := junitCase{Classname: name, Name: oneLine(res.ID), Time: seconds(res.Duration)}
		switch res.Verdict {
		case conform.Pass:
		case conform.Fail, conform.Warn:
			if res.Verdict == conform.Warn && !r.Strict {
				c.SystemOut = &junitText{Text: "warn: " + details(res)}
				break
			}
			c.Failure = &junitOutcome{Message: oneLine(res.Message), Type: string(res.Verdict), Text: details(res)}
			s.Failures++
		case conform.NA:
			c.Skipped = &junitOutcome{Message: "not applicable", Text: oneLine(res.Message)}
			s.Skipped++
		case conform.Info:
			c.SystemOut = &junitText{Text: details(res)}
		default:
			// Error, and any verdict this renderer does not know: a CI
			// must not count an unexplained outcome as a pass.
			c.Error = &junitOutcome{Message: oneLine(res.Message), Type: oneLine(string(res.Verdict)), Text: details(res)}
			s.Errors++
		}
		s.Tests++
		durations[name] += res.Duration
		s.Cases = append(s.Cases, c)
	}
	for name, s := range bySuite {
		s.Time = seconds(durations[name])
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		root.Skipped += s.Skipped
		root.Suites = append(root.Suites, *s)
	}
	slices.SortFunc(root.Suites, func(a, b junitSuite) int { return cmp.Compare(a.Name, b.Name) })
	if r.Interrupted {
		// The cases that did not finish are in no suite: without this a
		// CI would show the partial run green.
		msg := oneLine(r.Interruption())
		s := junitSuite{
			Name: junitRunSuite, Tests: 1, Errors: 1, Time: seconds(r.Duration),
			Properties: []junitProperty{
				{Name: "target", Value: oneLine(r.Target)},
				{Name: "eio", Value: fmt.Sprint(r.EIO)},
				{Name: "interrupted", Value: "true"},
				{Name: "cases_total", Value: fmt.Sprint(r.CasesTotal)},
				{Name: "cases_finished", Value: fmt.Sprint(len(r.Results))},
			},
			Cases: []junitCase{{Classname: junitRunSuite, Name: junitRunSuite + ".interrupted", Time: seconds(r.Duration),
				Error: &junitOutcome{Message: msg, Type: "interrupted",
					Text: msg + ": the run was stopped (Ctrl-C) before the other cases finished; they are not reported and the target is not judged\n"}}},
		}
		if !r.Started.IsZero() {
			s.Timestamp = r.Started.UTC().Format(junitTimestamp)
		}
		root.Suites = append(root.Suites, s)
		root.Tests++
		root.Errors++
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	return nil
}
