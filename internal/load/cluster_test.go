package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/metrics"
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

// oneBroadcast makes cluster-broadcast.yaml's clients broadcast once each, 2 s after joining
// (not 0.5 s: on a loaded machine the last client may join later than that) and well before
// the load ends (hold 3.5 s), instead of once a second until the end, so that no broadcast races
// a late join or the clients' closing: every count is exact on a slow machine too.
var oneBroadcast = []string{"every: 1s}\n", "}\n  - think: 30s\n", "think: 500ms", "think: 2s"}

func readNodeWire(t *testing.T, s *client.Socket) nodeWire {
	t.Helper()
	return askStats[nodeWire](t, s, 20*time.Second)
}

// statsConn opens a stats connection straight to a node (closed at the test's end) and returns
// it with the node's counters as a baseline, taken once the connection itself is counted.
func statsConn(t *testing.T, url string) (*client.Socket, nodeWire) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	s, err := client.Connect(ctx, url, nil, &client.Options{Mode: client.WebSocketOnly})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Conn().Close() })
	// The first answer may precede the node's count of this very connection's events.
	readNodeWire(t, s)
	return s, readNodeWire(t, s)
}

// testChatAcrossClusterNodes runs the shipped cluster-broadcast scenario (room broadcasts) through the
// cluster peer's sticky nginx, each virtual client from its own source address so that the
// proxy spreads them over the three nodes, and compares sioload's counts with what the nodes
// counted: every broadcast reached every member whichever node holds it (through the Redis
// adapter), and every event the nodes wrote was counted exactly once by sioload.
func testChatAcrossClusterNodes(t *testing.T, c *testpeer.Cluster) {
	const clients = 12
	proxy := c.StartProxy(t, testpeer.ProxyOptions{})
	// One stats connection per node, straight to the node, opened before the baseline.
	counters := make([]*client.Socket, len(c.Nodes))
	base := make([]nodeWire, len(c.Nodes))
	for i, n := range c.Nodes {
		counters[i], base[i] = statsConn(t, n.URL)
	}
	// The shipped scenario names a loopback proxy and 20 source addresses: keep them, point
	// it at this proxy.
	s := variant(t, "cluster-broadcast.yaml", clients, 3500*time.Millisecond, append(oneBroadcast, "target: http://127.0.0.1:8080", "target: "+proxy.URL)...)
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
		// sioload's sessions per node (from the nodes' "node" event) are the nodes' own count.
		eq(t, "sessions sioload saw on "+c.NodeNames[i], res.Nodes[c.NodeNames[i]], d.Connections)
		if d.Connections > 0 {
			used++
		}
		sum.Connections += d.Connections
		sum.EventsIn += d.EventsIn
		sum.EventsOut += d.EventsOut
		sum.AcksOut += d.AcksOut
	}
	first, last := res.StatsOf("fanout_first"), res.StatsOf("fanout_last")
	t.Logf("clients per node: %s; broadcasts %d, fanout_received %d; fanout_first p50 %v p99 %v, fanout_last p50 %v p99 %v",
		strings.Join(spread, " "), res.Counters["broadcasts"], res.Counters["fanout_received"], first.P50, first.P99, last.P50, last.P99)
	if res.TotalErrors() != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	if used < 2 {
		t.Fatalf("the proxy put every client on one node (%s): nothing crossed nodes", strings.Join(spread, " "))
	}
	b := res.Counters["broadcasts"]
	eq(t, "broadcasts", b, clients)
	eq(t, "connections the nodes saw", sum.Connections, clients)
	// Every broadcast reached every member, on its node or another.
	eq(t, "fanout_received", res.Counters["fanout_received"], clients*b)
	eq(t, "chat received", res.Events["chat"], clients*b)
	eq(t, "lost", res.Counters["lost"], 0)
	eq(t, "duplicated", res.Counters["duplicated"], 0)
	// Every delivery is classified: on the sender's node or across nodes.
	same, cross := res.StatsOf("fanout_same_node"), res.StatsOf("fanout_cross_node")
	t.Logf("same node: n=%d p50 %v p99 %v; cross node: n=%d p50 %v p99 %v", same.Count, same.P50, same.P99, cross.Count, cross.P50, cross.P99)
	eq(t, "same + cross node deliveries", same.Count+cross.Count, res.Counters["fanout_received"])
	if cross.Count == 0 || same.Count == 0 {
		t.Errorf("same-node %d, cross-node %d deliveries: want both (clients on %d nodes)", same.Count, cross.Count, used)
	}
	// What the nodes wrote, all nodes together: per client "auth" and "node", then every chat
	// delivery; sioload counted each exactly once.
	eq(t, "events the nodes wrote", sum.EventsOut, 2*clients+res.Events["chat"])
	eq(t, "events the nodes read", sum.EventsIn, res.Counters["messages_sent"])
	eq(t, "acks the nodes wrote", sum.AcksOut, res.Counters["acks"])
}

