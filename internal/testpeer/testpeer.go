// Package testpeer owns the launching of siokit's real Socket.IO test servers ("peers", the Node,
// Python, Go, Deno and Bun projects under peers/ at the module root) for tests, examples and commands.
//
// A peer is started on 127.0.0.1 at a free port; the launcher waits for the peer's single stdout line
// "LISTENING <port>", keeps a pipe to the peer's stdin (every peer exits when its stdin closes, so a
// dying test binary never leaves a server behind) and collects the peer's output for failure reports.
// The peers' launch and handler contract is documented in peers/README.md.
//
// The package uses the standard library only.
package testpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ModulePath is the module path Root looks for in go.mod.
const ModulePath = "github.com/siokit/siokit"

// StartTimeout bounds how long a peer may take to print its "LISTENING <port>" line. Node
// takes under a second on an idle machine, but ten parallel starts on 2 cores shared with other
// runs (load average 30 and more) have taken over 10 s.
const StartTimeout = 30 * time.Second

// stopGrace is how long Stop waits after SIGTERM before killing the peer.
const stopGrace = 3 * time.Second

// maxLog caps the kept peer output (the newest bytes are kept).
const maxLog = 256 << 10

// spec describes one peer implementation.
type spec struct {
	dir    string // folder under peers/
	script string // entry script inside dir
	desc   string

	// Peers not run as `node <script>` (the contract peers in contractpeers.go) set these:
	argv  []string // command and arguments before the port; argv[0] "x/y" is relative to dir
	needs []string // files (relative to dir, or absolute) an installed peer has
	hint  string   // how to install the peer, shown when something is missing

	startTimeout time.Duration // 0 = StartTimeout
}

var specs = map[string]spec{
	"node4": {dir: "node4", script: "server.mjs", desc: "Node socket.io 4.8.4 (EIO4/SIO5; /csr/ with connection state recovery)"},
	"node2": {dir: "node2", script: "server.js", desc: "Node socket.io 2.5.1 (EIO3/SIO4)"},
	// The sioconform contract server (docs/conformance.md §1): /engine.io/ echo,
	// /socket.io/ with the optional extensions, /csr/.
	"node4-contract": {dir: "node4", script: "contract.mjs", desc: "Node socket.io 4.8.4 sioconform contract server"},
	// The official suites' own servers and nothing else (no optional extension): every
	// case needing an extension must say n/a against it.
	"node4-plain": {dir: "node4", script: "plain.mjs", desc: "Node socket.io 4.8.4 plain official-contract server (no extensions)"},
}

// Names returns the names of the known peers, sorted.
func Names() []string { return slices.Sorted(maps.Keys(specs)) }

// Peer is a running peer process. Port and URL stay the same across Restart.
type Peer struct {
	// Name is the peer's name as passed to Start or Launch ("node4", "node2").
	Name string
	// Port is the TCP port the peer listens on at 127.0.0.1.
	Port int
	// Addr is "127.0.0.1:<port>".
	Addr string
	// URL is "http://127.0.0.1:<port>" (no trailing slash, no path).
	URL string
	// Dir is the peer's folder (peers/<name> under the module root).
	Dir string

	env    []string
	script string
	spec   spec
	log    *logBuffer

	mu   sync.Mutex
	proc *process
}

// process is one run of the peer's node process.
type process struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	done  chan struct{} // closed when cmd.Wait returned
	err   error         // cmd.Wait's result, valid after done
}

// Start launches the named peer ("node4" or "node2") on 127.0.0.1 at a free port and returns it;
// it stops the process in t.Cleanup. env adds environment variables (e.g. "PING_INTERVAL=300").
// If Node or the peer's node_modules are missing, it calls t.Fatalf with a message saying exactly how
// to install it, never t.Skip. When the test failed, the peer's output is logged at cleanup.
func Start(t testing.TB, name string, env ...string) *Peer {
	t.Helper()
	p, err := Launch(context.Background(), name, env...)
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("testpeer: output of peer %s (%s):\n%s", p.Name, p.URL, p.Output())
		}
	})
	return p
}

// Launch is the non-testing form of Start: it launches the named peer on 127.0.0.1 at a free port
// and returns it once it listens. ctx bounds the start-up only; the caller must call Stop.
func Launch(ctx context.Context, name string, env ...string) (*Peer, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return launchIn(ctx, root, name, env)
}

