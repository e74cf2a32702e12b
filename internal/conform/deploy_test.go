package conform

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/server"
)

// deployVariant is one deployment of the cluster peer and what the checks must say about it.
type deployVariant struct {
	name      string
	noAdapter bool
	proxy     testpeer.ProxyOptions
	// failing is the one check that must fail (and its message must contain every want);
	// "" = every check passes.
	failing string
	want    []string
}

// TestDeploymentVariants runs the deployment checks through every variant of the cluster peer
// (three socket.io 4.8.4 nodes, Redis adapter, nginx or HAProxy in front): the correct
// deployments pass every check, and each broken one fails exactly its check, naming the fix.
func TestDeploymentVariants(t *testing.T) {
	// pingInterval 3 s: the idle check waits 2 × 3 s + 1 s; the short timeout (2 s) is below
	// the interval, so an idle WebSocket gets cut while the other checks, which never leave a
	// connection silent that long, are unaffected.
	env := []string{"PING_INTERVAL=3000", "PING_TIMEOUT=2000"}
	clusters := map[bool]*testpeer.Cluster{}
	clusters[false] = testpeer.StartCluster(t, testpeer.ClusterOptions{Env: env})
	clusters[true] = testpeer.StartCluster(t, testpeer.ClusterOptions{Env: env, NoAdapter: true})

	variants := []deployVariant{
		{name: "sticky-nginx"},
		{name: "sticky-haproxy-cookie", proxy: testpeer.ProxyOptions{Kind: testpeer.HAProxy, Balance: testpeer.Cookie}},
		{name: "round-robin", proxy: testpeer.ProxyOptions{Balance: testpeer.RoundRobin}, failing: DeploySticky,
			want: []string{"the load balancer is not sticky: ", " of 20 sessions got 400 Session ID unknown", "hash $remote_addr consistent"}},
		{name: "websocket-blocked", proxy: testpeer.ProxyOptions{NoUpgrade: true}, failing: DeployWebSocket,
			want: []string{"instead of 101", "clients will stay on HTTP long-polling", "proxy_set_header Upgrade $http_upgrade"}},
		{name: "short-read-timeout", proxy: testpeer.ProxyOptions{ReadTimeout: 2 * time.Second}, failing: DeployIdle,
			want: []string{"the proxy cut an idle WebSocket session", "pingInterval 3s", "proxy_read_timeout"}},
		{name: "no-adapter", noAdapter: true, failing: DeployBroadcast,
			want: []string{"clients missed a room broadcast", "do not share broadcasts", "@socket.io/redis-adapter"}},
		{name: "cors-twice", proxy: testpeer.ProxyOptions{AddCORS: true}, failing: DeployCORS,
			want: []string{"Access-Control-Allow-Origin sent 2 times (*, *)", "set CORS in one place"}},
	}
	for _, v := range variants {
		proxy := clusters[v.noAdapter].StartProxy(t, v.proxy)
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			rep, err := RunDeployment(ctx, DeployConfig{URL: proxy.URL})
			if err != nil {
				t.Fatalf("RunDeployment: %v", err)
			}
			if len(rep.Results) != len(deployChecks) {
				t.Fatalf("%d results, want %d", len(rep.Results), len(deployChecks))
			}
			for _, res := range rep.Results {
				want := Pass
				if res.ID == v.failing {
					want = Fail
				}
				if res.Verdict != want {
					t.Errorf("%s: verdict %s, want %s: %s\n%s", res.ID, res.Verdict, want, res.Message, res.Diff)
					continue
				}
				for _, w := range v.want {
					if res.ID == v.failing && !strings.Contains(res.Message, w) {
						t.Errorf("%s: message lacks %q:\n%s", res.ID, w, res.Message)
					}
				}
				t.Logf("%s %s: %s", res.Verdict, res.ID, res.Message)
			}
		})
	}
}

// TestDeploymentWithoutHandlers: nodes without the test handlers (a stock Socket.IO server;
// here the built-in target dropping every event) make the checks that need them errors that
// say so at once, not a failure after the check's time limit naming a proxy setting ("raise
// the proxy's idle timeout"); the checks that need no handler still judge.
func TestDeploymentWithoutHandlers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := target.New(target.Options{DropRatio: 1, Server: server.Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, CORSOrigin: "*"}})
	done := make(chan error, 1)
	go func() { done <- tg.Serve(ln) }()
	t.Cleanup(func() { tg.Close(); <-done })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := RunDeployment(ctx, DeployConfig{URL: "http://" + ln.Addr().String(), Sessions: 4, Clients: 3})
	if err != nil {
		t.Fatalf("RunDeployment: %v", err)
	}
	needs := map[string]bool{DeploySticky: true, DeployIdle: true, DeployBroadcast: true}
	for _, res := range rep.Results {
		switch {
		case needs[res.ID] && (res.Verdict != Error || !strings.Contains(res.Message, "does not answer the test events (no message-back") ||
			!strings.Contains(res.Message, "peers/README.md") || strings.Contains(res.Message, "proxy")):
			t.Errorf("%s: %s %q, want an error naming the missing handlers", res.ID, res.Verdict, res.Message)
		case !needs[res.ID] && res.Verdict != Pass:
			t.Errorf("%s: %s %q, want pass", res.ID, res.Verdict, res.Message)
		}
	}
	if rep.Duration > 20*time.Second {
		t.Errorf("took %v: the checks waited out their time limits", rep.Duration)
	}
}
