// Package conform is sioconform's engine: it loads conformance cases
// (YAML files, built in or from a folder), runs their packet-level steps
// against a server through protocol/transport's raw mode, and grades each
// case pass, fail, warn, n/a, info or error with the trace of what was sent
// and received; a broken rule is fail, warn or info as the case's strength
// (must, should, open) says. The case format and the server contract are
// documented in docs/conformance.md.
package conform
