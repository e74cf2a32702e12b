package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
)

// execState runs sioload with args and a given stdout.
func execState(stdout *bytes.Buffer, w interface{ Write([]byte) (int, error) }, args ...string) (stderr string, code int) {
	var e bytes.Buffer
	st := &cli.State{Stdout: w, Stderr: &e, Args: args, Env: func(string) string { return "" }}
	err := dispatch(st)
	cli.PrintError(&e, "sioload", err)
	return e.String(), cli.ExitCode(err)
}

// writeScenario writes a small scenario to dir and returns its path.
func writeScenario(t *testing.T, dir, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "s.yaml")
	src := "name: t\nload: {clients: 2, ramp: 0s, hold: 500ms, grace: 1s}\nflow:\n  - connect: {}\n  - emit_ack: {event: echo-ack, args: [{seq: \"{{.Seq}}\"}], timeout: 2s}\n" + extra
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// countingListener accepts TCP connections, counts them and never answers.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int64)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func TestHelpOnce(t *testing.T) {
	scen := writeScenario(t, t.TempDir(), "")
	for _, c := range []struct {
		args  []string
		usage string
	}{
		{[]string{"run", "--help"}, "Usage: sioload run"},
		{[]string{"run", "-h"}, "Usage: sioload run"},
		{[]string{"run", scen, "-h"}, "Usage: sioload run"},
		{[]string{"help", "run"}, "Usage: sioload run"},
		{[]string{"compare", "--help"}, "Usage: sioload compare"},
		{[]string{"report", "--help"}, "Usage: sioload report"},
		{[]string{"serve", "-h"}, "Usage: sioload serve"},
		{[]string{"--help"}, "Usage: sioload COMMAND"},
	} {
		stdout, stderr, code := exec(c.args...)
		if code != 0 || stdout != "" || strings.Count(stderr, c.usage) != 1 || strings.Contains(stderr, "sioload: ") {
			t.Errorf("%q: exit %d, stdout %q, usage %d times in stderr:\n%s", c.args, code, stdout, strings.Count(stderr, c.usage), stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := exec(args...)
		if code != 0 || !strings.HasPrefix(stdout, "sioload ") || !strings.HasSuffix(stdout, "\n") || stderr != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}

// TestBadFlags: bad flag values are refused before anything runs (no
// connection reaches the target), named as flags, exit 2.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	addr, accepted := countingListener(t)
	scen := writeScenario(t, dir, "target: http://"+addr+"\n")
	notPEM := filepath.Join(dir, "junk.pem")
	os.WriteFile(notPEM, []byte("junk"), 0o644)
	for _, c := range []struct {
		args []string
		want string // the whole stderr
	}{
		{[]string{"run", scen, "--clients", "-3"}, "sioload: --clients: want at least 1, got -3\n"},
		{[]string{"run", scen, "--clients", "0"}, "sioload: --clients: want at least 1, got 0\n"},
		{[]string{"run", scen, "--duration", "-1s"}, "sioload: --duration: want a positive duration, got -1s\n"},
		{[]string{"run", scen, "--duration", "0s"}, "sioload: --duration: want a positive duration, got 0s\n"},
		{[]string{"run", scen, "--transport", "ws"}, `sioload: --transport: "ws" is not one of websocket, polling, upgrade` + "\n"},
		{[]string{"run", scen, "--target", "127.0.0.1:23104"}, `sioload: --target: "127.0.0.1:23104" is not a server URL: want http://, https://, ws:// or wss://HOST[:PORT]` + "\n"},
		{[]string{"run", scen, "--ca-file", filepath.Join(dir, "none.pem")}, "sioload: --ca-file: open " + filepath.Join(dir, "none.pem") + ": no such file or directory\n"},
		{[]string{"run", scen, "--ca-file", notPEM}, "sioload: --ca-file: " + notPEM + ": no PEM certificate in the file\n"},
		{[]string{"run", scen, "--out", "/nonexistent/dir/x.json"}, "sioload: --out: directory /nonexistent/dir: no such file or directory\n"},
		{[]string{"run", scen, "--out", dir}, "sioload: --out: " + dir + " is a directory\n"},
		{[]string{"compare", scen, "--transports", "polling,ws"}, `sioload: --transports: "ws" is not one of websocket, polling, upgrade` + "\n"},
		{[]string{"compare", scen, "--clients", "0"}, "sioload: --clients: want at least 1, got 0\n"},
		{[]string{"compare", scen, "--out", "/nonexistent/dir/x.json"}, "sioload: --out: directory /nonexistent/dir: no such file or directory\n"},
	} {
		stdout, stderr, code := exec(c.args...)
		if code != cli.ExitUsage || stderr != c.want || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q\nstderr %q\nwant   %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the target despite bad flags", n)
	}
}

// peekListener stores the content of file when its first connection
// arrives: what a reader of the report sees while a run lasts.
type peekListener struct {
	net.Listener
	file   string
	during *atomic.Value
}

func (l peekListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil && l.during.Load() == nil {
		b, _ := os.ReadFile(l.file)
		l.during.Store(string(b))
	}
	return c, err
}

// failWriter fails every write, as stdout does on a full disk.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// readResult reads a --out file.

// TestOutputNeverLost: the previous --out stays whole while the run lasts
// (the server reads it when the first client arrives); a failing stdout
// does not stop --out, a failing --out does not stop the summary, and
// each error is reported.
func TestOutputNeverLost(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	os.WriteFile(out, []byte(`{"previous": true}`), 0o644)
	var during atomic.Value
	tg := target.New(target.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- tg.Serve(peekListener{ln, out, &during}) }()
	defer func() { tg.Close(); <-served }()
	scen := writeScenario(t, dir, "target: http://"+ln.Addr().String()+"\ntransport: polling\n")

	stderr, code := execState(nil, failWriter{}, "run", scen, "--quiet", "--out", out)
	if code != cli.ExitFailed || !strings.Contains(stderr, "sioload: writing the summary: no space left on device") {
		t.Errorf("failing stdout: exit %d, stderr %q", code, stderr)
	}
	if got, _ := during.Load().(string); got != `{"previous": true}` {
		t.Errorf("while the run lasted --out held %q, want the previous report", got)
	}
	if r, _ := readResult(t, out); r.Scenario != "t" || r.PeakClients != 2 {
		t.Errorf("--out after a failing stdout: scenario %q, peak clients %d", r.Scenario, r.PeakClients)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files left in the output folder: %v", ents)
	}

	if _, err := os.Stat("/dev/full"); err != nil {
		return
	}
	stdout, stderr, code := exec("run", scen, "--quiet", "--out", "/dev/full")
	if code != cli.ExitFailed || !strings.Contains(stderr, "--out: ") || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stdout, "scenario t") {
		t.Errorf("--out /dev/full: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	stderr, code = execState(nil, failWriter{}, "run", scen, "--quiet", "--out", "/dev/full")
	if code != cli.ExitFailed || strings.Count(stderr, "no space left on device") != 2 {
		t.Errorf("both failing: exit %d, stderr %q", code, stderr)
	}
}

// TestInterrupt sends this process real SIGINTs while a run is stuck on a
// server that accepts connections and never answers: one stops the run
// within the short interrupt close bound (not the 5 s close timeout),
// two skip the closing; both write the partial report.
func TestInterrupt(t *testing.T) {
	// Our own handler keeps the test binary alive whatever happens to
	// the command's.
	keep := make(chan os.Signal, 4)
	signal.Notify(keep, os.Interrupt)
	defer signal.Stop(keep)
	for _, signals := range []int{1, 2} {
		t.Run(fmt.Sprint(signals), func(t *testing.T) {
			dir := t.TempDir()
			addr, accepted := countingListener(t)
			scen := filepath.Join(dir, "s.yaml")
			os.WriteFile(scen, []byte("name: stall\ntarget: http://"+addr+"\nload: {clients: 3, ramp: 0s, hold: 60s, grace: 5s}\nflow:\n  - connect: {}\n"), 0o644)
			out := filepath.Join(dir, "r.json")
			type ret struct {
				stdout, stderr string
				code           int
			}
			done := make(chan ret, 1)
			go func() {
				o, e, c := exec("run", scen, "--quiet", "--out", out)
				done <- ret{o, e, c}
			}()
			deadline := time.Now().Add(30 * time.Second)
			for accepted.Load() < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("only %d of 3 clients reached the stalled server in 30 s", accepted.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			start := time.Now()
			for i := range signals {
				syscall.Kill(syscall.Getpid(), syscall.SIGINT)
				<-keep
				if i+1 < signals {
					time.Sleep(50 * time.Millisecond) // let the first be handled on its own
				}
			}
			var r ret
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the run did not end 30 s after the interrupt")
			}
			took := time.Since(start)
			// The close after one interrupt is bounded by 1 s
			// (load.InterruptCloseTimeout), the default close timeout
			// is 5 s: 4 s leaves a busy machine 3 s of slack.
			if took >= 4*time.Second {
				t.Errorf("%d SIGINT: the run took %v to end, want well under the 5 s close timeout", signals, took)
			}
			if r.code != cli.ExitFailed || !strings.Contains(r.stdout, "scenario stall") {
				t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
			}
			if res, _ := readResult(t, out); !res.Partial || res.StopReason != "interrupted" {
				t.Errorf("--out: partial %v, stop reason %q", res.Partial, res.StopReason)
			}
		})
	}
}

// selfSigned returns a TLS certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "siokit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestTLS runs against the built-in target behind TLS with a self-signed
// certificate: refused without a flag, connected with --insecure, with
// --ca-file, and with the scenario's tls section; on both transports.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, pemBytes := selfSigned(t)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pemBytes, 0o644)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	tg := target.New(target.Options{})
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ln) }()
	defer func() { tg.Close(); <-served }()
	url := "https://" + ln.Addr().String()
	for _, transport := range []string{"polling", "websocket"} {
		plain := writeScenario(t, t.TempDir(), "target: "+url+"\ntransport: "+transport+"\n")
		withSection := writeScenario(t, dir, "target: "+url+"\ntransport: "+transport+"\ntls: {ca_file: ca.pem}\n")
		for _, c := range []struct {
			name string
			args []string
			ok   bool
		}{
			{"no flag", []string{"run", plain}, false},
			{"--insecure", []string{"run", plain, "--insecure"}, true},
			{"--ca-file", []string{"run", plain, "--ca-file", ca}, true},
			{"tls.ca_file", []string{"run", withSection}, true},
		} {
			out := filepath.Join(t.TempDir(), "r.json")
			stdout, stderr, code := exec(append(c.args, "--quiet", "--out", out)...)
			r, _ := readResult(t, out)
			hs := r.Errors[metrics.ErrHandshake]
			if c.ok && (code != 0 || r.PeakClients != 2 || hs != 0) {
				t.Errorf("%s %s: exit %d, peak clients %d, handshake errors %d\n%s\n%s", transport, c.name, code, r.PeakClients, hs, stdout, stderr)
			}
			if !c.ok && (r.PeakClients != 0 || hs == 0) {
				t.Errorf("%s %s: a self-signed certificate was accepted: peak clients %d, handshake errors %d", transport, c.name, r.PeakClients, hs)
			}
		}
	}
}

