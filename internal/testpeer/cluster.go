package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The cluster peer (peers/cluster, see peers/README.md "Cluster peer"): several Node socket.io
// 4.8.4 nodes sharing rooms through @socket.io/redis-adapter over a redis-server of their own,
// behind nginx or HAProxy proxies, all on 127.0.0.1 at free ports. One set of nodes serves any
// number of proxies, so a test can put every proxy variant in front of the same nodes.

// daemonStartTimeout bounds how long redis-server, nginx or haproxy may take to listen.
const daemonStartTimeout = 30 * time.Second

// NodeHeader is the response header in which every cluster node names itself (also sent as the
// event "node" right after "auth" on "/").
const NodeHeader = "X-Siokit-Node"

// clusterHint says how to install everything the cluster needs.
const clusterHint = "run `make peers` (peers/install.sh cluster: apt-get install -y nginx haproxy redis-server, and npm ci in peers/cluster)"

func init() {
	specs["cluster-node"] = spec{
		dir: "cluster", script: "node.mjs",
		desc:  "one node of the socket.io 4.8.4 cluster with @socket.io/redis-adapter 8.3.0 (NODE_NAME, REDIS_URL)",
		argv:  []string{"node", "node.mjs"},
		needs: []string{"node_modules/socket.io/package.json", "node_modules/@socket.io/redis-adapter/package.json", "node_modules/redis/package.json", "../node4/handlers.mjs"},
		hint:  clusterHint,
		// Three nodes load socket.io and connect to Redis at once; on a loaded machine that
		// takes far longer than one peer.
		startTimeout: 60 * time.Second,
	}
}

// ClusterOptions configures the nodes of a cluster.
type ClusterOptions struct {
	// Nodes is how many nodes to start; 0 means 3. They are named n1, n2, ….
	Nodes int
	// NoAdapter leaves the Redis adapter (and redis-server) out: every node broadcasts to its
	// own clients only.
	NoAdapter bool
	// Env is passed to every node, e.g. "PING_INTERVAL=2000".
	Env []string
}

// Cluster is a running set of nodes (and their redis-server).
type Cluster struct {
	// Nodes are the node processes, Nodes[i] named NodeNames[i].
	Nodes     []*Peer
	NodeNames []string
	// RedisAddr is "127.0.0.1:<port>" of the adapter's redis-server, "" without adapter.
	RedisAddr string

	redis *daemon
	dir   string
}

func (c *Cluster) countsFile(name string) string { return filepath.Join(c.dir, name+".counts.json") }

// NodeCounts is node i's wire counters as JSON (its "stats" answer), read from the file the node
// rewrites on every change: it holds a node's last counts even after the node was killed.
func (c *Cluster) NodeCounts(i int) ([]byte, error) {
	b, err := os.ReadFile(c.countsFile(c.NodeNames[i]))
	return bytes.TrimRight(b, " "), err
}

// ProxyKind is the reverse proxy program.
type ProxyKind string

// The proxies a cluster can be put behind.
const (
	Nginx   ProxyKind = "nginx"
	HAProxy ProxyKind = "haproxy"
)

// Balance is how a proxy spreads requests over the nodes.
type Balance string

// Balancing methods.
const (
	// HashSourceIP pins a client to a node by its whole source address (nginx
	// `hash $remote_addr consistent`, HAProxy `balance source`): sticky when clients have
	// distinct addresses, e.g. 127.0.0.k.
	HashSourceIP Balance = "hash-ip"
	// RoundRobin sends each request to the next node: not sticky.
	RoundRobin Balance = "round-robin"
	// Cookie: HAProxy inserts a SERVERID cookie and routes by it (sticky for clients that keep
	// cookies). HAProxy only.
	Cookie Balance = "cookie"
)