// nodeOf asks the proxy which node serves source address addr (a polling handshake from it).
func nodeOf(t *testing.T, proxyURL, addr string) string {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 10 * time.Second}
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(proxyURL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	n := resp.Header.Get(testpeer.NodeHeader)
	if resp.StatusCode != 200 || n == "" {
		t.Fatalf("handshake from %s: %d, node %q", addr, resp.StatusCode, n)
	}
	return n
}

// TestNodeFailoverExec runs the shipped node-failover scenario through the cluster's sticky
// nginx; its exec fault kills (SIGKILL) the node that holds the most clients. Exactly the
// clients of that node reconnect, all through the proxy to the surviving nodes, none fails to
// come back, no echo is counted twice, and at most the one echo in flight per broken session
// is lost.
func TestNodeFailoverExec(t *testing.T) {
	const clients = 9
	c := testpeer.StartCluster(t, testpeer.ClusterOptions{})
	proxy := c.StartProxy(t, testpeer.ProxyOptions{})
	addrs := make([]string, clients)
	perNode := map[string]int{}
	for i := range addrs {
		addrs[i] = fmt.Sprintf("127.0.0.%d", i+2)
		perNode[nodeOf(t, proxy.URL, addrs[i])]++
	}
	victim := 0
	for i, n := range c.NodeNames {
		if perNode[n] > perNode[c.NodeNames[victim]] {
			victim = i
		}
	}
	k := int64(perNode[c.NodeNames[victim]])
	t.Logf("clients per node before: %v; killing %s (%d clients)", perNode, c.NodeNames[victim], k)
	var survivors []*client.Socket
	var survivorNames []string
	var base []nodeWire
	for i, n := range c.Nodes {
		if i == victim {
			continue
		}
		s, w := statsConn(t, n.URL)
		survivors = append(survivors, s)
		survivorNames = append(survivorNames, c.NodeNames[i])
		base = append(base, w)
	}
	quoted := make([]string, len(addrs))
	for i, a := range addrs {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	victimBase := fileWire(t, c, victim)
	s := variant(t, "node-failover.yaml", clients, 4*time.Second,
		"transport: websocket", "transport: websocket\ntarget: "+proxy.URL+"\nsource_addrs: ["+strings.Join(quoted, ", ")+"]",
		"at: 10s", "at: 1500ms",
		"$NODE_PID", fmt.Sprint(c.Nodes[victim].Pid()))
	res, err := Run(context.Background(), s, Options{Target: proxy.URL, Reconnect: fastReconnect})
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes[victim].Running() {
		t.Fatalf("the exec fault did not kill node %s (errors %v)", c.NodeNames[victim], res.Errors)
	}
	var after []string
	var conns, answered int64
	for i, sock := range survivors {
		w := readNodeWire(t, sock)
		d := w.Connections - base[i].Connections
		conns += d
		answered += w.EventsIn - base[i].EventsIn
		after = append(after, fmt.Sprintf("%s=%d", survivorNames[i], d))
	}
	// The dead node's counts, as it left them in its counts file.
	dead := fileWire(t, c, victim)
	answered += dead.EventsIn - victimBase.EventsIn
	t.Logf("sessions on the survivors: %s; counters %v errors %v disconnects %v; reconnect p50 %v",
		strings.Join(after, " "), res.Counters, res.Errors, res.Disconnects, res.StatsOf("reconnect").P50)
	eq(t, "reconnects", res.Counters["reconnects"], k)
	eq(t, "reconnect samples", res.Latency("reconnect").TotalCount(), k)
	eq(t, "reconnect_failed", res.Counters["reconnect_failed"], 0)
	eq(t, "duplicated", res.Counters["duplicated"], 0)
	// The survivors' own clients plus every client of the dead node, once each.
	eq(t, "sessions on the surviving nodes", conns, clients)
	// Where sioload saw its sessions: the dead node's k first sessions, then the survivors'.
	eq(t, "sessions sioload saw on "+c.NodeNames[victim], res.Nodes[c.NodeNames[victim]], k)
	var seen int64
	for _, n := range survivorNames {
		seen += res.Nodes[n]
	}
	eq(t, "sessions sioload saw on the survivors", seen, clients)
	// The loss as the nodes counted it: every echo request a node read it answered at once, so
	// a request sioload sent that no node read died unread in the killed node's socket, and an
	// echo a node wrote that sioload never got died in the killed node's buffers. sioload's
	// lost is exactly the sum, and at most one per broken session.
	sent, got := res.Counters["messages_sent"], res.Events["echo"]
	unread, undelivered := sent-answered, answered-got
	t.Logf("sent %d, read and answered by the nodes %d (the dead one %d), echoes received %d: lost %d = %d never read + %d never delivered",
		sent, answered, dead.EventsIn-victimBase.EventsIn, got, res.Counters["lost"], unread, undelivered)
	if unread < 0 || undelivered < 0 {
		t.Errorf("the nodes answered %d echo requests of %d sent, %d came back: more than was sent or answered", answered, sent, got)
	}
	eq(t, "lost (the nodes' count: sent - answered + answered - received)", res.Counters["lost"], unread+undelivered)
	if l := res.Counters["lost"]; l > k {
		t.Errorf("lost = %d, want <= %d (one in flight per broken session)", l, k)
	}
	// A broken session's operations while it is away fail: the echo in flight (wait_timeout)
	// and emits before the reconnect (emit_error, then wait_timeout). The session end itself is
	// the exec fault's, not an error.
	for kind := range res.Errors {
		if kind != "wait_timeout" && kind != "emit_error" {
			t.Errorf("error %s = %d: only wait_timeout and emit_error (operations of the broken sessions) are expected", kind, res.Errors[kind])
		}
	}
	if res.Errors["wait_timeout"] < res.Counters["lost"] {
		t.Errorf("lost %d echoes but only %d wait timeouts", res.Counters["lost"], res.Errors["wait_timeout"])
	}
}

// fileWire reads node i's counters from the file the node rewrites on every change, which
// outlives a killed node.
func fileWire(t *testing.T, c *testpeer.Cluster, i int) nodeWire {
	t.Helper()
	b, err := c.NodeCounts(i)
	if err != nil {
		t.Fatal(err)
	}
	var w nodeWire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s's counts file %q: %v", c.NodeNames[i], b, err)
	}
	return w
}

