// Package scenarios owns sioload's scenario format: the Go types of a
// scenario file, the YAML loader that turns a file into a validated
// [Scenario] (rejecting bad input before any connection, with
// "file:line: field: problem" errors), threshold expressions, and the
// per-use templates ({{.Client}}, {{.Seq}}, {{.SendTime}}, {{.Payload N}},
// {{.Binary N}}) that fill event arguments, queries, headers and auth.
//
// The format is specified in docs/sioload.md §1. The package depends on
// the standard library and the YAML library only, so it can be used to
// lint scenario files without the load engine.
package scenarios
