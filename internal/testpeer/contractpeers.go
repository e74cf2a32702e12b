package testpeer

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Contract peers: sioconform contract servers (docs/conformance.md §1) on other Socket.IO
// implementations than the Node reference, each in its own folder under peers/ (see
// peers/README.md). They are installed by peers/install.sh like the Node peers.
var contractSpecs = map[string]spec{
	"python": {
		dir: "python", script: "contract.py",
		desc:  "python-socketio 5.7.2 / python-engineio 4.3.4 on aiohttp 3.8.4 (Debian bookworm), EIO4/SIO5",
		argv:  []string{"/usr/bin/python3", "contract.py"},
		needs: []string{"/usr/bin/python3", "/usr/lib/python3/dist-packages/socketio/__init__.py", "/usr/lib/python3/dist-packages/engineio/__init__.py", "/usr/lib/python3/dist-packages/aiohttp/__init__.py"},
		hint:  "run `make peers` (peers/install.sh python: apt-get install -y python3-socketio python3-engineio python3-aiohttp)",
	},
	"go-zishang-v3": goSpec("go-zishang-v3", "Go github.com/zishang520/socket.io v3.0.6, EIO4/SIO5"),
	"go-zishang-v2": goSpec("go-zishang-v2", "Go github.com/zishang520/socket.io/v2 v2.5.0, EIO4/SIO5"),
	"go-googollee":  goSpec("go-googollee", "Go github.com/googollee/go-socket.io v1.7.0, EIO3/SIO4 only"),
	"deno":          npmRuntimeSpec("deno", "Deno 2.9.6 running socket.io 4.8.4, EIO4/SIO5", "run", "-A"),
	"bun":           npmRuntimeSpec("bun", "Bun 1.4.4 running socket.io 4.8.4 on node:http, EIO4/SIO5"),
}

func init() {
	for name, sp := range contractSpecs {
		specs[name] = sp
	}
}

// goSpec describes a Go contract peer: a nested module in peers/<name> built into bin/<name>.
func goSpec(name, desc string) spec {
	bin := "bin/" + name
	return spec{
		dir: name, script: "main.go", desc: desc,
		argv:  []string{bin},
		needs: []string{bin},
		hint:  fmt.Sprintf("run `make peers` (peers/install.sh %s: go build -o %s . in peers/%s)", name, bin, name),
	}
}

// npmRuntimeSpec describes a peer whose JavaScript runtime comes from npm (package name =
// folder name = binary name) and runs contract.mjs.
func npmRuntimeSpec(name, desc string, runArgs ...string) spec {
	bin := "node_modules/.bin/" + name
	argv := append([]string{bin}, runArgs...)
	return spec{
		dir: name, script: "contract.mjs", desc: desc,
		argv:  append(argv, "contract.mjs"),
		needs: []string{bin, "node_modules/socket.io/package.json", "node_modules/engine.io/package.json"},
		hint:  fmt.Sprintf("run `make peers` (npm ci in peers/%s; or peers/install.sh %s)", name, name),
	}
}

// command returns the peer's command line for port (0 = any).
func (p *Peer) command(port int) []string {
	if p.spec.argv == nil {
		return []string{"node", p.script, strconv.Itoa(port)}
	}
	argv := append([]string(nil), p.spec.argv...)
	if !filepath.IsAbs(argv[0]) && strings.Contains(argv[0], "/") {
		argv[0] = filepath.Join(p.Dir, argv[0])
	}
	return append(argv, strconv.Itoa(port))
}

// checkCommandInstalled verifies a non-node peer: its entry file and every file it needs exist.
func (p *Peer) checkCommandInstalled() error {
	if _, err := os.Stat(filepath.Join(p.Dir, p.script)); err != nil {
		return fmt.Errorf("peer %s: server source missing: %v", p.Name, err)
	}
	for _, f := range p.spec.needs {
		if !filepath.IsAbs(f) {
			f = filepath.Join(p.Dir, f)
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("peer %s is not installed (%s is missing): %s", p.Name, f, p.installHint())
		}
	}
	return nil
}
