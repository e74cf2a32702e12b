package conform_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/server"
)

// startContractTarget serves the built-in target (sioload serve) with the
// contract's settings on 127.0.0.1 and returns its origin.
func startContractTarget(t *testing.T) string {
	t.Helper()
	tg := target.New(target.Options{Server: server.Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond,
		ConnectTimeout: time.Second, MaxHTTPBufferSize: 1000000, CORSOrigin: "*",
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ln) }()
	t.Cleanup(func() { tg.Close(); <-served })
	return "http://" + ln.Addr().String()
}

// TestCollectInterrupted: a run of the built-in cases against the built-in
// target, cancelled (as by Ctrl-C) once three cases finished, reports only
// the cases that finished, each with the verdict it had then (no case cut
// short by the cancellation), and says it was interrupted and of how many.
func TestCollectInterrupted(t *testing.T) {
	url := startContractTarget(t)
	all, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	cases := conform.Select(all, 4, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n := 0
	rep, err := conform.Collect(ctx, cases, url, 4, func(conform.Result) {}, func(progress func(conform.Result)) (*conform.Report, error) {
		return conform.Run(ctx, cases, conform.Config{URL: url, EIO: 4, Parallel: 2, Progress: func(r conform.Result) {
			progress(r)
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 3 {
				cancel()
			}
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.CasesTotal != len(cases) || len(rep.Results) < 3 || len(rep.Results) >= len(cases) {
		t.Fatalf("interrupted %v, %d of %d (want %d) results", rep.Interrupted, len(rep.Results), rep.CasesTotal, len(cases))
	}
	if rep.Started.IsZero() || rep.Target != url {
		t.Errorf("started %v, target %q", rep.Started, rep.Target)
	}
	for _, r := range rep.Results {
		if r.Verdict != conform.Pass && r.Verdict != conform.NA && r.Verdict != conform.Info || strings.Contains(r.Message, "context canceled") {
			t.Errorf("%s: %s %q: a case cut short by the interruption is reported", r.ID, r.Verdict, r.Message)
		}
	}
	if want := fmt.Sprintf("interrupted: %d of %d cases finished", len(rep.Results), len(cases)); rep.Interruption() != want {
		t.Errorf("Interruption() = %q, want %q", rep.Interruption(), want)
	}
}

// TestCollectClientInterrupted: the same for RunClient. A program that
// exits at once fails its case before the interruption; one that never
// connects is still waited for when the run is cancelled, and its case,
// cut short, is left out instead of failing "nothing came".
func TestCollectClientInterrupted(t *testing.T) {
	all, err := conform.LoadBuiltinClient()
	if err != nil {
		t.Fatal(err)
	}
	cases := conform.SelectClient(all, 4, "", []string{"client.eio4.handshake.query-polling", "client.eio4.handshake.query-websocket"}, nil)
	if len(cases) != 2 {
		t.Fatalf("%d cases", len(cases))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := `if [ "$SIOCONFORM_TRANSPORT" = polling ]; then exit 3; fi; exec sleep 20`
	rep, err := conform.Collect(ctx, cases, conform.ClientTarget(cmd), 4, nil, func(progress func(conform.Result)) (*conform.Report, error) {
		return conform.RunClient(ctx, cases, conform.ClientConfig{Cmd: cmd, Progress: func(r conform.Result) {
			progress(r)
			cancel() // the first case to finish is the polling one: the other waits 30 s for its program
		}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.CasesTotal != 2 || len(rep.Results) != 1 || rep.Target != "client: "+cmd {
		t.Fatalf("interrupted %v, total %d, target %q, results %+v", rep.Interrupted, rep.CasesTotal, rep.Target, rep.Results)
	}
	if r := rep.Results[0]; r.ID != "client.eio4.handshake.query-polling" || r.Verdict != conform.Fail || !strings.Contains(r.Message, "exited with code 3") {
		t.Errorf("kept %s: %s %q", r.ID, r.Verdict, r.Message)
	}
	if rep.Interruption() != "interrupted: 1 of 2 cases finished" {
		t.Errorf("Interruption() = %q", rep.Interruption())
	}
}

// TestCollectAbandoned: a run given up on a second Ctrl-C returns no
// report; the partial one is named by target and starts when the
// collector was made, never at the zero time.
func TestCollectAbandoned(t *testing.T) {
	cases := []*conform.Case{{ID: "a"}, {ID: "b"}}
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := conform.Collect(ctx, cases, "http://u:secret@127.0.0.1:1", 3, nil, func(progress func(conform.Result)) (*conform.Report, error) {
		progress(conform.Result{ID: "b", Verdict: conform.Pass})
		cancel()
		progress(conform.Result{ID: "a", Verdict: conform.Fail}) // after the interruption: not kept
		return nil, nil
	})
	if err != nil || !rep.Interrupted || rep.CasesTotal != 2 || len(rep.Results) != 1 || rep.Results[0].ID != "b" || rep.EIO != 3 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if rep.Started.IsZero() || strings.Contains(rep.Target, "secret") {
		t.Errorf("started %v, target %q", rep.Started, rep.Target)
	}

	// Cancelled after the last case: nothing was interrupted.
	ctx, cancel = context.WithCancel(context.Background())
	rep, _ = conform.Collect(ctx, cases, "http://127.0.0.1:1", 4, nil, func(progress func(conform.Result)) (*conform.Report, error) {
		progress(conform.Result{ID: "a", Verdict: conform.Pass})
		progress(conform.Result{ID: "b", Verdict: conform.Pass})
		cancel()
		return &conform.Report{Target: "t", Started: time.Now(), Results: []conform.Result{{ID: "a"}, {ID: "b"}}}, nil
	})
	if rep.Interrupted || rep.Interruption() != "" || len(rep.Results) != 2 {
		t.Errorf("cancelled after the last case: %+v", rep)
	}
}
