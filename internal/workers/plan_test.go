package workers

import (
	"slices"
	"strings"
	"testing"

	"github.com/siokit/siokit/scenarios"
)

func scen(transport string, clients int) *scenarios.Scenario {
	return &scenarios.Scenario{Transport: transport, Load: scenarios.Load{Model: scenarios.ModelClosed, Clients: clients}}
}

// TestAuto: --workers auto takes as many processes as the connections
// need under the open-files limit, and never more than there are clients.
func TestAuto(t *testing.T) {
	for _, c := range []struct {
		s    *scenarios.Scenario
		fds  int
		want int
	}{
		{scen(scenarios.TransportWebSocket, 100000), 20000, 6}, // 17900 a process
		{scen(scenarios.TransportWebSocket, 17900), 20000, 1},
		{scen(scenarios.TransportWebSocket, 17901), 20000, 2},
		{scen(scenarios.TransportPolling, 20000), 20000, 3}, // two connections a client
		{scen(scenarios.TransportPolling, 5), 102, 5},       // at most one a client
		{&scenarios.Scenario{Transport: scenarios.TransportWebSocket, Load: scenarios.Load{Model: scenarios.ModelOpen, MaxClients: 40000}}, 20000, 3},
	} {
		n, why := Auto(c.s, c.fds)
		if n != c.want || !strings.Contains(why, "worker(s)") {
			t.Errorf("Auto(%s, %d clients, limit %d) = %d (%s), want %d", c.s.Transport, clients(c.s), c.fds, n, why, c.want)
		}
	}
}

// TestSourcePlan: each worker gets addresses of its own only when the
// clients need more ports than one address has, and only towards a
// loopback target.
func TestSourcePlan(t *testing.T) {
	const ports = 28232 // 11998 usable: 85 % of the odd half bind takes
	plan, note := SourcePlan(scen(scenarios.TransportWebSocket, 70000), "http://127.0.0.1:3000", 6, ports)
	if note != "" || len(plan) != 6 {
		t.Fatalf("70000 WebSocket clients, 6 workers: plan %v, note %q", plan, note)
	}
	for i, p := range plan {
		if want := []string{"127.200." + string(rune('0'+i)) + ".1"}; !slices.Equal(Addresses(p), want) {
			t.Errorf("worker %d: %v, want %v", i, p, want)
		}
	}
	plan, _ = SourcePlan(scen(scenarios.TransportWebSocket, 100000), "http://localhost:3000", 6, ports)
	if len(plan) != 6 || !slices.Equal(Addresses(plan[5]), []string{"127.200.5.1", "127.200.5.2"}) {
		t.Fatalf("100000 WebSocket clients (16667 a worker): plan %v, want two addresses each", plan)
	}
	// Worker 5 of 6 runs clients 5, 11, 17, ...: as the engine picks
	// source_addrs[n % len], they take its two addresses in turn.
	used := map[string]int{}
	for n := 5; n < 100000; n += 6 {
		used[plan[5][n%len(plan[5])]]++
	}
	if len(used) != 2 || used["127.200.5.1"] != 8333 || used["127.200.5.2"] != 8333 {
		t.Errorf("worker 5's clients by address: %v, want 8333 each (16666 clients)", used)
	}
	if plan, note := SourcePlan(scen(scenarios.TransportWebSocket, 11000), "http://127.0.0.1:3000", 2, ports); plan != nil || note != "" {
		t.Errorf("11000 clients fit one address's ports: plan %v, note %q", plan, note)
	}
	if plan, note := SourcePlan(scen(scenarios.TransportWebSocket, 100000), "http://10.0.0.5:3000", 6, ports); plan != nil || !strings.Contains(note, "not on loopback") {
		t.Errorf("remote target: plan %v, note %q; want none, and a note", plan, note)
	}
	s := scen(scenarios.TransportWebSocket, 100000)
	s.SourceAddrs = []string{"127.0.0.2", "127.0.0.3"}
	if plan, _ := SourcePlan(s, "http://127.0.0.1:3000", 6, ports); plan != nil {
		t.Errorf("the scenario's source_addrs: plan %v, want none (the scenario's are used)", plan)
	}
}
