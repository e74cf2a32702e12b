package testpeer

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clusterGet sends a polling handshake through url from source address 127.0.0.k and returns
// the status and the node that answered.
func clusterGet(t *testing.T, url string, k int) (int, string, string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(k))}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/socket.io/?EIO=4&transport=polling", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET through %s from 127.0.0.%d: %v", url, k, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get(NodeHeader), string(body)
}

// TestCluster starts three nodes with the Redis adapter behind nginx (source-IP hash) and
// HAProxy (round robin with a cookie), and checks that every node answers through each and
// names itself.
func TestCluster(t *testing.T) {
	c := StartCluster(t, ClusterOptions{})
	if len(c.Nodes) != 3 || c.RedisAddr == "" {
		t.Fatalf("cluster: %d nodes, redis %q", len(c.Nodes), c.RedisAddr)
	}
	for _, opts := range []ProxyOptions{{}, {Kind: HAProxy, Balance: Cookie}} {
		p := c.StartProxy(t, opts)
		seen := map[string]int{}
		for k := 2; k < 32; k++ {
			status, node, body := clusterGet(t, p.URL, k)
			if status != 200 || !strings.HasPrefix(body, `0{"sid":`) {
				t.Fatalf("%s: from 127.0.0.%d: %d %q", opts.Kind, k, status, body)
			}
			seen[node]++
		}
		for _, n := range c.NodeNames {
			if seen[n] == 0 {
				t.Errorf("%s %s: no handshake of 30 reached node %s: %v", opts.Kind, opts.Balance, n, seen)
			}
		}
		if len(seen) != 3 {
			t.Errorf("%s: nodes seen %v, want exactly n1..n3", opts.Kind, seen)
		}
	}
}
