#!/usr/bin/env bash
# The deployment figures of README.md "Testing a deployment", at the shipped scenarios' full
# size: starts the cluster peer (three socket.io 4.8.4 nodes, Redis adapter) behind a sticky
# nginx, a round-robin nginx and one that drops the WebSocket Upgrade (go run ./bench/cluster),
# then runs, as a user would:
#   1. sioconform run --deployment through the round-robin proxy: how many polling sessions die;
#   2. sioload run scenarios/cluster-broadcast.yaml through the sticky proxy (60 clients, 20 s):
#      same-node against cross-node broadcast latency;
#   3. sioload run scenarios/node-failover.yaml through the sticky proxy, killing node n1 at 10 s:
#      reconnect time, and the loss as sioload and as the nodes counted it (the killed node's
#      counters survive it in its counts file);
#   4. scenarios/transports.yaml with transport upgrade through the Upgrade-dropping proxy and
#      with websocket through the sticky one: what degrading to long-polling costs.
# Usage: bench/cluster.sh   (needs the cluster peer: peers/install.sh cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
peers/install.sh cluster node4 >/dev/null
tmp=$(mktemp -d)
cleanup() {
	exec 8>&- 2>/dev/null || true
	[ -n "${cluster_pid:-}" ] && wait "$cluster_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/sioload" ./cmd/sioload
go build -o "$tmp/sioconform" ./cmd/sioconform
go build -o "$tmp/cluster" ./bench/cluster
mkfifo "$tmp/ctl"
# The cluster stops when its stdin (fd 8 here) closes: at the end, or if this script dies.
"$tmp/cluster" <"$tmp/ctl" >"$tmp/env" 2>"$tmp/cluster.err" &
cluster_pid=$!
exec 8>"$tmp/ctl"
for _ in $(seq 600); do
	grep -q '^READY=1' "$tmp/env" 2>/dev/null && break
	kill -0 "$cluster_pid" 2>/dev/null || { cat "$tmp/cluster.err"; exit 1; }
	sleep 0.1
done
# shellcheck disable=SC1091
. "$tmp/env"

echo "== 1. sioconform run --url ROUND_ROBIN --deployment --only deploy.sticky"
"$tmp/sioconform" run --url "$ROUND_ROBIN" --deployment --only deploy.sticky 2>&1 | grep -E 'sticky|pass|fail' | head -5 || true
echo "   and through the sticky proxy (every check but deploy.idle, which waits 2 x pingInterval + 1 s = 51 s):"
"$tmp/sioconform" run --url "$STICKY" --deployment --skip deploy.idle 2>&1 | tail -1 || true

stats() { # label json metric...
	python3 - "$@" <<'PY'
import json, sys
label, path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
r = json.load(open(path))
ls = r.get("latency_stats") or {}
out = []
for n in names:
    s = ls.get(n)
    if s:
        out.append(f"{n} n={s['count']} p50 {s['p50']:.1f} ms p99 {s['p99']:.1f} ms max {s['max']:.1f} ms")
print(f"   {label}: " + "; ".join(out))
c = r.get("counters", {})
keys = ["messages_sent", "acks", "broadcasts", "fanout_received", "lost", "duplicated", "reconnects", "reconnect_failed"]
print("   counters: " + ", ".join(f"{k} {c[k]}" for k in keys if c.get(k)) + f"; errors {r.get('errors', {})}; sessions per node {r.get('nodes', {})}")
PY
}

echo "== 2. sioload run scenarios/cluster-broadcast.yaml --target STICKY (60 clients, 20 s)"
"$tmp/sioload" run scenarios/cluster-broadcast.yaml --target "$STICKY" --quiet --out "$tmp/bcast.json" >/dev/null || true
stats "broadcast" "$tmp/bcast.json" fanout_same_node fanout_cross_node fanout_last

echo "== 3. NODE_PID=<n1> sioload run scenarios/node-failover.yaml --target STICKY (60 clients, kill at 10 s)"
# From cluster-broadcast's 20 source addresses, so that the proxy spreads the clients over the nodes.
{ grep '^source_addrs:' scenarios/cluster-broadcast.yaml; cat scenarios/node-failover.yaml; } >"$tmp/node-failover.yaml"
counts() { python3 -c 'import json,glob,sys; print(sum(json.loads(open(f).read().strip())["eventsIn"] for f in glob.glob(sys.argv[1] + "/*.counts.json")))' "$COUNTS_DIR"; }
before=$(counts)
victim=${NODE_PIDS%% *}
NODE_PID=$victim "$tmp/sioload" run "$tmp/node-failover.yaml" --target "$STICKY" --quiet --out "$tmp/fail.json" >/dev/null || true
stats "failover" "$tmp/fail.json" reconnect
# The echo requests the nodes read (each answered at once), the killed node's from its counts file.
python3 - "$tmp/fail.json" "$(( $(counts) - before ))" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); answered = int(sys.argv[2])
sent, got = r["counters"].get("messages_sent", 0), r.get("events_received", {}).get("echo", 0)
print(f"   sioload sent {sent} echo requests and got {got} back: lost {r['counters'].get('lost', 0)}; "
      f"the nodes read and answered {answered}: {sent - answered} died unread with the killed node, {answered - got} answered but never delivered")
PY

echo "== 4. scenarios/transports.yaml (50 clients, 20 s): upgrade through NO_UPGRADE, then polling and websocket through STICKY"
{ grep '^source_addrs:' scenarios/cluster-broadcast.yaml; cat scenarios/transports.yaml; } >"$tmp/transports.yaml"
for run in "upgrade $NO_UPGRADE Upgrade-dropping proxy" "polling $STICKY sticky proxy" "websocket $STICKY sticky proxy"; do
	read -r tr url what <<<"$run"
	"$tmp/sioload" run "$tmp/transports.yaml" --transport "$tr" --target "$url" --quiet --out "$tmp/$tr.json" >/dev/null 2>&1 || true
	stats "$tr, $what" "$tmp/$tr.json" ack
done
