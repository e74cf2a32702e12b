#!/usr/bin/env bash
# Many concurrent WebSocket clients on this machine against the built-in
# target, both sides several processes: `sioload serve --workers S` (one
# port, SO_REUSEPORT) and `sioload run --workers auto` (one segment per
# process, each with a source address of its own in 127.0.0.0/8). Every
# client connects during the ramp, then all of them stay connected and
# answer the server's heartbeats (Node's default: a ping every 25 s, 20 s
# to answer) through the hold.
#
# Prints the connect rate, memory per client and CPU of both sides, and
# fails (exit 1) unless every client connected, none disconnected before
# the end (every disconnect counted is the clients' own, when the load ends), no
# error was counted and every client answered at least the pings due
# during the hold.
#
# Usage: bench/scale.sh [clients] [hold]   (default 100000 clients, 60s)
# Environment: RATE connects per second during the ramp (default 500: 100,000 clients take a 200 s ramp),
# SERVER_WORKERS (default one per 15000 clients, at least 2),
# CLIENT_WORKERS (default auto: under the open-files limit); KEEP=DIR keeps
# the result JSON, the logs and the samples there.
# Needs clients/15000 × ~30 KiB of memory per side; 100000 clients ≈ 3 GiB
# per side.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-100000}
hold=${2:-60s}
rate=${RATE:-500}
server_workers=${SERVER_WORKERS:-$(((clients + 14999) / 15000))}
if [ "$server_workers" -lt 2 ]; then server_workers=2; fi
client_workers=${CLIENT_WORKERS:-auto}
ramp=$(((clients + rate - 1) / rate))
hold_s=${hold%s}