// testUpgradeDegradesBehindBlockingProxy runs transports.yaml with transport: upgrade through
// the cluster's nginx that does not forward the WebSocket Upgrade: every client's upgrade
// fails (upgrade_error, once per client), every client stays on long-polling and every round
// trip still completes. The same run through the correct proxy upgrades everyone; the two ack
// latencies are logged (the cost of degrading), not asserted.
func testUpgradeDegradesBehindBlockingProxy(t *testing.T, c *testpeer.Cluster) {
	const clients = 4
	good := c.StartProxy(t, testpeer.ProxyOptions{})
	blocked := c.StartProxy(t, testpeer.ProxyOptions{NoUpgrade: true})
	addrs := `source_addrs: ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]`
	for _, p := range []struct {
		name   string
		url    string
		failed int64
	}{{"correct proxy", good.URL, 0}, {"WebSocket-blocking proxy", blocked.URL, clients}} {
		s := variant(t, "transports.yaml", clients, 2*time.Second, "transport: polling", "transport: upgrade\n"+addrs)
		res, err := Run(context.Background(), s, Options{Target: p.url})
		if err != nil {
			t.Fatal(err)
		}
		ack := res.StatsOf("ack")
		t.Logf("%s: upgrades %d, errors %v, ack n=%d p50 %v p99 %v", p.name, res.StatsOf("upgrade").Count, res.Errors, ack.Count, ack.P50, ack.P99)
		eq(t, p.name+": upgrade_error", res.Errors["upgrade_error"], p.failed)
		eq(t, p.name+": successful upgrades", res.StatsOf("upgrade").Count, clients-p.failed)
		eq(t, p.name+": acks", res.Counters["acks"], res.Counters["messages_sent"])
		eq(t, p.name+": errors other than upgrade_error", res.TotalErrors()-res.Errors["upgrade_error"], 0)
		if res.Counters["acks"] == 0 {
			t.Errorf("%s: no round trip completed", p.name)
		}
	}
}

