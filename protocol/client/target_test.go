package client_test

import (
	"errors"
	"testing"

	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/socketio"
)

// TestNewParsesWithParseTarget: New and Connect refuse what
// socketio.ParseTarget refuses, with its error, so that every tool of the
// module takes and rejects the same target URLs.
func TestNewParsesWithParseTarget(t *testing.T) {
	for _, raw := range []string{"localhost:3000", "ftp://host/", "http://", "http://[::1"} {
		if _, err := client.New(raw, nil); !errors.Is(err, socketio.ErrTargetURL) {
			t.Errorf("New(%q): err %v, want ErrTargetURL", raw, err)
		}
		if _, err := client.Connect(t.Context(), raw, nil, nil); !errors.Is(err, socketio.ErrTargetURL) {
			t.Errorf("Connect(%q): err %v, want ErrTargetURL", raw, err)
		}
	}
	for _, raw := range []string{"http://127.0.0.1:1", "wss://example.invalid/admin?x=1"} {
		c, err := client.New(raw, nil)
		if err != nil {
			t.Errorf("New(%q): %v", raw, err)
			continue
		}
		c.Close()
	}
}
