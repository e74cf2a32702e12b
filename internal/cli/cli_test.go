package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

func TestExitCode(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain error", base, ExitFailed},
		{"with usage", WithExitCode(base, ExitUsage), ExitUsage},
		{"wrapped", fmt.Errorf("run: %w", WithExitCode(base, ExitUsage)), ExitUsage},
		{"outermost wins", WithExitCode(WithExitCode(base, ExitUsage), ExitFailed), ExitFailed},
		{"silent", WithExitCode(nil, ExitUsage), ExitUsage},
		{"nil with 0", WithExitCode(nil, ExitOK), ExitOK},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
	if WithExitCode(nil, ExitOK) != nil {
		t.Error("WithExitCode(nil, 0) is not nil")
	}
}

func TestExitErrorUnwrap(t *testing.T) {
	base := errors.New("boom")
	err := WithExitCode(base, ExitUsage)
	if !errors.Is(err, base) {
		t.Error("errors.Is does not see through ExitError")
	}
	if err.Error() != "boom" {
		t.Errorf("Error() = %q", err.Error())
	}
	if got := WithExitCode(nil, 3).Error(); got != "exit status 3" {
		t.Errorf("silent Error() = %q", got)
	}
}

func TestPrintError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), "prog: boom\n"},
		{WithExitCode(errors.New("bad flag"), ExitUsage), "prog: bad flag\n"},
		{WithExitCode(nil, ExitUsage), ""},
	} {
		var buf bytes.Buffer
		PrintError(&buf, "prog", tc.err)
		if buf.String() != tc.want {
			t.Errorf("PrintError(%v) wrote %q, want %q", tc.err, buf.String(), tc.want)
		}
	}
}

func TestNewState(t *testing.T) {
	st := NewState()
	if st.Stdout == nil || st.Stderr == nil || st.Env == nil || st.Args == nil {
		t.Fatalf("NewState left a field unset: %+v", st)
	}
}

func TestSignalsStop(t *testing.T) {
	ctx, stop := Signals(context.Background())
	if ctx.Err() != nil {
		t.Fatal("cancelled before any signal")
	}
	stop()
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), ErrInterrupted) {
		t.Error("stop reported an interruption")
	}
	stop() // idempotent
}

func TestSignalsParentCancel(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop := Signals(parent)
	defer stop()
	cancel()
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), ErrInterrupted) {
		t.Error("parent cancellation reported as an interruption")
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	st := &State{}
	if st.Terminal(os.Stderr) {
		t.Error("State with nil IsTerminal reports a terminal")
	}
	st.IsTerminal = func(io.Writer) bool { return true }
	if !st.Terminal(&bytes.Buffer{}) {
		t.Error("State.Terminal ignores IsTerminal")
	}
}

func TestList(t *testing.T) {
	var l List
	for _, v := range []string{"a,b", " c ,, ", "d"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "a,b,c,d" {
		t.Errorf("List after three uses = %q, want a,b,c,d", got)
	}
	if got := Split(" , "); len(got) != 0 {
		t.Errorf("Split of blanks = %q, want nothing", got)
	}
}