// testTargetsSpreadOverNodes runs cluster-broadcast with targets: the three nodes' own URLs
// (no proxy): clients go round robin, exactly 4 per node, and every broadcast still reaches
// every member through the adapter.
func testTargetsSpreadOverNodes(t *testing.T, c *testpeer.Cluster) {
	const clients = 12
	res := broadcastToNodes(t, c, clients)
	for _, n := range c.NodeNames {
		eq(t, "sessions on "+n, res.Nodes[n], clients/3)
	}
	b := res.Counters["broadcasts"]
	eq(t, "broadcasts", b, clients)
	reach := res.StatsOf("fanout_reach")
	t.Logf("broadcasts %d, fanout_received %d, reach (per mille, as µs) min %v max %v, events %v, disconnects %v",
		b, res.Counters["fanout_received"], reach.Min, reach.Max, res.Events, res.Disconnects)
	eq(t, "fanout_received", res.Counters["fanout_received"], clients*b)
	eq(t, "errors", res.TotalErrors(), 0)
	cross := res.StatsOf("fanout_cross_node").Count
	// Each broadcast reaches 4 clients on its sender's node and 8 on the two others.
	eq(t, "cross-node deliveries", cross, 8*b)
	if !strings.Contains(res.Target, c.Nodes[0].URL) || !strings.Contains(res.Target, c.Nodes[2].URL) {
		t.Errorf("report target %q does not name the nodes", res.Target)
	}
}

