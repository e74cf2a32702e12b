// Package reports renders the results of siokit's tools; it owns rendering
// only. It never runs anything, reads files or decides exit codes: callers
// hand it finished data and an io.Writer. The sioload renderers (Load*) are
// described with their functions; this overview covers sioconform's.
//
// # Conformance
//
// The sioconform renderers take a *conform.Report (docs/conformance.md §5):
//
//   - [ConformTable]: a terminal table (ID, verdict, time, message), then the
//     details (description, spec, message, diff, trace) of every case that
//     did not pass, then a one-line summary.
//   - [ConformJSON]: the Report as indented JSON, field for field; this is the
//     machine format, everything else is derived from it.
//   - [ConformJUnit]: JUnit XML for CI test-report parsers (Jenkins, GitLab,
//     GitHub actions): one testsuite per case-id prefix (eio4, sio5, ...).
//   - [ConformMatrix]: several targets side by side, case ids × targets, as a
//     terminal or a GitHub markdown table.
//   - [ConformList] and [ConformListJSON]: the catalogue of cases, for
//     `sioconform list`.
//   - [ConformMarkdown]: a CI step summary (verdict counts, every non-pass).
//   - [ConformHTML] and [ConformMatrixHTML]: one self-contained page each
//     (html/ holds their template, style and filter script, embedded).
//
// The sioload HTML report ([LoadHTML]) embeds uPlot, pinned by
// html/package-lock.json and copied into html/assets by
// html/update-assets.sh, so that the Go build needs no npm.
//
// # Text hygiene
//
// Traces carry raw protocol bytes: Engine.IO v4 polling payloads join
// packets with the record separator 0x1e, and servers may send anything.
// The human renderers (table, JUnit, matrix) therefore show control
// characters other than newline and tab as \xNN, so that a trace stays
// readable in a terminal and JUnit stays well-formed XML (XML 1.0 cannot
// carry most control characters at all, not even escaped). The JSON
// renderer keeps the exact strings, since JSON escapes them losslessly.
//
// All renderers are deterministic for a given input: golden files in
// testdata pin their output, including the third-party table layout.
package reports
