package testpeer

import (
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Client peers: programs that obey the client contract (docs/conformance.md §6) with one
// Socket.IO client library each, under peers/clients/ (see peers/README.md). sioconform plays the
// server; the program connects to it and carries out the commands it is sent.

// ClientSpec describes one client peer.
type ClientSpec struct {
	// Name is the peer's name ("node4-client").
	Name string
	// Desc names the library, its version and the runtime.
	Desc string
	// Dir is the program's working directory (a folder under peers/clients/).
	Dir string
	// Argv is the command line; Argv[0] is absolute or a name looked up on PATH.
	Argv []string
	// EIO lists the Engine.IO revisions the library speaks; asked for another the program exits 2.
	EIO []int
	// Needs are the files an installed peer has (absolute).
	Needs []string
	// Hint says how to install the peer.
	Hint string
}

// clientSpec is a ClientSpec relative to the module root.
type clientSpec struct {
	dir   string   // under peers/clients/
	desc  string   // ClientSpec.Desc
	argv  []string // argv[0] "x/y" is relative to dir
	eio   []int    // ClientSpec.EIO
	needs []string // relative to dir, or absolute
	hint  string   // ClientSpec.Hint
	// build, when set, is the Go package (from the module root) that
	// argv[0] is built from before each test process first uses it.
	build string
}

const clientsHint = "run `make peers` (peers/install.sh clients)"

// jsClient is the shared socket.io-client program (peers/clients/js/client.mjs) on one runtime.
func jsClient(desc string, major string, argv ...string) clientSpec {
	lib := "node_modules/socket.io-client-" + major + "/package.json"
	needs := []string{lib}
	if !filepath.IsAbs(argv[0]) && strings.Contains(argv[0], "/") {
		needs = append(needs, argv[0])
	}
	eio := []int{4}
	if major == "2" {
		eio = []int{3}
	}
	return clientSpec{
		dir: "js", desc: desc, argv: append(argv, "client.mjs", major), eio: eio, needs: needs,
		hint: clientsHint + ": npm ci in peers/clients/js",
	}
}

var clientSpecs = map[string]clientSpec{
	"node4-client": jsClient("socket.io-client 4.8.4 (engine.io-client 6.6.8) on Node", "4", "node"),
	"deno-client":  jsClient("socket.io-client 4.8.4 (engine.io-client 6.6.8) on Deno 2.9.6 (npm deno)", "4", "node_modules/.bin/deno", "run", "-A"),
	"bun-client":   jsClient("socket.io-client 4.8.4 (engine.io-client 6.6.8) on Bun 1.4.4 (npm bun)", "4", "node_modules/.bin/bun"),
	"node2-client": jsClient("socket.io-client 2.5.0 (engine.io-client 3.5.6) on Node, EIO3/SIO4", "2", "node"),
	"python-client": {
		dir: "python", desc: "python-socketio 5.7.2 AsyncClient / python-engineio 4.3.4 on aiohttp 3.8.4 (Debian bookworm)",
		argv: []string{"/usr/bin/python3", "client.py"}, eio: []int{4},
		needs: []string{"/usr/bin/python3", "/usr/lib/python3/dist-packages/socketio/__init__.py", "/usr/lib/python3/dist-packages/engineio/__init__.py", "/usr/lib/python3/dist-packages/aiohttp/__init__.py"},
		hint:  clientsHint + ": apt-get install -y python3-socketio python3-engineio python3-aiohttp",
	},
	"go-zishang-v3-client": {
		dir: "go-zishang-v3", desc: "Go github.com/zishang520/socket.io/clients/socket/v3 v3.0.6",
		argv: []string{"bin/go-zishang-v3-client"}, eio: []int{4},
		needs: []string{"bin/go-zishang-v3-client"},
		hint:  clientsHint + ": go build -o bin/go-zishang-v3-client . in peers/clients/go-zishang-v3",
	},
	"siokit-client": {
		dir: "siokit", desc: "siokit's own client (protocol/client of this module)",
		argv: []string{"bin/siokit-client"}, eio: []int{4, 3},
		needs: []string{"bin/siokit-client"},
		hint:  clientsHint + ": go build -o peers/clients/siokit/bin/siokit-client ./peers/clients/siokit at the module root",
		build: "./peers/clients/siokit",
	},
}

// ClientNames returns the names of the client peers, sorted.
func ClientNames() []string { return slices.Sorted(maps.Keys(clientSpecs)) }

// Client returns the named client peer with absolute paths, or an error saying how to install it
// when it is not installed.
func Client(name string) (*ClientSpec, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	if err := buildClient(root, name); err != nil {
		return nil, err
	}
	return clientIn(root, name)
}

// built holds, per client peer built from this module, the outcome of
// its one build in this process.
var built sync.Map // name → func() error

// buildClient builds a client peer made from this module's own code (the
// siokit client), once per test process: a binary left from an earlier
// `make peers` would otherwise judge the client as it was then, not as
// the tree now has it. Up to date, the build takes a tenth of a second.
// Test processes of several packages start together, so the build holds
// a lock on the peer's folder: two builds at once would replace the file
// under each other's exec.
func buildClient(root, name string) error {
	sp := clientSpecs[name]
	if sp.build == "" {
		return nil
	}
	once, _ := built.LoadOrStore(name, sync.OnceValue(func() error {
		dir := filepath.Join(root, "peers", "clients", sp.dir)
		out := filepath.Join(dir, sp.argv[0])
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		unlock, err := lockDir(filepath.Dir(out))
		if err != nil {
			return fmt.Errorf("client peer %s: %v", name, err)
		}
		defer unlock()
		cmd := exec.Command("go", "build", "-o", out, sp.build)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("client peer %s: go build -o %s %s: %v\n%s", name, out, sp.build, err, b)
		}
		return nil
	}))
	return once.(func() error)()
}