// broadcastToNodes runs cluster-broadcast (one broadcast per client) with targets: the
// nodes' own URLs, so clients go round robin straight to the nodes, no proxy.
func broadcastToNodes(t *testing.T, c *testpeer.Cluster, clients int) *metrics.Result {
	t.Helper()
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = fmt.Sprintf("%q", n.URL)
	}
	s := variant(t, "cluster-broadcast.yaml", clients, 3500*time.Millisecond,
		append(oneBroadcast, "target: http://127.0.0.1:8080", "targets: ["+strings.Join(urls, ", ")+"]")...)
	res, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCluster runs the load engine against the cluster peer (three socket.io nodes with the
// Redis adapter): one cluster for the checks that leave it intact, one after the other so that
// each sees only its own traffic in the nodes' counters. TestNodeFailoverExec has its own, as it
// kills a node.
func TestCluster(t *testing.T) {
	c := testpeer.StartCluster(t, testpeer.ClusterOptions{})
	t.Run("chat-through-proxy", func(t *testing.T) { testChatAcrossClusterNodes(t, c) })
	t.Run("targets", func(t *testing.T) { testTargetsSpreadOverNodes(t, c) })
	t.Run("upgrade-through-blocking-proxy", func(t *testing.T) { testUpgradeDegradesBehindBlockingProxy(t, c) })
	t.Run("redis-stall", func(t *testing.T) { testRedisStall(t, c) })
	t.Run("no-adapter", testNoAdapter)
}

// testNoAdapter runs cluster-broadcast against nodes that share no adapter, each client straight
// to a node (targets, 4 per node): every broadcast reaches exactly the 4 members on the
// sender's node, none across nodes, and reach shows it (333 per mille).
func testNoAdapter(t *testing.T) {
	const clients = 12
	c := testpeer.StartCluster(t, testpeer.ClusterOptions{NoAdapter: true})
	res := broadcastToNodes(t, c, clients)
	b := res.Counters["broadcasts"]
	eq(t, "broadcasts", b, clients)
	eq(t, "fanout_received", res.Counters["fanout_received"], 4*b)
	eq(t, "same-node deliveries", res.StatsOf("fanout_same_node").Count, 4*b)
	eq(t, "cross-node deliveries", res.StatsOf("fanout_cross_node").Count, 0)
	reach := res.Latency("fanout_reach")
	if reach == nil || reach.Min() != 333 || reach.Max() != 333 {
		t.Errorf("reach per mille: %v, want every broadcast at 333 (4 of 12)", reach)
	}
	eq(t, "errors", res.TotalErrors(), 0)
}

// testRedisStall runs cluster-broadcast, clients straight to the nodes (4 per node), while the
// adapter's redis-server is frozen (SIGSTOP from an exec fault at 300 ms, SIGCONT from another at
// 6 s): every client broadcasts once about 2 s after joining, inside the stall. A node delivers to
// its own room members at once and publishes to the others through Redis, so the same-node
// deliveries are as fast as ever while every cross-node one waits for the stall to end; none is
// lost, and the nodes wrote exactly what sioload counted.
func testRedisStall(t *testing.T, c *testpeer.Cluster) {
	const clients = 12
	pid := c.RedisPid()
	if pid == 0 {
		t.Fatal("the cluster has no redis-server")
	}
	counters := make([]*client.Socket, len(c.Nodes))
	base := make([]nodeWire, len(c.Nodes))
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = fmt.Sprintf("%q", n.URL)
		counters[i], base[i] = statsConn(t, n.URL)
	}
	// Whatever happens, Redis runs again after the test: the cluster's other checks need it.
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	faults := fmt.Sprintf("faults:\n  - {at: 300ms, exec: \"kill -STOP %d\", down: 1s}\n  - {at: 6s, exec: \"kill -CONT %d\", down: 1s}\nthresholds:", pid, pid)
	s := variant(t, "cluster-broadcast.yaml", clients, 7*time.Second,
		append(oneBroadcast, "target: http://127.0.0.1:8080", "targets: ["+strings.Join(urls, ", ")+"]", "thresholds:", faults)...)
	started := time.Now()
	res, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	same, cross := res.StatsOf("fanout_same_node"), res.StatsOf("fanout_cross_node")
	t.Logf("run %v; broadcasts %d, received %d; same node n=%d p50 %v max %v; cross node n=%d min %v p50 %v; errors %v",
		time.Since(started).Round(time.Millisecond), res.Counters["broadcasts"], res.Counters["fanout_received"],
		same.Count, same.P50, same.Max, cross.Count, cross.Min, cross.P50, res.Errors)
	b := res.Counters["broadcasts"]
	eq(t, "broadcasts", b, clients)
	eq(t, "errors", res.TotalErrors(), 0)
	// Nothing lost: Redis queued the publishes and delivered them when it woke up.
	eq(t, "fanout_received", res.Counters["fanout_received"], clients*b)
	eq(t, "same-node deliveries", same.Count, 4*b)
	eq(t, "cross-node deliveries", cross.Count, 8*b)
	// The broadcasts go out about 2.3 s after the start (join, then think 2 s), Redis wakes at 6 s:
	// every cross-node delivery waited for it, every same-node one did not.
	if cross.Min < time.Second {
		t.Errorf("fastest cross-node delivery %v during a Redis stall of 5.7 s: want >= 1s (it waited for Redis)", cross.Min)
	}
	if same.Max >= cross.Min {
		t.Errorf("slowest same-node delivery %v >= fastest cross-node %v: same-node deliveries do not go through Redis", same.Max, cross.Min)
	}
	var out int64
	for i, cs := range counters {
		out += readNodeWire(t, cs).EventsOut - base[i].EventsOut
	}
	eq(t, "events the nodes wrote", out, 2*clients+res.Events["chat"])
}
