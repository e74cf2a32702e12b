package workers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/siokit/siokit/internal/target"
)

// ServeOptions configures Serve.
type ServeOptions struct {
	// Exe is the sioload binary each worker runs (os.Executable()).
	Exe string
	// Args is a worker's command line after Exe: "serve" and the target's
	// flags; Serve adds --addr and --worker.
	Args []string
	// Workers is the number of processes (at least 1).
	Workers int
	// Addr is the one address they share for WebSocket (host:port; port 0
	// for a free one).
	Addr string
	// Log gets where the target listens, and a worker that exits.
	Log io.Writer
	// Abort, when closed after ctx ended, kills the workers at once.
	Abort <-chan struct{}
}

// readyTimeout bounds a worker's start (listening and saying so).
const readyTimeout = 30 * time.Second

// stopGrace is how long workers asked to stop may take to close their
// connections before they are killed.
const stopGrace = 5 * time.Second

// ready is a worker's first line on stdout: "LISTENING <shared address>
// <own address>".
const ready = "LISTENING"

// serveWorker is one child process of Serve.
type serveWorker struct {
	cmd         *exec.Cmd
	shared, own string
	pid         int
	exited      chan struct{}
	tail        tail
}

// Serve runs the built-in target as o.Workers processes until ctx ends.
// They all listen on o.Addr with SO_REUSEPORT, so the kernel spreads
// WebSocket connections over them; each also listens on a port of its
// own, because a long-polling session's every request must reach the
// process that holds the session, and requests of one session come on
// several connections, which SO_REUSEPORT would spread. Serve prints both
// to o.Log: the shared URL for WebSocket and the list of own URLs for a
// scenario's targets list. A worker that exits is reported and the
// others serve on; Serve returns an error when none is left.
func Serve(ctx context.Context, o ServeOptions) error {
	n := o.Workers
	if n < 1 {
		return fmt.Errorf("serve --workers: want at least 1, got %d", n)
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	ws := make([]*serveWorker, 0, n)
	stop := func(sig syscall.Signal) {
		for _, w := range ws {
			select {
			case <-w.exited:
			default:
				_ = w.cmd.Process.Signal(sig)
			}
		}
	}
	addr := o.Addr
	// SO_REUSEPORT lets a worker join any socket of this user on the port:
	// a server left from an earlier run would silently take a share of
	// the load. A plain listen fails on a port in use, so it is tried
	// first.
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		probe, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("serve --workers: %s is in use (another server, perhaps an earlier sioload serve): %w", addr, err)
		}
		probe.Close()
	}
	for i := range n {
		// Worker 0 first: with port 0 it picks the port the others share.
		w, err := startServeWorker(o.Exe, append(append([]string(nil), o.Args...), "--addr", addr, "--worker", fmt.Sprintf("%d/%d", i, n)), n)
		if err != nil {
			stop(syscall.SIGKILL)
			return fmt.Errorf("serve worker %d of %d: %w", i, n, err)
		}
		ws = append(ws, w)
		addr = w.shared
	}
	var own []string
	var pids []string
	for i, w := range ws {
		own = append(own, "http://"+w.own)
		pids = append(pids, fmt.Sprintf("%d:%d", i, w.pid))
	}
	fmt.Fprintf(logw, "sioload: built-in target on http://%s (%d workers on one port through SO_REUSEPORT: for WebSocket)\n", addr, n)
	fmt.Fprintf(logw, "sioload: long-polling and upgrade need a session's every request on one process: one port per worker, for a scenario's\n")
	fmt.Fprintf(logw, "  targets: [%s]\n", strings.Join(own, ", "))
	fmt.Fprintf(logw, "sioload: worker pids %s\n", strings.Join(pids, " "))

	left := n
	anyExit := make(chan *serveWorker, n)
	for _, w := range ws {
		go func() { <-w.exited; anyExit <- w }()
	}
	for left > 0 {
		select {
		case <-ctx.Done():
			stop(syscall.SIGTERM)
			deadline := time.After(stopGrace)
			for left > 0 {
				select {
				case <-anyExit:
					left--
				case <-deadline:
					stop(syscall.SIGKILL)
					deadline = nil
				case <-o.Abort:
					stop(syscall.SIGKILL)
				}
			}
			return nil
		case w := <-anyExit:
			left--
			fmt.Fprintf(logw, "sioload: serve worker pid %d exited: %s; its connections are gone, %d worker(s) serve on\n", w.pid, w.why(), left)
		}
	}
	return fmt.Errorf("serve --workers: every worker exited")
}

// startServeWorker starts a worker and waits for its ready line.
func startServeWorker(exe string, args []string, n int) (*serveWorker, error) {
	w := &serveWorker{exited: make(chan struct{})}
	w.cmd = exec.Command(exe, args...)
	w.cmd.Stderr = &w.tail
	w.cmd.SysProcAttr = childAttr()
	w.cmd.Env = childEnv(n)
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := w.cmd.Start(); err != nil {
		return nil, err
	}
	w.pid = w.cmd.Process.Pid
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	go func() { _ = w.cmd.Wait(); close(w.exited) }()
	select {
	case l, ok := <-line:
		f := strings.Fields(l)
		if ok && len(f) == 3 && f[0] == ready {
			w.shared, w.own = f[1], f[2]
			return w, nil
		}
		<-w.exited
		return nil, fmt.Errorf("did not start: %s", w.why())
	case <-time.After(readyTimeout):
		_ = w.cmd.Process.Kill()
		<-w.exited
		return nil, fmt.Errorf("not listening after %s: killed", readyTimeout)
	}
}

func (w *serveWorker) why() string {
	why := "exited"
	if w.cmd.ProcessState != nil {
		why = w.cmd.ProcessState.String()
	}
	if l := w.tail.lastLine(); l != "" {
		why += " (" + l + ")"
	}
	return why
}

// ServeWorker is one worker of Serve (sioload serve --worker I/N): the
// target with opts on addr through SO_REUSEPORT and on a port of its own
// on addr's host, every response naming the worker (target.Options.Worker
// set by the caller), until ctx ends. It writes the ready line Serve
// waits for to stdout.
func ServeWorker(ctx context.Context, addr string, opts target.Options, stdout io.Writer, abort <-chan struct{}) error {
	shared, err := ListenReusePort(addr)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	own, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		shared.Close()
		return err
	}
	t := target.New(opts)
	errc := make(chan error, 2)
	go func() { errc <- t.Serve(shared) }()
	go func() { errc <- t.Serve(own) }()
	if _, err := fmt.Fprintf(stdout, "%s %s %s\n", ready, shared.Addr(), own.Addr()); err != nil {
		t.Close()
		return err
	}
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}
	select {
	case <-ctx.Done():
		t.Close()
		select {
		case <-errc:
		case <-time.After(stopGrace):
		case <-abort:
		}
		return nil
	case err := <-errc:
		t.Close()
		return err
	}
}
