package engineio

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestParseHandshake(t *testing.T) {
	for _, tt := range []struct {
		name string
		data string
		want Handshake
	}{
		{"v4", `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
			Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}},
		{"v4 websocket-only", `{"sid":"x","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`,
			Handshake{SID: "x", Upgrades: []string{}, PingInterval: 300, PingTimeout: 200, MaxPayload: 1000000}},
		{"v3", `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}`,
			Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 300, PingTimeout: 200}},
		{"no upgrades key", `{"sid":"x","pingInterval":1,"pingTimeout":2}`,
			Handshake{SID: "x", PingInterval: 1, PingTimeout: 2}},
		{"whitespace and unknown keys", " {\n \"pingTimeout\" : 2 , \"sid\":\"x\",\"pid\":\"p\",\"pingInterval\":1, \"upgrades\":[\"websocket\",\"webtransport\"]}\n",
			Handshake{SID: "x", Upgrades: []string{"websocket", "webtransport"}, PingInterval: 1, PingTimeout: 2}},
		{"escaped sid", `{"sid":"a\u002fb","upgrades":[],"pingInterval":1,"pingTimeout":2}`,
			Handshake{SID: "a/b", Upgrades: []string{}, PingInterval: 1, PingTimeout: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHandshake([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if h.SID != tt.want.SID || h.PingInterval != tt.want.PingInterval || h.PingTimeout != tt.want.PingTimeout ||
				h.MaxPayload != tt.want.MaxPayload || !slices.Equal(h.Upgrades, tt.want.Upgrades) ||
				(h.Upgrades == nil) != (tt.want.Upgrades == nil) {
				t.Fatalf("got %#v, want %#v", h, tt.want)
			}
		})
	}
}

func TestParseHandshakeErrors(t *testing.T) {
	const ok = `"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2`
	for _, data := range []string{
		``,
		`{`,
		`null`,
		`[]`,
		`"sid"`,
		`{}`,
		`{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2} {}`,
		`{"upgrades":[],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":null,"upgrades":[],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":null,"pingInterval":1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":"websocket","pingInterval":1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[1],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":["websocket",null],"pingInterval":1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":1}`,
		`{"sid":"x","upgrades":[],"pingInterval":0,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":-1,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":1.5,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":1e3,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":"1","pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":null,"pingTimeout":2}`,
		`{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":99999999999999999999}`,
		`{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":9223372036855}`, // overflows a Duration
		`{` + ok + `,"maxPayload":0}`,
		`{` + ok + `,"maxPayload":null}`,
		`{` + ok + `,"maxPayload":-5}`,
	} {
		_, err := ParseHandshake([]byte(data))
		t.Run(data, func(t *testing.T) { wantRule(t, err, RuleBadHandshake, -1) })
	}
	_, err := ParseHandshake([]byte(`{"sid":"x",}`))
	wantRule(t, err, RuleBadHandshake, 12)
}

func TestHandshakeHelpers(t *testing.T) {
	h := Handshake{SID: "x", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000}
	if h.PingIntervalDuration() != 25*time.Second || h.PingTimeoutDuration() != 20*time.Second {
		t.Fatalf("durations %v %v", h.PingIntervalDuration(), h.PingTimeoutDuration())
	}
	if !h.CanUpgrade("websocket") || h.CanUpgrade("webtransport") || h.CanUpgrade("") {
		t.Fatal("CanUpgrade")
	}
	if (Handshake{}).CanUpgrade("websocket") {
		t.Fatal("CanUpgrade on nil Upgrades")
	}
}

func TestHandshakeMarshalJSON(t *testing.T) {
	for _, tt := range []struct {
		h    Handshake
		want string
	}{
		{Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000},
			`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{Handshake{SID: "x", PingInterval: 300, PingTimeout: 200},
			`{"sid":"x","upgrades":[],"pingInterval":300,"pingTimeout":200}`},
	} {
		got, err := json.Marshal(tt.h)
		if err != nil || string(got) != tt.want {
			t.Fatalf("got %s, %v; want %s", got, err, tt.want)
		}
		if _, err := ParseHandshake(got); err != nil {
			t.Fatalf("marshalled handshake does not parse: %v", err)
		}
	}
}
