package testpeer

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func checkEIO4Handshake(t *testing.T, url string) string {
	t.Helper()
	code, body := httpGet(t, url)
	if code != http.StatusOK || !strings.HasPrefix(body, `0{"sid"`) {
		t.Fatalf("GET %s = %d %q, want 200 with body starting 0{\"sid\"", url, code, body)
	}
	return body
}

// checkEIO3Handshake GETs an EIO=3 polling handshake (what tells the
// failure apart) and checks for 200 and a length-prefixed open packet.
func checkEIO3Handshake(t *testing.T, what, url string) string {
	t.Helper()
	code, body := httpGet(t, url)
	if code != http.StatusOK || !regexp.MustCompile(`^\d+:0\{"sid"`).MatchString(body) {
		t.Fatalf("%s = %d %q, want 200 matching ^\\d+:0{\"sid\"", what, code, body)
	}
	return body
}

// closeStdinAndWait closes the running peer's stdin, which the launch
// contract says must end the process, and fails unless it ends within 5 s.
func closeStdinAndWait(t *testing.T, p *Peer) {
	t.Helper()
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	_ = proc.stdin.Close()
	select {
	case <-proc.done:
	case <-time.After(5 * time.Second):
		t.Fatal("peer still running 5 s after its stdin was closed")
	}
}

func TestNode4Handshake(t *testing.T) {
	t.Parallel()
	p := Start(t, "node4")
	if p.Port <= 0 || p.URL != "http://127.0.0.1:"+strconv.Itoa(p.Port) || p.Addr != "127.0.0.1:"+strconv.Itoa(p.Port) {
		t.Fatalf("bad peer address: port %d, URL %q, Addr %q", p.Port, p.URL, p.Addr)
	}
	checkEIO4Handshake(t, p.URL+"/socket.io/?EIO=4&transport=polling")
	checkEIO4Handshake(t, p.URL+"/csr/?EIO=4&transport=polling")
	if code, _ := httpGet(t, p.URL+"/nowhere"); code != http.StatusNotFound {
		t.Errorf("GET /nowhere = %d, want 404", code)
	}
}

func TestNode4Env(t *testing.T) {
	t.Parallel()
	p := Start(t, "node4", "PING_INTERVAL=300", "PING_TIMEOUT=200", "MAX_HTTP_BUFFER_SIZE=1000")
	for _, path := range []string{"/socket.io/", "/csr/"} {
		body := checkEIO4Handshake(t, p.URL+path+"?EIO=4&transport=polling")
		for _, want := range []string{`"pingInterval":300`, `"pingTimeout":200`, `"maxPayload":1000`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s handshake %q lacks %s", path, body, want)
			}
		}
	}
}

func TestNode4AllowEIO3(t *testing.T) {
	t.Parallel()
	p := Start(t, "node4", "ALLOW_EIO3=1")
	checkEIO3Handshake(t, "EIO3 handshake with ALLOW_EIO3=1", p.URL+"/socket.io/?EIO=3&transport=polling")
}

func TestNode2Handshake(t *testing.T) {
	t.Parallel()
	p := Start(t, "node2", "PING_INTERVAL=300")
	body := checkEIO3Handshake(t, "EIO3 handshake", p.URL+"/socket.io/?EIO=3&transport=polling")
	if !strings.Contains(body, `"pingInterval":300`) {
		t.Errorf("handshake %q lacks pingInterval 300", body)
	}
}

func TestRestartSamePort(t *testing.T) {
	t.Parallel()
	p := Start(t, "node4")
	port := p.Port
	checkEIO4Handshake(t, p.URL+"/socket.io/?EIO=4&transport=polling")
	p.Restart(t)
	if p.Port != port {
		t.Fatalf("port after restart = %d, want %d", p.Port, port)
	}
	if !p.Running() {
		t.Fatal("peer not running after restart")
	}
	checkEIO4Handshake(t, p.URL+"/socket.io/?EIO=4&transport=polling")
	p.Stop()
	p.Stop() // idempotent
	if p.Running() {
		t.Fatal("peer running after Stop")
	}
	// Restart after Stop starts it again.
	p.Restart(t)
	checkEIO4Handshake(t, p.URL+"/csr/?EIO=4&transport=polling")
}

func TestRestartWaitsForPort(t *testing.T) {
	t.Parallel()
	p := Start(t, "node2")
	p.Stop()
	// Hold the port until the peer has failed to bind it once (not for a
	// fixed time: on a busy machine node may start after that time is
	// over): Restart must retry binding instead of failing.
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatalf("listen %s: %v", p.Addr, err)
	}
	go func() {
		for end := time.Now().Add(20 * time.Second); !strings.Contains(p.Output(), "EADDRINUSE") && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		ln.Close()
	}()
	p.Restart(t)
	code, body := httpGet(t, p.URL+"/socket.io/?EIO=3&transport=polling")
	if code != http.StatusOK || !strings.Contains(body, `0{"sid"`) {
		t.Fatalf("after restart: %d %q", code, body)
	}
	if n := strings.Count(p.Output(), "EADDRINUSE"); n == 0 {
		t.Errorf("expected at least one EADDRINUSE attempt in the output:\n%s", p.Output())
	}
}

func TestStdinCloseStopsPeer(t *testing.T) {
	t.Parallel()
	closeStdinAndWait(t, Start(t, "node2"))
}

func TestLaunchErrors(t *testing.T) {
	t.Parallel()
	if _, err := Launch(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), "unknown peer") {
		t.Errorf("Launch(nope) error = %v, want unknown peer", err)
	}

	// A root whose peer has a script but no node_modules.
	err := launchUninstalled(t, "node4", "server.mjs")
	if err == nil || !strings.Contains(err.Error(), "make peers") || !strings.Contains(err.Error(), "npm ci in peers/node4") {
		t.Errorf("error without node_modules = %v, want install instructions", err)
	}
}

// launchUninstalled launches peer from a fresh module root that has its source file
// (peers/<peer>/<file>) but nothing its install step makes, and returns Launch's error.
func launchUninstalled(t *testing.T, peer, file string) error {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "peers", peer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := launchIn(context.Background(), root, peer, nil)
	return err
}

func TestRestartReportsPeerFailure(t *testing.T) {
	t.Parallel()
	// An invalid option makes the peer exit before listening; the error must carry its stderr.
	_, err := Launch(context.Background(), "node4", "PING_INTERVAL=abc")
	if err == nil || !strings.Contains(err.Error(), "invalid PING_INTERVAL") {
		t.Errorf("Launch with bad env: error = %v, want the peer's stderr", err)
	}
}

func TestRoot(t *testing.T) {
	t.Parallel()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if got := modulePath([]byte("// x\nmodule \"github.com/siokit/siokit\"\n\ngo 1.26\n")); got != ModulePath {
		t.Errorf("modulePath = %q", got)
	}
	if got := modulePath([]byte("modules x\n")); got != "" {
		t.Errorf("modulePath(modules x) = %q, want empty", got)
	}
}
