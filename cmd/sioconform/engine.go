package main

import (
	"context"

	"github.com/siokit/siokit/internal/conform"
)

// engine is what the commands use of internal/conform. It is an interface
// so that the commands' tests can substitute a fake: exit codes, formats,
// output files and interruption are tested without a server under test.
type engine interface {
	LoadBuiltin() ([]*conform.Case, error)
	LoadDir(dir string) ([]*conform.Case, error)
	// Select is conform.Select, or conform.SelectSlow when slow is set.
	Select(cases []*conform.Case, eio int, only, skip []string, slow bool) []*conform.Case
	Run(ctx context.Context, cases []*conform.Case, cfg conform.Config) (*conform.Report, error)
}

// conformEngine is the real engine: package conform's functions.
type conformEngine struct{}

func (conformEngine) LoadBuiltin() ([]*conform.Case, error) { return conform.LoadBuiltin() }

func (conformEngine) LoadDir(dir string) ([]*conform.Case, error) { return conform.LoadDir(dir) }

func (conformEngine) Select(cases []*conform.Case, eio int, only, skip []string, slow bool) []*conform.Case {
	if slow {
		return conform.SelectSlow(cases, eio, only, skip)
	}
	return conform.Select(cases, eio, only, skip)
}

func (conformEngine) Run(ctx context.Context, cases []*conform.Case, cfg conform.Config) (*conform.Report, error) {
	return conform.Run(ctx, cases, cfg)
}
