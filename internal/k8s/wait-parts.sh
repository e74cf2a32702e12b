# wait-parts.sh DIR N TIMEOUT: the merge step's first container (busybox
# sh, POSIX). It waits until DIR holds part-0.json ... part-(N-1).json,
# which "sioload run --out" renames into place whole (never a truncated
# file), then exits 0 so that the merge runs; after TIMEOUT seconds it
# exits 1 naming the parts still missing, so that the merge Job fails
# instead of merging a partial run silently or waiting forever.
set -u
dir=$1
n=$2
timeout=$3
end=$(($(date +%s) + timeout))
echo "wait-parts: waiting up to ${timeout}s for $n parts in $dir"
while :; do
  missing=""
  i=0
  while [ "$i" -lt "$n" ]; do
    [ -f "$dir/part-$i.json" ] || missing="$missing $i/$n"
    i=$((i + 1))
  done
  if [ -z "$missing" ]; then
    echo "wait-parts: all $n parts are in $dir"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$end" ]; then
    echo "wait-parts: after ${timeout}s, parts missing:$missing (kubectl logs of their pods say why; sioload report merges the others by hand, as a partial run)" >&2
    exit 1
  fi
  sleep 2
done
