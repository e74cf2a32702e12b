//go:build unix

package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSignalsInterrupt sends this process a real SIGINT: Signals must turn
// it into a cancellation with cause ErrInterrupted (and, by having
// registered a handler, keep the test binary alive).
func TestSignalsInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		ctx, stop := Signals(context.Background())
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not cancel the context", sig)
		}
		if !errors.Is(context.Cause(ctx), ErrInterrupted) {
			t.Errorf("%v: cause %v, want ErrInterrupted", sig, context.Cause(ctx))
		}
		stop()
	}
}

// TestSignalsSecondAbortsThirdKills checks the promises of Signals in a
// child process (this test binary): the first SIGINT cancels the context,
// the second closes Abort(ctx) (a run then writes its partial report at
// once), and the third is not swallowed: the child dies of it.
func TestSignalsSecondAbortsThirdKills(t *testing.T) {
	if os.Getenv("CLI_SIGNALS_CHILD") == "1" {
		ctx, stop := Signals(context.Background())
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("first")
		select {
		case <-Abort(ctx):
			fmt.Println("second")
		case <-time.After(10 * time.Second):
			fmt.Println("no abort")
			os.Exit(0)
		}
		time.Sleep(10 * time.Second)
		fmt.Println("survived")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalsSecondAbortsThirdKills$")
	cmd.Env = append(os.Environ(), "CLI_SIGNALS_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			cmd.Process.Kill()
			t.Fatalf("child said %q (%v), want %q", lines.Text(), lines.Err(), want)
		}
	}
	expect("ready")
	cmd.Process.Signal(syscall.SIGINT)
	expect("first")
	cmd.Process.Signal(syscall.SIGINT)
	expect("second")
	// The handler is removed right after the second signal is received;
	// give the child's goroutine a moment to get there.
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("child ended with %v, want death by SIGINT", err)
	}
}

// Abort of a context that does not come from Signals never fires.
func TestAbortWithoutSignals(t *testing.T) {
	if Abort(context.Background()) != nil {
		t.Fatal("Abort(Background) is not nil")
	}
}
