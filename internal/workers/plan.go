package workers

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/siokit/siokit/scenarios"
)

// fdHeadroom is the share of a process's open files its clients may use:
// the rest is for the Go runtime, the log files, a drop proxy's second
// leg and connections still closing.
const fdHeadroom = 0.9

// portHeadroom is the share of a source address's ephemeral ports its
// clients may use. A client bound to a source address gets its port from
// bind(port 0), and Linux (since 4.6) gives bind the odd half of the
// range only, leaving the even half to connect(); once the odd half is
// used up every bind scans the whole range: measured here, 14 ms per
// 1000 binds up to 13,000 ports of one address, 10 s per 1000 past
// 14,116 (half of 28,232). At 100,000 clients that froze both sides. So
// at most 85 % of the half, leaving room for TIME_WAIT and other programs.
const portHeadroom = 0.425

// ConnsPerClient is how many TCP connections one virtual client of s
// holds at most: one WebSocket, or over long-polling a pending GET and a
// POST (upgrade keeps its polling connections pooled while it upgrades).
func ConnsPerClient(s *scenarios.Scenario) int {
	if s.Transport == scenarios.TransportWebSocket {
		return 1
	}
	return 2
}

// clients is the number of concurrent clients s reaches at most.
func clients(s *scenarios.Scenario) int {
	if s.Load.Model == scenarios.ModelOpen {
		return s.Load.MaxClients
	}
	return s.Load.Clients
}

// share is part i of n's share of total (the remainder to the first
// parts), as load.Segment splits clients.
func share(total, i, n int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// FileLimit returns this process's open-files limit. The Go runtime has
// raised the soft limit to the hard one at start, and so will every
// worker's.
func FileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1024
	}
	if rl.Cur > 1<<30 {
		return 1 << 30
	}
	return int(rl.Cur)
}

// Auto is the number of workers s needs (sioload run --workers auto):
// enough that no worker holds more connections than fdHeadroom of the
// open-files limit fileLimit, at least 1 and at most one per client. why
// says how it was computed.
func Auto(s *scenarios.Scenario, fileLimit int) (n int, why string) {
	per := max(int(float64(fileLimit)*fdHeadroom)-100, 1)
	c := clients(s)
	conns := c * ConnsPerClient(s)
	n = max((conns+per-1)/per, 1)
	n = min(n, max(c, 1))
	return n, fmt.Sprintf("%d clients × %d connection(s) over at most %d per process (open-files limit %d): %d worker(s)", c, ConnsPerClient(s), per, fileLimit, n)
}

// LocalPorts is the number of ephemeral ports of this machine
// (net.ipv4.ip_local_port_range), 28232 (Linux's default) if unreadable.
func LocalPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && hi >= lo {
				return hi - lo + 1
			}
		}
	}
	return 28232
}

// SourcePlan gives each of n workers source addresses of its own in
// 127.0.0.0/8 (127.200.i.1, 127.200.i.2, ... for worker i) when the
// clients of s need more ports than one address has towards the target
// (localPorts ephemeral ports, portHeadroom of them usable); nil when one
// address does (portHeadroom), when the scenario sets source_addrs (each worker then
// spreads its clients over all of them), or when the target is not on
// loopback (127.x cannot reach it). note, if not "", says what the plan
// could not do.
func SourcePlan(s *scenarios.Scenario, target string, n, localPorts int) (plan [][]string, note string) {
	if len(s.SourceAddrs) > 0 || n < 1 {
		return nil, ""
	}
	usable := max(int(float64(localPorts)*portHeadroom), 1)
	cpc := ConnsPerClient(s)
	if clients(s)*cpc <= usable {
		return nil, ""
	}
	if !loopback(target, s.Targets) {
		return nil, fmt.Sprintf("%d clients need more than the ~%d ports of one source address; the target is not on loopback, so no 127.x address is given: set source_addrs to addresses of this host", clients(s), usable)
	}
	if n > 256 {
		return nil, fmt.Sprintf("%d workers: source addresses are planned for 256 at most; set source_addrs", n)
	}
	plan = make([][]string, n)
	for i := range n {
		k := (share(clients(s), i, n)*cpc + usable - 1) / usable
		k = max(min(k, 254), 1)
		// A part's client n takes source_addrs[n % len] (as one process
		// would), and a part of n holds only numbers ≡ i (mod n): k
		// addresses as they are would leave some unused whenever k and n
		// share a factor. Each address is listed n times in a row, so that
		// the part's clients take the k addresses in turn.
		for p := range k * n {
			plan[i] = append(plan[i], fmt.Sprintf("127.200.%d.%d", i, p/n%k+1))
		}
	}
	return plan, ""
}

// Addresses returns the distinct addresses of a worker's plan, in order.
func Addresses(plan []string) []string {
	var out []string
	for _, a := range plan {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// loopback reports whether every target URL's host is a loopback
// address or "localhost".
func loopback(target string, targets []string) bool {
	all := targets
	if target != "" {
		all = []string{target}
	}
	if len(all) == 0 {
		return false
	}
	for _, t := range all {
		u, err := url.Parse(t)
		if err != nil {
			return false
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); !(h == "localhost" || ip != nil && ip.IsLoopback() && ip.To4() != nil) {
			return false
		}
	}
	return true
}