// ProxyOptions configures one proxy in front of a cluster.
type ProxyOptions struct {
	// Kind is nginx (default) or haproxy.
	Kind ProxyKind
	// Balance defaults to HashSourceIP.
	Balance Balance
	// NoUpgrade does not forward the WebSocket Upgrade (nginx without `proxy_http_version 1.1`
	// and the Upgrade/Connection headers): clients stay on long-polling.
	NoUpgrade bool
	// ReadTimeout is the proxy's idle timeout towards the nodes (nginx proxy_read_timeout,
	// HAProxy timeout server/tunnel); 0 means 60 s.
	ReadTimeout time.Duration
	// AddCORS makes the proxy add its own Access-Control-Allow-Origin on top of the nodes' one
	// (a duplicated CORS header, which browsers refuse).
	AddCORS bool
}

// Proxy is a running nginx or HAProxy in front of a cluster.
type Proxy struct {
	// URL is "http://127.0.0.1:<port>".
	URL  string
	Addr string
	// Dir holds the proxy's configuration, pid, logs and temp files.
	Dir  string
	Opts ProxyOptions

	d *daemon
}

// StartCluster starts the nodes (and, unless NoAdapter, a redis-server for the adapter) and
// stops them in t.Cleanup. A missing program or npm tree fails the test with the command that
// installs it.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	c, err := LaunchCluster(context.Background(), opts, t.TempDir())
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("testpeer: cluster output:\n%s", c.Output())
		}
	})
	return c
}

// LaunchCluster is the non-testing form of StartCluster; dir receives redis-server's files. The
// caller must call Stop.
func LaunchCluster(ctx context.Context, opts ClusterOptions, dir string) (*Cluster, error) {
	n := opts.Nodes
	if n <= 0 {
		n = 3
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("the cluster peer needs Node.js (v20 or newer) on PATH: %v; then %s", err, clusterHint)
	}
	c := &Cluster{dir: dir}
	env := append([]string(nil), opts.Env...)
	if !opts.NoAdapter {
		redisBin, err := findProgram("redis-server")
		if err != nil {
			return nil, err
		}
		c.redis, err = startDaemon(ctx, "redis-server", dir, func(port int) []string {
			return []string{redisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--dir", dir, "--protected-mode", "no", "--daemonize", "no"}
		})
		if err != nil {
			return nil, err
		}
		c.RedisAddr = c.redis.addr
		env = append(env, "REDIS_URL=redis://"+c.RedisAddr)
	}
	type started struct {
		p   *Peer
		err error
	}
	res := make([]started, n)
	var wg sync.WaitGroup
	for i := range n {
		name := "n" + strconv.Itoa(i+1)
		c.NodeNames = append(c.NodeNames, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Launch(ctx, "cluster-node", append([]string{"NODE_NAME=" + name, "COUNTS_FILE=" + c.countsFile(name)}, env...)...)
			res[i] = started{p, err}
		}()
	}
	wg.Wait()
	var errs []error
	for _, r := range res {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		c.Nodes = append(c.Nodes, r.p)
	}
	if len(errs) > 0 {
		c.Stop()
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Stop stops every node and the redis-server; idempotent.
func (c *Cluster) Stop() {
	for _, p := range c.Nodes {
		p.Stop()
	}
	if c.redis != nil {
		c.redis.stop()
	}
}

// StopRedis stops the adapter's redis-server (failover tests); Stop still cleans up.
func (c *Cluster) StopRedis() {
	if c.redis != nil {
		c.redis.stop()
	}
}

// RedisPid is the adapter's redis-server process id (0 without adapter), for tests whose
// faults stall or kill it from a scenario's exec fault.
func (c *Cluster) RedisPid() int {
	if c.redis == nil || c.redis.cmd.Process == nil {
		return 0
	}
	return c.redis.cmd.Process.Pid
}

// Output returns every node's and redis-server's output, each under a header line.
func (c *Cluster) Output() string {
	var b strings.Builder
	for i, p := range c.Nodes {
		fmt.Fprintf(&b, "--- node %s (%s)\n%s", c.NodeNames[i], p.URL, p.Output())
	}
	if c.redis != nil {
		fmt.Fprintf(&b, "--- redis-server (%s)\n%s", c.redis.addr, c.redis.log.String())
	}
	return b.String()
}

// StartProxy starts a proxy in front of every node of c, stopped in t.Cleanup. dir holds the
// proxy's configuration, pid, logs and temp paths.
func (c *Cluster) StartProxy(t testing.TB, opts ProxyOptions) *Proxy {
	t.Helper()
	p, err := c.LaunchProxy(context.Background(), opts, t.TempDir())
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("testpeer: output of %s proxy %s:\n%s", p.Opts.Kind, p.URL, p.Output())
		}
	})
	return p
}

