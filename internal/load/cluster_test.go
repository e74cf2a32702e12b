package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
)

// nodeWire is a cluster node's stats answer, with its engine.io connection count (to see how
// many of sioload's clients the proxy placed on it).
type nodeWire struct {
	Connections int64 `json:"connections"`
	EventsIn    int64 `json:"eventsIn"`
	EventsOut   int64 `json:"eventsOut"`
	AcksIn      int64 `json:"acksIn"`
	AcksOut     int64 `json:"acksOut"`
}

func readNodeWire(t *testing.T, s *client.Socket) nodeWire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := s.EmitWithAck(ctx, "stats")
	if err != nil {
		t.Fatal(err)
	}
	var w []nodeWire
	if err := json.Unmarshal(m.Args, &w); err != nil || len(w) != 1 {
		t.Fatalf("stats answer %s: %v", m.Args, err)
	}
	return w[0]
}

// TestChatAcrossClusterNodes runs the shipped chat scenario (room broadcasts) through the
// cluster peer's sticky nginx, each virtual client from its own source address so that the
// proxy spreads them over the three nodes, and compares sioload's counts with what the nodes
// counted: every broadcast reached every member whichever node holds it (through the Redis
// adapter), and every event the nodes wrote was counted exactly once by sioload.
func TestChatAcrossClusterNodes(t *testing.T) {
	const clients = 12
	c := testpeer.StartCluster(t, testpeer.ClusterOptions{})
	proxy := c.StartProxy(t, testpeer.ProxyOptions{})
	// One stats connection per node, straight to the node, opened before the baseline.
	counters := make([]*client.Socket, len(c.Nodes))
	for i, n := range c.Nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		s, err := client.Connect(ctx, n.URL, nil, &client.Options{Mode: client.WebSocketOnly})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Conn().Close() })
		counters[i] = s
		readNodeWire(t, s)
	}
	base := make([]nodeWire, len(c.Nodes))
	for i, s := range counters {
		base[i] = readNodeWire(t, s)
	}
	addrs := make([]string, clients)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%q", fmt.Sprintf("127.0.0.%d", i+2))
	}
	s := variant(t, "chat.yaml", clients, 2*time.Second,
		"transport: websocket", "transport: websocket\ntarget: "+proxy.URL+"\nsource_addrs: ["+strings.Join(addrs, ", ")+"]")
	res, err := Run(context.Background(), s, Options{Target: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	var sum nodeWire
	var spread []string
	used := 0
	for i, cs := range counters {
		w := readNodeWire(t, cs)
		d := nodeWire{w.Connections - base[i].Connections, w.EventsIn - base[i].EventsIn, w.EventsOut - base[i].EventsOut,
			w.AcksIn - base[i].AcksIn, w.AcksOut - base[i].AcksOut}
		spread = append(spread, fmt.Sprintf("%s=%d", c.NodeNames[i], d.Connections))
		if d.Connections > 0 {
			used++
		}
		sum.Connections += d.Connections
		sum.EventsIn += d.EventsIn
		sum.EventsOut += d.EventsOut
		sum.AcksOut += d.AcksOut
	}
	t.Logf("clients per node: %s; broadcasts %d, fanout_received %d", strings.Join(spread, " "), res.Counters["broadcasts"], res.Counters["fanout_received"])
	if res.TotalErrors() != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	if used < 2 {
		t.Fatalf("the proxy put every client on one node (%s): nothing crossed nodes", strings.Join(spread, " "))
	}
	b := res.Counters["broadcasts"]
	if b < clients {
		t.Errorf("broadcasts = %d, want >= %d (one a second per client)", b, clients)
	}
	eq(t, "connections the nodes saw", sum.Connections, clients)
	// Every broadcast reached every member, on its node or another.
	eq(t, "fanout_received", res.Counters["fanout_received"], clients*b)
	eq(t, "chat received", res.Events["chat"], clients*b)
	eq(t, "lost", res.Counters["lost"], 0)
	eq(t, "duplicated", res.Counters["duplicated"], 0)
	// What the nodes wrote, all nodes together: per client "auth" and "node", then every chat
	// delivery; sioload counted each exactly once.
	eq(t, "events the nodes wrote", sum.EventsOut, 2*clients+res.Events["chat"])
	eq(t, "events the nodes read", sum.EventsIn, res.Counters["messages_sent"])
	eq(t, "acks the nodes wrote", sum.AcksOut, res.Counters["acks"])
}
