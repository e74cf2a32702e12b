package conform_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/server"
)

// serveTarget serves the built-in target with opts on 127.0.0.1:0.
func serveTarget(t *testing.T, opts target.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := target.New(opts)
	done := make(chan error, 1)
	go func() { done <- tg.Serve(ln) }()
	t.Cleanup(func() { tg.Close(); <-done })
	return "http://" + ln.Addr().String()
}

// TestPreflightDefaultSettings is `sioload serve` without flags: the
// library's default settings (ping 25 s / 20 s, connectTimeout 45 s). With
// nothing stated the run refuses in one error naming the settings and the
// flags; with the settings read from the handshake no case fails: the
// handshake cases judge against 25000/20000, and the cases timed for the
// contract's heartbeat are n/a.
func TestPreflightDefaultSettings(t *testing.T) {
	url := serveTarget(t, target.Options{Server: server.Options{CORSOrigin: "*"}})
	cases, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	// The payload-limit cases send megabytes: slow under -race on a busy
	// machine, and not what this test is about.
	sel := conform.Select(cases, 4, nil, []string{"*payload-limit*"})
	_, err = conform.Run(context.Background(), sel, conform.Config{URL: url, EIO: 4, Preflight: true})
	if err == nil || !strings.Contains(err.Error(), "pingInterval 25s (contract 300ms)") || !strings.Contains(err.Error(), "--settings-from-handshake") {
		t.Fatalf("nothing stated: err %v, want the settings named", err)
	}
	stated := conform.ContractSettings
	stated.ConnectTimeout = 45 * time.Second
	cfg := conform.Config{URL: url, EIO: 4, Preflight: true, SettingsFromHandshake: true, Settings: &stated}
	rep, err := conform.Run(context.Background(), sel, cfg)
	if err != nil {
		t.Fatal(err)
	}
	na := 0
	for i, res := range rep.Results {
		if res.Verdict == conform.Fail {
			// Once more alone, as TestImplementations does: on a loaded
			// machine a 250 ms bound of an unrelated case can be missed.
			cfg.Parallel = 1
			if again, err := conform.Run(context.Background(), []*conform.Case{byID(sel, res.ID)}, cfg); err == nil {
				res = again.Results[0]
				rep.Results[i] = res
			}
		}
		switch {
		case res.Verdict == conform.Fail || res.Verdict == conform.Error:
			t.Errorf("%s", dump(res))
		case res.ID == "eio4.handshake.polling.ok" && res.Verdict != conform.Pass:
			t.Errorf("the handshake case does not judge against the advertised settings: %s", dump(res))
		case res.Verdict == conform.NA && strings.Contains(res.Message, "settings differ"):
			na++
		}
	}
	if na == 0 {
		t.Error("no heartbeat case was n/a for the settings")
	}
	t.Logf("%d cases, %v, %d n/a for the settings", len(rep.Results), rep.Counts(), na)
}

// TestPreflightSocketIOOnly: a server with nothing at /engine.io/ gets
// its Engine.IO cases n/a and one notice saying so.
func TestPreflightSocketIOOnly(t *testing.T) {
	url := serveTarget(t, target.Options{Server: contractOptions().Server, NoEngine: true})
	cases, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	rep, err := conform.Run(context.Background(), conform.Select(cases, 4, []string{"eio4.handshake", "sio5.connect.ws"}, nil),
		conform.Config{URL: url, EIO: 4, Preflight: true, Notice: func(s string) { notices = append(notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "Socket.IO only") {
		t.Errorf("notices %q", notices)
	}
	for _, res := range rep.Results {
		eio := strings.HasPrefix(res.ID, "eio4.")
		if eio && res.Verdict != conform.NA || !eio && res.Verdict == conform.Fail {
			t.Errorf("%s", dump(res))
		}
	}
}

// TestPreflightRefusedVersion: a server that speaks Engine.IO but not the
// version asked for (the built-in target, like Node without allowEIO3,
// answers EIO=3 with 400 {"code":5,"message":"Unsupported protocol
// version"}) is said to be one, with the whole refusal and what to change,
// not "not an Engine.IO or Socket.IO server" with its body cut mid-word.
func TestPreflightRefusedVersion(t *testing.T) {
	url := serveTarget(t, target.Options{Server: contractOptions().Server})
	cases, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = conform.Run(context.Background(), conform.Select(cases, 3, []string{"eio3.handshake"}, nil),
		conform.Config{URL: url, EIO: 3, Preflight: true})
	if err == nil {
		t.Fatal("EIO=3 against a v4-only server: no error")
	}
	for _, want := range []string{"is an Engine.IO server that refuses EIO=3", `code 5 "Unsupported protocol version"`, "allowEIO3: true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "not an Engine.IO") {
		t.Errorf("error %q says the server is not Engine.IO", err)
	}
}
