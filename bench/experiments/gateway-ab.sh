#!/usr/bin/env bash
# Same-window A/B of two gateway builds (packages/gateway): both run `edgemicro start --standalone
# … -p 1` (master + one worker) on core 1 at the same time, each behind its own `wrk -t1 -c50` on
# core 0 sending the standalone app's API key, with the nginx origin of origin.sh; each one's
# requests per CPU-second (master + worker) is read over the same seconds (see concurrent-ab.sh for
# why same-window). Needs `pnpm build` in both checkouts (an earlier commit: `git archive REV | tar -x
# -C DIR`, then `pnpm install --offline --frozen-lockfile && pnpm build` there).
#   bash bench/experiments/gateway-ab.sh DIR_A DIR_B [ROUNDS] [bare|oauth-quota]
# Environment: SECS (seconds per round, default 5), PROCS (workers per gateway, default 1).
set -u
A=$1
B=$2
rounds=${3:-5}
mode=${4:-oauth-quota}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/origin.sh"
key=bench-key-0123456789abcdef
seq='[]'
extra=''
if [ "$mode" = oauth-quota ]; then
  seq='["oauth","quota"]'
  extra=',"oauth":{"allowNoAuthorization":false,"allowInvalidAuthorization":false}'
fi
# start DIR LABEL PORT: a gateway of that build on that port; prints its pid.
start() {
  local d="$work/$2"
  mkdir -p "$d/logs"
  cat > "$d/bench-bench-config.yaml" <<CONF
{"edgemicro":{"port":$3,"address":"127.0.0.1","max_connections":20000,"keep_alive_timeout":120000,
 "logging":{"level":"error","dir":"$d/logs","to_console":false},"plugins":{"sequence":$seq}},
 "headers":{"x-forwarded-for":true,"x-forwarded-host":true,"x-request-id":true,"x-response-time":true,"via":true}$extra}
CONF
  cat > "$d/standalone.yaml" <<CONF
{"proxies":[{"name":"edgemicro_bench","base_path":"/","url":"http://127.0.0.1:19101/"}],
 "products":[{"name":"bench-product","apiResources":["/","/**"],"proxies":["edgemicro_bench"],
   "quota":{"allow":1000000000,"interval":1,"timeUnit":"minute"}}],
 "apps":[{"name":"bench-app","developer_email":"bench@example.com","products":["bench-product"],
   "credentials":[{"key":"$key","secret":"bench-secret-0123456789abcdef"}]}]}
CONF
  (cd "$d" && exec taskset -c 1 node "$1/packages/gateway/dist/cli/main.js" start -o bench -e bench -c "$d" \
    --standalone "$d/standalone.yaml" -p "${PROCS:-1}" > "$d/out.log" 2>&1) &
  echo $!
}
pa=$(start "$A" a 19102)
pb=$(start "$B" b 19104)
for _ in $(seq 1 100); do
  curl -s -o /dev/null http://127.0.0.1:19102/ && curl -s -o /dev/null http://127.0.0.1:19104/ && break
  sleep 0.2
done
for port in 19102 19104; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $key" "http://127.0.0.1:$port/")
  [ "$code" = 200 ] || { echo "gateway on $port answered $code"; exit 1; }
done
# CPU ticks of a gateway: its master and worker(s).
cpu() {
  local s=0 p
  for p in "$1" $(pgrep -P "$1"); do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$s"
}
taskset -c 0 wrk -t1 -c50 -d2s -H "x-api-key: $key" http://127.0.0.1:19102/ >/dev/null &
w=$!
taskset -c 0 wrk -t1 -c50 -d2s -H "x-api-key: $key" http://127.0.0.1:19104/ >/dev/null
wait "$w"
for r in $(seq "$rounds"); do
  a0=$(cpu "$pa")
  b0=$(cpu "$pb")
  taskset -c 0 wrk -t1 -c50 -d"${SECS:-5}"s -H "x-api-key: $key" http://127.0.0.1:19102/ > "$work/wrk-a" &
  wa=$!
  taskset -c 0 wrk -t1 -c50 -d"${SECS:-5}"s -H "x-api-key: $key" http://127.0.0.1:19104/ > "$work/wrk-b" &
  wb=$!
  wait "$wa" "$wb"
  a1=$(cpu "$pa")
  b1=$(cpu "$pb")
  ra=$(awk '/requests in/ {print $1}' "$work/wrk-a")
  rb=$(awk '/requests in/ {print $1}' "$work/wrk-b")
  bad=$(cat "$work/wrk-a" "$work/wrk-b" | grep -c 'Non-2xx')
  echo "round $r: A $((ra * 100 / (a1 - a0))) B $((rb * 100 / (b1 - b0))) req per CPU-s," \
    "B/A $(awk -v ra="$ra" -v rb="$rb" -v ca=$((a1 - a0)) -v cb=$((b1 - b0)) 'BEGIN {printf "%.2f", (rb / cb) / (ra / ca)}')," \
    "non-2xx lines $bad, load $(cut -d' ' -f1 /proc/loadavg)"
done
kill -TERM "$pa" "$pb"
wait "$pa" "$pb" 2>/dev/null
