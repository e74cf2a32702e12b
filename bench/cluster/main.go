// Command cluster starts the cluster peer (three socket.io 4.8.4 nodes with the Redis adapter)
// and three nginx proxies in front of it, prints where they are as shell assignments, and stops
// everything when its stdin closes or it gets SIGINT/SIGTERM. bench/cluster.sh runs the tools
// against it at full size; it is also a way to try the deployment checks by hand:
//
//	go run ./bench/cluster   # then, in another shell, sioconform run --url $STICKY --deployment
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/siokit/siokit/internal/testpeer"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "siokit-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	cdir := filepath.Join(dir, "cluster")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return err
	}
	c, err := testpeer.LaunchCluster(ctx, testpeer.ClusterOptions{}, cdir)
	if err != nil {
		return err
	}
	defer c.Stop()
	proxies := []struct {
		name string
		opts testpeer.ProxyOptions
	}{
		{"STICKY", testpeer.ProxyOptions{}},
		{"ROUND_ROBIN", testpeer.ProxyOptions{Balance: testpeer.RoundRobin}},
		{"NO_UPGRADE", testpeer.ProxyOptions{NoUpgrade: true}},
	}
	for _, p := range proxies {
		pd := filepath.Join(dir, strings.ToLower(p.name))
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return err
		}
		px, err := c.LaunchProxy(ctx, p.opts, pd)
		if err != nil {
			return err
		}
		defer px.Stop()
		fmt.Printf("%s=%s\n", p.name, px.URL)
	}
	var pids []string
	for i, n := range c.Nodes {
		fmt.Printf("NODE_%s=%s\n", strings.ToUpper(c.NodeNames[i]), n.URL)
		pids = append(pids, fmt.Sprint(n.Pid()))
	}
	fmt.Printf("NODE_PIDS=%q\nREDIS_PID=%d\nCOUNTS_DIR=%s\nREADY=1\n", strings.Join(pids, " "), c.RedisPid(), cdir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	stdin := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdin) }()
	select {
	case <-sig:
	case <-stdin:
	}
	return nil
}
