package main

import (
	"context"
	"errors"
	"io"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/reports"
)

// runDeployment is `sioconform run --deployment`: the deployment checks of internal/conform
// against a proxy URL, rendered and mapped to exit codes like a case run.
func runDeployment(ctx context.Context, st *cli.State, cfg conform.DeployConfig,
	render func(io.Writer, *conform.Report, reports.TableOptions) error, format, out string, verbose bool) error {
	dst, err := openOut(st, out)
	if err != nil {
		return err
	}
	cases := conform.SelectDeployCases(cfg.Only)
	rep, err := conform.Collect(ctx, cases, cfg.URL, 4, newProgress(st, "", len(cases)).done,
		func(progress func(conform.Result)) (*conform.Report, error) {
			cfg.Progress = progress
			return conform.RunDeployment(ctx, cfg)
		})
	if err != nil {
		// A bad URL, nothing answering, or --only selecting no check.
		return cli.WithExitCode(err, cli.ExitUsage)
	}
	opts := reports.TableOptions{Verbose: verbose, Color: format == "table" && dst.color()}
	if err := dst.write(func(w io.Writer) error { return render(w, rep, opts) }); err != nil {
		return err
	}
	if rep.Interrupted {
		return cli.WithExitCode(errors.New(rep.Interruption()), cli.ExitFailed)
	}
	if rep.Failed() {
		return cli.WithExitCode(failedErr(rep), cli.ExitFailed)
	}
	return nil
}