// LaunchProxy is the non-testing form of StartProxy; the caller must call Stop.
func (c *Cluster) LaunchProxy(ctx context.Context, opts ProxyOptions, dir string) (*Proxy, error) {
	if opts.Kind == "" {
		opts.Kind = Nginx
	}
	if opts.Balance == "" {
		opts.Balance = HashSourceIP
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	if opts.Balance == Cookie && opts.Kind != HAProxy {
		return nil, fmt.Errorf("cookie stickiness needs haproxy (nginx's sticky cookie is nginx Plus only)")
	}
	if (opts.NoUpgrade || opts.AddCORS) && opts.Kind != Nginx {
		return nil, fmt.Errorf("NoUpgrade and AddCORS are nginx variants")
	}
	bin, err := findProgram(string(opts.Kind))
	if err != nil {
		return nil, err
	}
	// nginx run as root hands temp files to its worker user; let it traverse dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	p := &Proxy{Dir: dir, Opts: opts}
	conf := filepath.Join(dir, string(opts.Kind)+".conf")
	argv := func(port int) []string {
		var text string
		if opts.Kind == Nginx {
			text = nginxConf(dir, port, c.nodeAddrs(), opts)
		} else {
			text = haproxyConf(port, c.nodeAddrs(), c.NodeNames, opts)
		}
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil
		}
		if opts.Kind == Nginx {
			// master_process off: one process, so stopping it leaves no orphaned worker.
			return []string{bin, "-p", dir, "-c", conf, "-g", "daemon off; master_process off;"}
		}
		return []string{bin, "-f", conf, "-db"}
	}
	p.d, err = startDaemon(ctx, string(opts.Kind), dir, argv)
	if err != nil {
		return nil, err
	}
	p.Addr = p.d.addr
	p.URL = "http://" + p.Addr
	return p, nil
}

// Stop stops the proxy; idempotent.
func (p *Proxy) Stop() { p.d.stop() }

// Output returns the proxy's stdout/stderr and, for nginx, its error log.
func (p *Proxy) Output() string {
	out := p.d.log.String()
	if b, err := os.ReadFile(filepath.Join(p.Dir, "error.log")); err == nil {
		out += "--- error.log\n" + string(b)
	}
	return out
}

func (c *Cluster) nodeAddrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// nginxConf is the proxy configuration of the socket.io documentation ("Using multiple nodes",
// "Behind a reverse proxy") with the variant's deviations.
func nginxConf(dir string, port int, nodes []string, o ProxyOptions) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("pid %s;", filepath.Join(dir, "nginx.pid"))
	p("error_log %s warn;", filepath.Join(dir, "error.log"))
	p("events { worker_connections 1024; }")
	p("http {")
	p("  access_log off;")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p("  %s_temp_path %s;", t, filepath.Join(dir, "tmp", t))
	}
	p("  map $http_upgrade $connection_upgrade { default upgrade; '' close; }")
	p("  upstream nodes {")
	if o.Balance == HashSourceIP {
		p("    hash $remote_addr consistent;")
	}
	for _, n := range nodes {
		p("    server %s;", n)
	}
	p("  }")
	p("  server {")
	p("    listen 127.0.0.1:%d;", port)
	p("    location / {")
	p("      proxy_pass http://nodes;")
	p("      proxy_set_header Host $host;")
	p("      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
	if !o.NoUpgrade {
		p("      proxy_http_version 1.1;")
		p("      proxy_set_header Upgrade $http_upgrade;")
		p("      proxy_set_header Connection $connection_upgrade;")
	}
	p("      proxy_read_timeout %dms;", o.ReadTimeout.Milliseconds())
	if o.AddCORS {
		p("      add_header Access-Control-Allow-Origin * always;")
	}
	p("    }")
	p("  }")
	p("}")
	return b.String()
}