// launchIn is Launch with an explicit module root.
func launchIn(ctx context.Context, root, name string, env []string) (*Peer, error) {
	sp, ok := specs[name]
	if !ok {
		return nil, fmt.Errorf("unknown peer %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	p := &Peer{
		Name:   name,
		Dir:    filepath.Join(root, "peers", sp.dir),
		env:    append([]string(nil), env...),
		script: sp.script,
		spec:   sp,
		log:    &logBuffer{},
	}
	if err := p.checkInstalled(); err != nil {
		return nil, err
	}
	proc, port, err := p.run(ctx, 0)
	if err != nil {
		return nil, err
	}
	p.proc = proc
	p.Port = port
	p.Addr = "127.0.0.1:" + strconv.Itoa(port)
	p.URL = "http://" + p.Addr
	return p, nil
}

// installHint says how to install the peer's dependencies.
func (p *Peer) installHint() string {
	if p.spec.hint != "" {
		return p.spec.hint
	}
	return fmt.Sprintf("run `make peers` (npm ci in peers/%s; or peers/install.sh)", filepath.Base(p.Dir))
}

// checkInstalled verifies that node is on PATH and the peer's node_modules are present.
func (p *Peer) checkInstalled() error {
	if p.spec.argv != nil {
		return p.checkCommandInstalled()
	}
	if _, err := os.Stat(filepath.Join(p.Dir, p.script)); err != nil {
		return fmt.Errorf("peer %s: server script missing: %v", p.Name, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("peer %s needs Node.js (v20 or newer) on PATH: %v; install Node, then %s", p.Name, err, p.installHint())
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "node_modules", "socket.io", "package.json")); err != nil {
		return fmt.Errorf("peer %s is not installed (%s has no node_modules/socket.io): %s",
			p.Name, p.Dir, p.installHint())
	}
	return nil
}

// errAddrInUse marks a start that failed because the port was taken.
var errAddrInUse = errors.New("address in use")

// run starts one node process on port (0 = any) and waits for its LISTENING line.
func (p *Peer) run(ctx context.Context, port int) (*process, int, error) {
	argv := p.command(port)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	cmd.Env = append(cmd.Env, p.env...)
	listening := make(chan int, 1)
	p.log.mark(fmt.Sprintf("--- testpeer: starting %s (%s)\n", p.Name, strings.Join(argv, " ")))
	cmd.Stdout = &stdoutWatcher{log: p.log, listening: listening}
	cmd.Stderr = p.log
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, fmt.Errorf("peer %s: %v", p.Name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("peer %s: starting %s: %v", p.Name, argv[0], err)
	}
	proc := &process{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		proc.err = cmd.Wait()
		close(proc.done)
	}()

	limit := StartTimeout
	if p.spec.startTimeout > 0 {
		limit = p.spec.startTimeout
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case got := <-listening:
		return proc, got, nil
	case <-proc.done:
		out := p.log.String()
		err := fmt.Errorf("peer %s exited before listening (%v); output:\n%s", p.Name, proc.err, out)
		if strings.Contains(out, "EADDRINUSE") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return nil, 0, err
	case <-timer.C:
		proc.stop()
		return nil, 0, fmt.Errorf("peer %s did not print LISTENING within %v; output:\n%s", p.Name, limit, p.log.String())
	case <-ctx.Done():
		proc.stop()
		return nil, 0, fmt.Errorf("peer %s: start-up aborted: %w", p.Name, ctx.Err())
	}
}

// stop ends the process: closes stdin, sends SIGTERM, kills after a grace period, and waits.
func (pr *process) stop() {
	_ = pr.stdin.Close()
	terminate(pr.cmd, pr.done)
}

// terminate sends cmd SIGTERM, kills it if it has not exited (done closed)
// within stopGrace, and waits for done.
func terminate(cmd *exec.Cmd, done <-chan struct{}) {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = cmd.Process.Kill()
	}
	select {
	case <-done:
		return
	case <-time.After(stopGrace):
	}
	_ = cmd.Process.Kill()
	<-done
}

// Stop stops the peer and waits for the process to exit. It is idempotent and safe to call
// concurrently.
func (p *Peer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	p.proc.stop()
	p.proc = nil
}

// Restart stops the peer and starts it again on the same port with the same environment (for
// reconnection tests). Binding is retried for a few seconds while the port is still in use.
// It calls t.Fatalf on failure.
func (p *Peer) Restart(t testing.TB) {
	t.Helper()
	if err := p.RestartContext(context.Background()); err != nil {
		t.Fatalf("testpeer: %v", err)
	}
}

// RestartContext is the non-testing form of Restart.
func (p *Peer) RestartContext(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		p.proc.stop()
		p.proc = nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		proc, port, err := p.run(ctx, p.Port)
		if err == nil {
			if port != p.Port {
				proc.stop()
				return fmt.Errorf("peer %s restarted on port %d, want %d", p.Name, port, p.Port)
			}
			p.proc = proc
			return nil
		}
		if !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			return fmt.Errorf("restart: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart of peer %s aborted: %w", p.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Running reports whether the peer's process is currently running.
func (p *Peer) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return false
	}
	select {
	case <-p.proc.done:
		return false
	default:
		return true
	}
}

// Output returns the peer's collected stdout and stderr (all runs, newest 256 KiB).
func (p *Peer) Output() string { return p.log.String() }

// Root returns the module root (the directory containing siokit's go.mod) found by walking up from
// the working directory.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s in %s or any parent directory", ModulePath, wd)
		}
		dir = parent
	}
}

// modulePath extracts the module path from go.mod content.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// logBuffer is a concurrency-safe, size-capped output buffer.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends b, dropping the oldest bytes beyond maxLog.
func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	if over := len(l.buf) - maxLog; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	return len(b), nil
}

// mark writes a separator line.
func (l *logBuffer) mark(s string) { _, _ = l.Write([]byte(s)) }

// String returns the buffered output.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// stdoutWatcher receives the peer's stdout: it reports the first "LISTENING <port>" line and
// copies every other line to the log.
type stdoutWatcher struct {
	log       *logBuffer
	listening chan<- int
	partial   []byte
	found     bool
}

// Write is called by os/exec's copying goroutine only, so it needs no locking of its own.
func (w *stdoutWatcher) Write(b []byte) (int, error) {
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(w.partial[:i], "\r"))
		w.partial = w.partial[i+1:]
		if !w.found {
			if rest, ok := strings.CutPrefix(line, "LISTENING "); ok {
				if port, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && port > 0 {
					w.found = true
					w.listening <- port
					continue
				}
			}
		}
		_, _ = w.log.Write([]byte(line + "\n"))
	}
	if len(w.partial) > 4096 { // a very long line without newline: flush it
		_, _ = w.log.Write(w.partial)
		w.partial = w.partial[:0]
	}
	return len(b), nil
}
