package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"

	"github.com/siokit/siokit/internal/conform"
)

// Wrap widths of ConformList's text columns: the catalogue has long
// descriptions and official test names, and four unwrapped columns of them
// would be far wider than a terminal.
const (
	listDescriptionWidth = 48
	listSpecWidth        = 32
	listOfficialWidth    = 40
)

// ConformList writes the catalogue of cases as a terminal table (ID,
// strength, description, spec, official test name) in the order given,
// followed by a count. The rule sentences are long; ConformListJSON and
// docs/conformance-cases.md carry them. It is what `sioconform list` prints.
func ConformList(w io.Writer, cases []*conform.Case) error {
	// tablewriter drops write errors, so render into memory and write
	// once, where an error can be seen.
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf)
	t.Header("ID", "Strength", "Description", "Spec", "Official")
	for _, c := range cases {
		err := t.Append(oneLine(c.ID), oneLine(string(c.Strength)), wrap(oneLine(c.Description), listDescriptionWidth),
			wrap(oneLine(c.Spec), listSpecWidth), wrap(oneLine(c.Official), listOfficialWidth))
		if err != nil {
			return fmt.Errorf("reports: list row %s: %w", c.ID, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("reports: list: %w", err)
	}
	noun := "cases"
	if len(cases) == 1 {
		noun = "case"
	}
	fmt.Fprintf(&buf, "%d %s\n", len(cases), noun)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: list: %w", err)
	}
	return nil
}

// listEntry is the JSON shape of one case in ConformListJSON. conform.Case
// has no JSON form of its own (it also holds the parsed steps), so the
// catalogue's shape is defined here, with the same naming as conform.Result.
type listEntry struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Spec        string `json:"spec"`
	Strength    string `json:"strength"`
	Rule        string `json:"rule"`
	Official    string `json:"official,omitempty"`
	Server      string `json:"server"`
	EIO         int    `json:"eio"`
	Path        string `json:"path"`
	Serial      bool   `json:"serial,omitempty"`
	TimeoutNS   int64  `json:"timeout_ns"`
	File        string `json:"file"`
	Line        int    `json:"line"`
}

// ConformListJSON writes the catalogue of cases as an indented JSON array
// (never null) of objects with id, description, spec, strength, rule,
// official, server, eio, path, serial, timeout_ns, file and line, for tools that
// want to pick cases or link them to their source.
func ConformListJSON(w io.Writer, cases []*conform.Case) error {
	out := make([]listEntry, 0, len(cases))
	for _, c := range cases {
		out = append(out, listEntry{
			ID: c.ID, Description: c.Description, Spec: c.Spec, Strength: string(c.Strength), Rule: c.Rule, Official: c.Official,
			Server: c.Server, EIO: c.EIO, Path: c.Path, Serial: c.Serial,
			TimeoutNS: int64(c.Timeout), File: c.File, Line: c.Line,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("reports: list json: %w", err)
	}
	return nil
}
