// Package archtest holds no code: its test enforces the module's import
// rules (docs/architecture.md) with go list, so that a dependency pointing
// the wrong way fails CI instead of waiting for a review to notice it.
package archtest