// TestSecretsMasked: URL userinfo and the scenario's secret query and
// header values appear in no output: summary, progress, JSON, errors.
func TestSecretsMasked(t *testing.T) {
	dir := t.TempDir()
	tg := target.New(target.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ln) }()
	defer func() { tg.Close(); <-served }()
	scen := writeScenario(t, dir, "target: http://alice:hunter2-pw@"+ln.Addr().String()+
		"\nquery: {token: \"s3cr3t-token-{{.Client}}\", room: lobby}\nheaders: {Authorization: Bearer abcdef123456}\nauth: {password: pa55word-xyz}\n")
	out := filepath.Join(dir, "r.json")
	stdout, stderr, code := exec("run", scen, "--out", out)
	b, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(stdout, "http://***@"+ln.Addr().String()) || !strings.Contains(string(b), `"target": "http://***@`) {
		t.Errorf("exit %d; the masked target is missing:\n%s\n%s\n%.400s", code, stdout, stderr, b)
	}
	for _, secret := range []string{"alice", "hunter2-pw", "s3cr3t-token", "abcdef123456", "pa55word-xyz"} {
		for name, text := range map[string]string{"stdout": stdout, "stderr": stderr, "--out": string(b)} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q", name, secret)
			}
		}
	}
	// The error path: the scenario's literal secrets and URL secrets in
	// an error message are masked too.
	s, err := (&overrides{}).scenario(scen)
	if err != nil {
		t.Fatal(err)
	}
	m := scenarioMasker(s)
	msg := maskErr(m, fmt.Errorf(`Get "http://alice:hunter2-pw@h/socket.io/?EIO=4&token=s3cr3t-token-7&room=lobby": header Bearer abcdef123456 pa55word-xyz`)).Error()
	if want := `Get "http://***@h/socket.io/?EIO=4&token=***&room=lobby": header *** ***`; msg != want {
		t.Errorf("masked error\n got %q\nwant %q", msg, want)
	}
	if err := maskErr(m, cli.WithExitCode(nil, cli.ExitUsage)); cli.ExitCode(err) != cli.ExitUsage || err.Error() != "exit status 2" {
		t.Errorf("silent error became %v", err)
	}
}
