#!/usr/bin/env bash
# Requests per CPU-second of proxies on core 1 in front of an nginx origin, wrk on core 0:
#   bash bench/experiments/compare.sh ngx lean hlc mini gh pipe pll pjs prl prj
# ngx = nginx as proxy, lean = the llhttp prototype, mini = node:http → undici Pool.dispatch,
# hlc = node:http server → llhttp client (no undici), gh = gatehouse (needs `pnpm build`);
# pipe = blind relay (the floor), pll / pjs = the relay + llhttp / a JavaScript scan on both heads,
# prl / prj = the same on responses only. Bounded: 2 s warm-up + 5 s per system. Ports 19101–19108.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/origin.sh"
cat > "$work/proxy.conf" <<CONF
worker_processes 1; user root; error_log /dev/null; pid $work/proxy.pid;
events { worker_connections 4096; }
http { access_log off; upstream up { server 127.0.0.1:19101; keepalive 64; }
server { listen 127.0.0.1:19105; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cpu() { local t=0; for p in $1 $(pgrep -P "$1"); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
run() {
  local pid=$1 port=$2 name=$3
  sleep 1
  taskset -c 0 wrk -t1 -c50 -d2s "http://127.0.0.1:$port/" >/dev/null
  local c0; c0=$(cpu "$pid")
  local rps; rps=$(taskset -c 0 wrk -t1 -c50 -d5s "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
  local c1; c1=$(cpu "$pid")
  echo "$name req/s=$rps req_per_cpu_s=$(echo "$rps*5/(($c1-$c0)/100)" | bc -l | cut -d. -f1)"
  kill "$pid"; wait "$pid" 2>/dev/null
}
cd "$root"
for sys in "$@"; do
  case $sys in
    ngx) taskset -c 1 nginx -p "$work" -c "$work/proxy.conf" -g 'daemon off;' & run $! 19105 nginx ;;
    lean) taskset -c 1 node "$here/lean-proxy-prototype.mjs" & run $! 19104 lean-prototype ;;
    mini) taskset -c 1 node "$here/undici-hand-written.mjs" & run $! 19103 undici-hand-written ;;
    hlc) taskset -c 1 node "$here/http-server-lean-client.mjs" & run $! 19106 http-server-lean-client ;;
    pipe) taskset -c 1 node "$here/pipe-floor.mjs" & run $! 19107 pipe-floor ;;
    pll) MODE=llhttp taskset -c 1 node "$here/pipe-parse.mjs" & run $! 19108 pipe+llhttp ;;
    pjs) MODE=js taskset -c 1 node "$here/pipe-parse.mjs" & run $! 19108 pipe+js-scan ;;
    prl) MODE=llhttp-res taskset -c 1 node "$here/pipe-parse.mjs" & run $! 19108 pipe+llhttp-responses ;;
    prj) MODE=js-res taskset -c 1 node "$here/pipe-parse.mjs" & run $! 19108 pipe+js-responses ;;
    gh) taskset -c 1 node packages/core/dist/cli/main.js serve -c "$work/gh.json" & run $! 19102 gatehouse ;;
  esac
done
