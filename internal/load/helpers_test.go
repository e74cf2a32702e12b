package load

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// parseScenario parses a scenario written inline in a test.
func parseScenario(t *testing.T, src string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startBuiltin starts the built-in target with opts on 127.0.0.1, closed
// when t ends.
func startBuiltin(t testing.TB, opts target.Options) *Builtin {
	t.Helper()
	b, err := StartBuiltin(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// askStats asks a stats connection to a node for its counters, decoded as
// W (the peers' and the built-in target's answers differ in fields),
// within d.
func askStats[W any](t *testing.T, s *client.Socket, d time.Duration) W {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m, err := s.EmitWithAck(ctx, "stats")
	if err != nil {
		t.Fatal(err)
	}
	var w []W
	if err := json.Unmarshal(m.Args, &w); err != nil || len(w) != 1 {
		t.Fatalf("stats answer %s: %v", m.Args, err)
	}
	return w[0]
}
