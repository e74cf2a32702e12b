package conform_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/testpeer"
)

// clientExpected is what each client peer gets from the client suite:
// every case not listed passes. Each entry says why.
var clientExpected = map[string]map[string]conform.Verdict{
	"siokit-client": {},
	"node4-client":  {},
}

// shellCmd is the --cmd line that runs a client peer: its folder, then its
// argv, quoted for sh.
func shellCmd(spec *testpeer.ClientSpec) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	parts := make([]string, len(spec.Argv))
	for i, a := range spec.Argv {
		parts[i] = q(a)
	}
	return "cd " + q(spec.Dir) + " && exec " + strings.Join(parts, " ")
}

// TestClientSuite plays the whole client suite against siokit's own client
// and socket.io-client 4.8.4 on Node, and asserts every verdict.
func TestClientSuite(t *testing.T) {
	cases, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	sel := conform.SelectClient(cases, 4, "", nil, nil)
	if len(sel) < 10 {
		t.Fatalf("want at least 10 client cases, got %d", len(sel))
	}
	names := make([]string, 0, len(clientExpected))
	for n := range clientExpected {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec := testpeer.ClientCommand(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			start := time.Now()
			rep, err := conform.RunClient(ctx, sel, conform.ClientConfig{Cmd: shellCmd(spec)})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			want := clientExpected[name]
			for _, r := range rep.Results {
				w := want[r.ID]
				if w == "" {
					w = conform.Pass
				}
				if r.Verdict != w {
					t.Errorf("%s: got %s, want %s: %s\n%s", r.ID, r.Verdict, w, r.Message, traceText(r))
				}
			}
			if took > 60*time.Second {
				t.Errorf("the client suite took %v against %s (want well under 30 s)", took, name)
			}
			t.Logf("%s: %d cases in %v", name, len(rep.Results), took.Round(time.Millisecond))
		})
	}
}

func traceText(r conform.Result) string {
	var b strings.Builder
	for _, e := range r.Trace {
		fmt.Fprintf(&b, "  %8v %s %s %s %s\n", e.At.Round(time.Millisecond), e.Dir, e.Kind, e.Conn, e.Summary)
	}
	return b.String()
}