tmp=$(mktemp -d)
serve_pid=""
run_pid=""
cleanup() {
	for p in $run_pid $serve_pid; do kill -INT "$p" 2>/dev/null || true; done
	for p in $run_pid $serve_pid; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$tmp"/*.json "$tmp"/*.err "$tmp"/samples "$KEEP"/ 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/sioload" ./cmd/sioload

# sample RUN_PID SERVER_PIDS...: every 2 s, one line "epoch cpu rss cpu rss"
# with CPU seconds (user+sys) and RSS bytes summed over the generator's
# workers (the children of RUN_PID) and over the target's workers, until
# killed.
sample() {
	exec python3 -u - "$@" <<'PY'
import os, sys, time
tck, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
run, server = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
def stat(p):
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return int(f[1]), (int(f[11]) + int(f[12])) / tck, int(f[21]) * page
    except (OSError, IndexError, ValueError):
        return None
while True:
    kids = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            s = stat(e)
            if s and s[0] == run:
                kids.append(s)
    srv = [s for s in map(stat, server) if s]
    print(f"{time.time():.2f} {sum(k[1] for k in kids):.2f} {sum(k[2] for k in kids)} {sum(s[1] for s in srv):.2f} {sum(s[2] for s in srv)} {len(kids)} {len(srv)}")
    time.sleep(2)
PY
}

# Loopback packets the kernel dropped so far (its per-CPU backlog full:
# net.core.netdev_max_backlog), summed over the CPUs.
drops() {
	local n=0 d
	while read -r _ d _; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	echo "$n"
}
backlog=$(cat /proc/sys/net/core/netdev_max_backlog 2>/dev/null || echo 0)
if [ "$clients" -gt 40000 ] && [ "$backlog" -lt 10000 ]; then
	echo "note: net.core.netdev_max_backlog is $backlog: on a loaded machine loopback drops packets at this scale (sysctl -w net.core.netdev_max_backlog=65536)"
fi
drops0=$(drops)
echo "== $clients WebSocket clients, ramp ${ramp}s (~$rate/s), hold $hold; target: $server_workers processes; generator: --workers $client_workers"
"$tmp/sioload" serve --workers "$server_workers" --addr 127.0.0.1:0 2>"$tmp/serve.err" &
serve_pid=$!
for _ in $(seq 100); do grep -q '^sioload: worker pids' "$tmp/serve.err" && break; sleep 0.2; done
url=$(grep -o 'built-in target on http://[0-9.:]*' "$tmp/serve.err" | grep -o 'http://.*')
server_pids=$(grep '^sioload: worker pids' "$tmp/serve.err" | grep -o ':[0-9]*' | tr -d ':' | tr '\n' ' ')
echo "target $url, worker pids $server_pids"

cat >"$tmp/scale.yaml" <<EOF
name: scale
transport: websocket
load: {model: closed, clients: $clients, ramp: ${ramp}s, hold: $hold, grace: 5s}
timeouts: {handshake: 30s, connect: 30s}
flow:
  - connect: {}
EOF
"$tmp/sioload" run "$tmp/scale.yaml" --workers "$client_workers" --target "$url" --out "$tmp/result.json" --interval 1s \
	>"$tmp/summary.txt" 2>"$tmp/run.err" &
run_pid=$!

sample "$run_pid" $server_pids >"$tmp/samples" &
sample_pid=$!

rc=0
wait "$run_pid" || rc=$?
run_pid=""
sleep 2
kill "$sample_pid"
grep -v 'msgs/s' "$tmp/run.err" || true
echo "sioload run exit status $rc; loopback packets dropped by the kernel during the run: $(($(drops) - drops0)); load average $(cut -d' ' -f1-3 /proc/loadavg)"

ok=0
python3 - "$tmp/result.json" "$clients" "$rc" "$ramp" "$hold_s" <<'PY' || ok=$?
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); rc = int(sys.argv[3]); ramp = int(sys.argv[4]); hold = float(sys.argv[5])
c = r["counters"]; h = r.get("health") or {}
ok = True
def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok = ok and cond
tl = r.get("timeline") or {}
ivs = tl.get("intervals") or []
full = next((iv for iv in ivs if iv["clients_connected"] >= n), None)
errs = sum((r.get("errors") or {}).values())
disc = r.get("disconnects") or {}
pings = c.get("packets_received", 0) - n  # less one CONNECT answer each
due = n * int(hold // 25)
check(rc == 0, "sioload run exit status 0")
check(c.get("clients_started") == n and r.get("peak_clients") == n, f"{r.get('peak_clients')} of {n} clients connected ({c.get('clients_started')} started)")
# The clients' own disconnects come when the load ends (those still closing
# after the engine's 5 s close bound are not counted at all).
check(set(disc) <= {"io client disconnect"}, f"no disconnect but the clients' own at the end: {disc}")
check(errs == 0, f"errors {errs} {r.get('errors') or {}}")
check(pings >= due, f"{pings} pings answered, {pings / n:.1f} per client; at least {due} due during the {hold:.0f} s hold")
print()
if full:
    t = full["t"] + full["seconds"]
    print(f"connect rate      {n / t:8.0f} clients/s  (all {n} connected {t:.0f} s after the start; ramp {ramp} s)")
else:
    print(f"connect rate      the merged timeline never shows all {n} at once (workers' intervals drift apart on a loaded machine)")
sys.exit(0 if ok else 1)
PY
grep -E '(handshake|connect) +│' "$tmp/summary.txt" | sed 's/^/latency /' || true
python3 - "$tmp/samples" "$tmp/result.json" "$clients" "$ramp" "${hold_s}" <<'PY'
import datetime, json, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
r = json.load(open(sys.argv[2])); n, ramp, hold = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
t0 = datetime.datetime.fromisoformat(r["start"].replace("Z", "+00:00")).timestamp()
# While every client is connected and nothing else happens: from 5 s
# after the last one connected (or the ramp's end) to 5 s before the hold's end.
full = next((iv for iv in (r.get("timeline") or {}).get("intervals") or [] if iv["clients_connected"] >= n), None)
since = max(ramp, full["t"] + full["seconds"] if full else 0) + 5
win = [x for x in rows if t0 + since <= x[0] <= t0 + ramp + hold - 5 and x[5] > 0]
if len(win) >= 2:
    a, b = win[0], win[-1]; dt = b[0] - a[0]
    crss, srss = max(x[2] for x in win), max(x[4] for x in win)
    print(f"memory per client {crss / n / 1024:8.1f} KiB generator, {srss / n / 1024:.1f} KiB target  (RSS of all workers during the hold: {crss / 2**20:.0f} MiB, {srss / 2**20:.0f} MiB)")
    print(f"cpu during hold   {(b[1] - a[1]) / dt:8.2f} cores generator, {(b[3] - a[3]) / dt:.2f} cores target  ({dt:.0f} s of heartbeats only)")
else:
    print("memory, cpu       no sample while all clients were connected (the ramp took the whole hold)")
last = [x for x in rows if x[6] > 0]
gen = [x for x in rows if x[5] > 0]
if last and gen:
    print(f"cpu whole run     {(r.get('health') or {}).get('cpu_seconds', 0):8.1f} s generator, {last[-1][3]:.1f} s target  (ramp, hold, close)")
PY
if [ "$ok" != 0 ]; then echo "== target's log"; tail -20 "$tmp/serve.err"; fi
exit $ok
