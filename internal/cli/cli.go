// Package cli is the process boundary of siokit's commands: the state a
// command runs with (standard streams, arguments, environment), exit codes
// carried by errors, and signal handling. By the module's layering rule
// only this package and cmd/* touch os.Stdout, os.Exit, os.Args and
// os/signal; everything below receives a State or plain io.Writers, so
// that commands are tested by injecting buffers and asserting exit codes.
//
// Stdlib only (and internal/redact, which is).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/siokit/siokit/internal/redact"
)

// State is what a command may use of its process. Commands take a *State
// rather than reaching for os.*, so tests substitute every field.
type State struct {
	// Stdout receives the command's product (a report); Stderr everything
	// meant for the person at the terminal (errors, usage, progress).
	Stdout, Stderr io.Writer
	// Args are the command-line arguments after the program name.
	Args []string
	// Env looks up an environment variable, "" when unset (os.Getenv).
	Env func(string) string
	// IsTerminal reports whether a writer (Stdout or Stderr) is a
	// terminal, to decide on colours and live progress; nil means never.
	IsTerminal func(io.Writer) bool
}

// NewState returns the State of the running process: os.Stdout,
// os.Stderr, os.Args[1:], os.Getenv and the package's IsTerminal.
func NewState() *State {
	return &State{Stdout: os.Stdout, Stderr: os.Stderr, Args: os.Args[1:], Env: os.Getenv, IsTerminal: IsTerminal}
}

// Terminal reports whether w is a terminal according to s.IsTerminal.
func (s *State) Terminal(w io.Writer) bool {
	return s.IsTerminal != nil && s.IsTerminal(w)
}

// IsTerminal reports whether w is an *os.File open on a character device:
// a terminal, not a pipe or a file. (/dev/null is a character device too;
// output meant for a person that lands there is harmless.) Stdlib only, so
// no ioctl: that is precise enough for colours and progress lines.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Exit codes shared by siokit's commands (docs/conformance.md §5).
const (
	// ExitOK: the command did what was asked and found nothing wrong.
	ExitOK = 0
	// ExitFailed: the command ran and found a failure (a conformance case
	// failed), or failed at run time.
	ExitFailed = 1
	// ExitUsage: the command could not start: bad flags or arguments, an
	// input it cannot use (a broken case file), an unreachable target.
	ExitUsage = 2
	// ExitThreshold: sioload's run completed but a threshold failed
	// (lower precedence than a failed run, which is ExitFailed).
	ExitThreshold = 3
)

// List is a repeatable flag whose every use may also hold a
// comma-separated list ("--only a --only b" = "--only a,b"); blanks are
// dropped. Both tools take lists this way.
type List []string

// String joins the list with commas.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set adds the comma-separated items of v.
func (l *List) Set(v string) error {
	*l = append(*l, Split(v)...)
	return nil
}

// Split returns the comma-separated items of s, trimmed, blanks dropped.
func Split(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// ExitError attaches a process exit code to an error. Commands return it
// (through WithExitCode) and main turns it into the exit status in one
// place, with ExitCode.
type ExitError struct {
	// Code is the process exit code.
	Code int
	// Err is the error to report; nil means there is nothing more to say
	// because the command has already told the user (flag parse errors,
	// which the flag package prints with the usage).
	Err error
}

// Error returns Err's message, or "exit status N" when Err is nil.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns Err, so errors.Is and errors.As see through the code.
func (e *ExitError) Unwrap() error { return e.Err }

// WithExitCode returns err carrying the exit code code. A nil err with a
// non-zero code yields a silent ExitError (see ExitError.Err); a nil err
// with code 0 stays nil. If err already carries a code, the new one wins
// (ExitCode reads the outermost): it is the later, better-informed decision.
func WithExitCode(err error, code int) error {
	if err == nil && code == ExitOK {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// ExitCode is the process exit code for err: 0 for nil, the code of the
// outermost ExitError in err's chain, and ExitFailed for any other error.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailed
}

// PrintError writes "prog: err" and a newline to w, unless err is nil or a
// silent ExitError (one whose message has already been shown). URL
// userinfo and token-like query values in the message are masked
// (package redact): errors quote the URLs they failed on.
func PrintError(w io.Writer, prog string, err error) {
	if err == nil {
		return
	}
	if e, ok := err.(*ExitError); ok && e.Err == nil {
		return
	}
	fmt.Fprintf(w, "%s: %s\n", prog, redact.String(err.Error()))
}

// ErrInterrupted is the cause (context.Cause) of a context that Signals
// cancelled because of SIGINT or SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// Signals returns a copy of parent that is cancelled, with cause
// ErrInterrupted, on the first SIGINT (Ctrl-C) or SIGTERM, so that a run
// can stop gracefully and still write what it has. A second signal closes
// the channel Abort(ctx) returns: the run should then skip whatever
// graceful closing is left and write its partial report at once. After
// that second signal the handler is removed: a third gets the default
// behaviour and kills the process, for when even that takes too long.
//
// stop releases the handler and cancels the context; call it (defer) when
// the command is done.
func Signals(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	abort := make(chan struct{})
	ctx = WithAbort(ctx, abort)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		defer signal.Stop(ch)
		select {
		case <-ch:
			cancel(ErrInterrupted)
		case <-done:
			return
		}
		select {
		case <-ch:
			close(abort)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(context.Canceled)
		})
	}
}

type abortKey struct{}

// WithAbort returns a copy of ctx whose Abort channel is abort: what
// Signals does, for commands' tests and for callers with their own
// signal handling.
func WithAbort(ctx context.Context, abort <-chan struct{}) context.Context {
	return context.WithValue(ctx, abortKey{}, abort)
}

// Abort returns the channel that Signals closes on a second signal, or
// nil (which blocks forever in a select) when ctx does not come from
// Signals.
func Abort(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(abortKey{}).(<-chan struct{})
	return ch
}
