package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/conform"
)

// TestRunSettingsFlags: the settings flags reach the engine as stated
// settings, the preflight is always asked for, and --show-secrets is wired.
func TestRunSettingsFlags(t *testing.T) {
	f := newFake()
	r := runCLI(t, f, "run", "--url", target1, "--ping-interval", "25s", "--max-payload", "5000", "--show-secrets")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := f.configs[0]
	want := conform.ContractSettings
	want.PingInterval, want.MaxPayload = 25*time.Second, 5000
	if got.Settings == nil || *got.Settings != want || !got.Preflight || !got.ShowSecrets || got.SettingsFromHandshake {
		t.Errorf("config %+v, settings %+v", got, got.Settings)
	}
	f = newFake()
	if r := runCLI(t, f, "run", "--url", target1, "--settings-from-handshake"); r.code != 0 || f.configs[0].Settings != nil || !f.configs[0].SettingsFromHandshake {
		t.Errorf("--settings-from-handshake: exit %d, config %+v", r.code, f.configs[0])
	}
	if r := runCLI(t, newFake(), "run", "--url", target1, "--ping-timeout", "0s"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--ping-timeout") {
		t.Errorf("--ping-timeout 0s: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRunPlainHTTPServer runs the real engine against a plain HTTP server
// (404 to everything, like python3 -m http.server): exit 2 and one line
// saying nothing answers as Engine.IO, no report.
func TestRunPlainHTTPServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(404)
		_, _ = w.Write([]byte("<!DOCTYPE HTML><html><body>Error response</body></html>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	r := runCLI(t, conformEngine{}, "run", "--url", "http://"+ln.Addr().String())
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != cli.ExitUsage || len(lines) != 1 || !strings.Contains(lines[0], "is not an Engine.IO or Socket.IO server") ||
		!strings.Contains(lines[0], "404") || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