// haproxyConf follows socket.io's examples/cluster-haproxy (without the nbproc HAProxy 2.5
// dropped).
func haproxyConf(port int, nodes, names []string, o ProxyOptions) string {
	ms := o.ReadTimeout.Milliseconds()
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("global")
	p("  maxconn 4096")
	p("defaults")
	p("  mode http")
	p("  option http-server-close")
	p("  timeout connect 5s")
	p("  timeout client %dms", max(ms, 30000))
	p("  timeout server %dms", ms)
	p("  timeout tunnel %dms", ms)
	p("frontend fe")
	p("  bind 127.0.0.1:%d", port)
	p("  default_backend nodes")
	p("backend nodes")
	switch o.Balance {
	case Cookie:
		p("  balance roundrobin")
		p("  cookie SERVERID insert indirect nocache")
	case RoundRobin:
		p("  balance roundrobin")
	default:
		p("  balance source")
		p("  hash-type consistent")
	}
	for i, n := range nodes {
		if o.Balance == Cookie {
			p("  server %s %s cookie %s", names[i], n, names[i])
		} else {
			p("  server %s %s", names[i], n)
		}
	}
	return b.String()
}

// findProgram looks a system program up on PATH and in the sbin directories (Debian puts nginx
// and haproxy in /usr/sbin, which a non-root PATH may lack).
func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("the cluster peer needs %s, which is not installed: %s", name, clusterHint)
}

// daemon is a program that does not follow the peers' launch contract (redis-server, nginx,
// haproxy): it gets a free port picked here and is ready when that port accepts connections.
type daemon struct {
	name string
	addr string
	log  *logBuffer
	cmd  *exec.Cmd
	done chan struct{}

	once sync.Once
}

// startDaemon runs argv(port) at a free port, retrying a few times when the port was taken
// meanwhile, and waits until the port accepts a TCP connection.
func startDaemon(ctx context.Context, name, dir string, argv func(port int) []string) (*daemon, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args := argv(port)
		if args == nil {
			return nil, fmt.Errorf("%s: cannot write its configuration in %s", name, dir)
		}
		d := &daemon{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), log: &logBuffer{}, done: make(chan struct{})}
		d.log.mark(fmt.Sprintf("--- testpeer: starting %s (%s)\n", name, strings.Join(args, " ")))
		d.cmd = exec.Command(args[0], args[1:]...)
		d.cmd.Dir = dir
		d.cmd.Stdout = d.log
		d.cmd.Stderr = d.log
		d.cmd.WaitDelay = time.Second
		setDeathSignal(d.cmd)
		if err := d.cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		go func() { _ = d.cmd.Wait(); close(d.done) }()
		err = d.waitReady(ctx)
		if err == nil {
			return d, nil
		}
		d.stop()
		lastErr = err
		if !strings.Contains(strings.ToLower(d.log.String()), "in use") {
			break
		}
	}
	return nil, lastErr
}

// waitReady waits until the daemon's port accepts a connection (and, for redis, answers PING).
func (d *daemon) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(daemonStartTimeout)
	for {
		select {
		case <-d.done:
			return fmt.Errorf("%s exited before listening on %s; output:\n%s", d.name, d.addr, d.log.String())
		default:
		}
		conn, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			ok := true
			if d.name == "redis-server" {
				_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
				_, _ = conn.Write([]byte("PING\r\n"))
				line, _ := bufio.NewReader(conn).ReadString('\n')
				ok = strings.HasPrefix(line, "+PONG")
			}
			conn.Close()
			if ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within %v; output:\n%s", d.name, d.addr, daemonStartTimeout, d.log.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: start-up aborted: %w", d.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, kills after the grace period and waits; idempotent.
func (d *daemon) stop() {
	d.once.Do(func() { terminate(d.cmd, d.done) })
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Pid returns the process id of the peer's current run, 0 when it is not running (for tests
// that kill a node from outside, as an exec fault does).
func (p *Peer) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.cmd.Process == nil {
		return 0
	}
	return p.proc.cmd.Process.Pid
}
