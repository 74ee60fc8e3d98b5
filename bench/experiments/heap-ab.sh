#!/usr/bin/env bash
# Small responses through `gatehouse serve` under each heap profile in turn: requests per CPU-second,
# idle RSS and peak RSS (VmHWM). Same set-up as compare.sh (nginx origin and wrk on core 0, the proxy
# on core 1, 2 s warm-up + 5 s measured). Needs `pnpm build`. Alternate the profiles, e.g.:
#   bash bench/experiments/heap-ab.sh node balanced compact node balanced compact
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/origin.conf" <<CONF
worker_processes 1; user root; error_log /dev/null; pid $work/origin.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:19101; location / { return 200 "hello world\n"; } } }
CONF
cat > "$work/gh.json" <<CONF
{"servers":[{"listen":[{"address":"127.0.0.1","port":19102}],"routes":[{"match":{"prefix":"/"},"action":{"type":"proxy","upstream":"origin"}}]}],"upstreams":{"origin":{"url":"http://127.0.0.1:19101"}},"log":{"level":"warn"},"limits":{"maxConnections":20000,"keepAliveTimeoutMs":120000}}
CONF
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" -g 'daemon off;' &
sleep 0.5
for profile in "$@"; do
  taskset -c 1 node "$root/packages/core/dist/cli/main.js" serve --heap "$profile" -c "$work/gh.json" &
  pid=$!
  sleep 1.2
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  taskset -c 0 wrk -t1 -c50 -d2s http://127.0.0.1:19102/ >/dev/null
  c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  rps=$(taskset -c 0 wrk -t1 -c50 -d5s http://127.0.0.1:19102/ | awk '/Requests\/sec/ {print $2}')
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  echo "heap=$profile req/s=$rps req_per_cpu_s=$(echo "$rps*5/(($c1-$c0)/100)" | bc -l | cut -d. -f1) idle_rss=$((idle / 1024))MiB peak_rss=$((hwm / 1024))MiB"
  kill "$pid"
  wait "$pid" 2>/dev/null
done
