package conform

import (
	"strings"
	"testing"
)

// TestClientCaseLoad: a client file's keys (side, transport) and the srv_*
// steps load, and bad values are file:line: field: problem.
func TestClientCaseLoad(t *testing.T) {
	const head = clientCaseHead + "    steps:\n"
	c := loadOne(t, head+
		"      - srv_accept: {query: {EIO: \"4\", sid: {absent: true}}, sid: abc, ping_interval: 300, upgrades: []}\n"+
		"      - srv_expect: {sio: {type: CONNECT}, via: poll, among: 2, within: 1s}\n"+
		"      - srv_send: {command: emit, arg: {event: e, ack: true}, nsp: /x, id: 3}\n"+
		"      - srv_hold: {within: 1s}\n      - srv_silent: {for: 1s, skip: [\"3\"]}\n      - srv_close: {}\n")
	if c.Side != "client" || c.Transport != "polling" || c.Server != "socketio" || c.Path != "/socket.io/" || len(c.steps) != 6 {
		t.Fatalf("case: side %q transport %q server %q path %q, %d steps", c.Side, c.Transport, c.Server, c.Path, len(c.steps))
	}
	a := c.steps[0].act.(*srvAccept)
	if a.sid != "abc" || a.pingInterval != 300 || !a.hasUpgrades || len(a.upgrades) != 0 || len(a.query) != 2 || a.query[1].m.kind != "absent" {
		t.Errorf("srv_accept: %+v", a)
	}
	if x := c.steps[1].act.(*srvExpect); x.via != "poll" || x.among != 2 || x.match.sio == nil {
		t.Errorf("srv_expect: %+v", x)
	}
	if s := c.steps[2].act.(*srvSend); s.command != "emit" || s.nsp != "/x" || s.id == nil || *s.id != 3 {
		t.Errorf("srv_send: %+v", s)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"client id in a server file", strings.Replace(head, "side: client\n", "", 1) + "      - srv_close: {}\n",
			`f.yaml:2: cases[0].id: "client.eio4.a.b": client cases (side: client), and only they, have ids client.`},
		{"no transport", strings.Replace(head, "    transport: polling\n", "", 1) + "      - srv_close: {}\n",
			"client.eio4.a.b.transport: a client case says its transport"},
		{"bad transport", strings.Replace(head, "transport: polling", "transport: carrier-pigeon", 1) + "      - srv_close: {}\n",
			`f.yaml:6: client.eio4.a.b.transport: want polling, websocket or upgrade, got "carrier-pigeon"`},
		{"bad side", strings.Replace(head, "side: client", "side: both", 1) + "      - srv_close: {}\n",
			`f.yaml:1: side: want client or server, got "both"`},
		{"bad command", head + "      - srv_send: {command: explode}\n",
			`f.yaml:8: client.eio4.a.b.steps[0].srv_send.command: want emit, answer, join or disconnect, got "explode"`},
		{"two matchers", head + "      - srv_expect: {text: \"3\", sio: {type: EVENT}}\n",
			"f.yaml:8: client.eio4.a.b.steps[0].srv_expect: want exactly one of text, binary_hex, packet, sio, close"},
		{"bad via", head + "      - srv_expect: {text: \"3\", via: carrier}\n",
			`client.eio4.a.b.steps[0].srv_expect.via: want poll or ws, got "carrier"`},
		{"silent without for", head + "      - srv_silent: {}\n", "f.yaml:8: client.eio4.a.b.steps[0].srv_silent.for: missing"},
		{"close with settings", head + "      - srv_close: {code: 1}\n", "client.eio4.a.b.steps[0].srv_close: srv_close takes no settings"},
	} {
		wantLoadError(t, tt.name, tt.file, tt.want)
	}
}

// TestClientDocExample keeps the client case shown in docs/conformance.md
// §6.7 the same as the built-in one it says it is.
func TestClientDocExample(t *testing.T) {
	cases := docExample(t, "docs/conformance.md", "side: client", "client case")
	builtin, err := LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range builtin {
		if b.ID == cases[0].ID {
			if len(b.steps) != len(cases[0].steps) || b.Rule != cases[0].Rule || b.Transport != cases[0].Transport {
				t.Errorf("the example differs from the built-in %s: %d steps, want %d", b.ID, len(cases[0].steps), len(b.steps))
			}
			return
		}
	}
	t.Errorf("the example's id %s is no built-in client case", cases[0].ID)
}
