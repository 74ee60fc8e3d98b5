#!/usr/bin/env bash
# Small responses through `gatehouse serve` under each heap profile in turn: requests per CPU-second,
# idle RSS and peak RSS (VmHWM). Same set-up as compare.sh (nginx origin and wrk on core 0, the proxy
# on core 1, 2 s warm-up + REPS × 5 s measured, new connections each time as in the bench; REPS=1 by
# default). Needs `pnpm build`. Alternate the profiles, e.g.:
#   bash bench/experiments/heap-ab.sh node balanced compact node balanced compact
# PROFILE@DIR runs the built checkout in DIR instead (an earlier commit: `git worktree add DIR REV`,
# then `pnpm install --offline && pnpm build` there), e.g. `balanced@/tmp/base balanced`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/origin.sh"
for arg in "$@"; do
  profile=${arg%%@*}
  dir=$root
  [ "$arg" != "$profile" ] && dir=${arg#*@}
  taskset -c 1 node "$dir/packages/core/dist/cli/main.js" serve --heap "$profile" -c "$work/gh.json" &
  pid=$!
  sleep 1.2
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  taskset -c 0 wrk -t1 -c50 -d2s http://127.0.0.1:19102/ >/dev/null
  c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  total=0
  for _ in $(seq "${REPS:-1}"); do
    rps=$(taskset -c 0 wrk -t1 -c50 -d5s http://127.0.0.1:19102/ | awk '/Requests\/sec/ {print $2}')
    total=$(echo "$total + $rps * 5" | bc -l)
  done
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "heap=$arg req/s=$(echo "$total / (5 * ${REPS:-1})" | bc -l | cut -d. -f1) req_per_cpu_s=$(echo "$total/(($c1-$c0)/100)" | bc -l | cut -d. -f1) idle_rss=$(echo "scale=1; $idle / 1024" | bc)MiB peak_rss=$(echo "scale=1; $hwm / 1024" | bc)MiB"
  kill "$pid"
  wait "$pid" 2>/dev/null
done
