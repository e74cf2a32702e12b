package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/cli"
	"github.com/siokit/siokit/internal/target"
)

func TestServeFlags(t *testing.T) {
	var e bytes.Buffer
	st := &cli.State{Stdout: io.Discard, Stderr: &e}
	cfg, err := parseServe(st, []string{"--addr", "127.0.0.1:0", "--ping-interval", "300ms", "--ping-timeout", "200ms",
		"--connect-timeout", "1s", "--max-payload", "5000", "--cors-origin", "*"})
	if err != nil {
		t.Fatal(err, e.String())
	}
	o := cfg.opts.Server
	if o.PingInterval != 300*time.Millisecond || o.PingTimeout != 200*time.Millisecond ||
		o.ConnectTimeout != time.Second || o.MaxHTTPBufferSize != 5000 || o.CORSOrigin != "*" {
		t.Fatalf("options %+v", o)
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		t.Fatal(err)
	}
	tg := target.New(cfg.opts)
	done := make(chan error, 1)
	go func() { done <- tg.Serve(ln) }()
	defer func() { tg.Close(); <-done }()
	res, err := http.Get("http://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`"pingInterval":300`, `"pingTimeout":200`, `"maxPayload":5000`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("handshake %q lacks %s", body, want)
		}
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", got)
	}
}

func TestServeUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--ping-timeout", "-1s"}, "--ping-timeout: negative"},
		{[]string{"serve", "--max-payload", "-1"}, "--max-payload: negative"},
		{[]string{"serve", "extra"}, "serve takes no arguments"},
	} {
		_, stderr, code := exec(c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	_, stderr, code := exec("serve", "--help")
	if code != 0 || !strings.Contains(stderr, "sioload serve --ping-interval 300ms --ping-timeout 200ms --connect-timeout 1s") {
		t.Errorf("serve --help: exit %d, usage lacks the contract configuration:\n%s", code, stderr)
	}
}