// clientIn is Client with an explicit module root.
func clientIn(root, name string) (*ClientSpec, error) {
	sp, ok := clientSpecs[name]
	if !ok {
		return nil, fmt.Errorf("unknown client peer %q (known: %s)", name, strings.Join(ClientNames(), ", "))
	}
	dir := filepath.Join(root, "peers", "clients", sp.dir)
	abs := func(f string) string {
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(dir, f)
	}
	c := &ClientSpec{Name: name, Desc: sp.desc, Dir: dir, EIO: sp.eio, Hint: sp.hint}
	c.Argv = append([]string(nil), sp.argv...)
	if strings.Contains(c.Argv[0], "/") {
		c.Argv[0] = abs(c.Argv[0])
	} else if _, err := exec.LookPath(c.Argv[0]); err != nil {
		return nil, fmt.Errorf("client peer %s needs %s on PATH: %v; %s", name, c.Argv[0], err, sp.hint)
	}
	for _, f := range sp.needs {
		c.Needs = append(c.Needs, abs(f))
	}
	for _, f := range c.Needs {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("client peer %s is not installed (%s is missing): %s", name, f, sp.hint)
		}
	}
	return c, nil
}

// ClientCommand returns the named client peer, calling t.Fatalf with the install command when it
// is missing (never t.Skip).
func ClientCommand(t testing.TB, name string) *ClientSpec {
	t.Helper()
	c, err := Client(name)
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	return c
}

// Speaks reports whether the peer's library speaks Engine.IO revision eio.
func (c *ClientSpec) Speaks(eio int) bool {
	for _, v := range c.EIO {
		if v == eio {
			return true
		}
	}
	return false
}

// Command returns an unstarted command for the peer with env added to this process's
// environment (e.g. "SIOCONFORM_URL=http://127.0.0.1:1234"), in the peer's folder, killed by the
// kernel if this process dies.
func (c *ClientSpec) Command(env ...string) *exec.Cmd {
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = time.Second
	setDeathSignal(cmd)
	return cmd
}

// ClientProcess is a running client peer.
type ClientProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *logBuffer
	done  chan struct{}
	err   error
}

// StartClient starts the named client peer with env (the SIOCONFORM_* variables); it fails the
// test with the install command when the peer is missing, and stops the process in t.Cleanup,
// logging its output when the test failed.
func StartClient(t testing.TB, name string, env ...string) *ClientProcess {
	t.Helper()
	c := ClientCommand(t, name)
	cmd := c.Command(env...)
	p := &ClientProcess{cmd: cmd, log: &logBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("testpeer: client %s: %v", name, err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpeer: client %s: starting %s: %v", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("testpeer: output of client %s:\n%s", name, p.Output())
		}
	})
	return p
}

// CloseStdin closes the program's stdin, which the contract says makes it exit 0.
func (p *ClientProcess) CloseStdin() { _ = p.stdin.Close() }

// Wait waits up to d for the program to exit and returns its exit code (-1 when killed by a
// signal), or an error when it is still running.
func (p *ClientProcess) Wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		return 0, fmt.Errorf("client still running after %v", d)
	}
}

// Stop closes stdin, sends SIGTERM, kills after a grace period and waits. Idempotent.
func (p *ClientProcess) Stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
		return
	default:
	}
	terminate(p.cmd, p.done)
}

// Output returns the program's collected stdout and stderr (newest 256 KiB).
func (p *ClientProcess) Output() string { return p.log.String() }
