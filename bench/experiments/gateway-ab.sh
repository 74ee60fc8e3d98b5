#!/usr/bin/env bash
# A/B of two gateway builds (packages/gateway): both run `edgemicro start --standalone … -p 1`
# (master + one worker) on core 1, with the nginx origin of origin.sh; in each round `wrk -t1 -c50`
# on core 0, sending the standalone app's API key, loads one gateway and then the other (the order
# alternates from round to round), and each one's requests per CPU-second (master + worker) is read
# over its own run. Gateways measured in the same window (as concurrent-ab.sh does for the engine)
# showed a steady bias here: A against itself gave B/A 1.22-1.31 in every round (2026-12-07), as if
# the second process of the pair batched more per wake-up; alternating rounds gave A/A 0.90-1.26,
# median 1.01, so compare medians over 8 rounds or more. Needs `pnpm build` in both checkouts (an
# earlier commit: `git archive REV | tar -x -C DIR`, then `pnpm install --offline --frozen-lockfile &&
# pnpm build` there, or a copy of the checkout with its node_modules).
#   bash bench/experiments/gateway-ab.sh DIR_A DIR_B [ROUNDS] [bare|oauth-quota]
# Environment: SECS (seconds per run, default 4), PROCS (workers per gateway, default 1).
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
# Warm both up.
taskset -c 0 wrk -t1 -c50 -d3s -H "x-api-key: $key" http://127.0.0.1:19102/ >/dev/null
taskset -c 0 wrk -t1 -c50 -d3s -H "x-api-key: $key" http://127.0.0.1:19104/ >/dev/null
# One run against gateway pid $1 on port $2: prints its requests per CPU-second and non-2xx lines.
one() {
  local c0 c1 n
  c0=$(cpu "$1")
  taskset -c 0 wrk -t1 -c50 -d"${SECS:-4}"s -H "x-api-key: $key" "http://127.0.0.1:$2/" > "$work/wrk"
  c1=$(cpu "$1")
  n=$(awk '/requests in/ {print $1}' "$work/wrk")
  echo "$((n * 100 / (c1 - c0))) $(grep -c 'Non-2xx' "$work/wrk")"
}
ratios=''
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then
    read -r ra ea < <(one "$pa" 19102)
    read -r rb eb < <(one "$pb" 19104)
  else
    read -r rb eb < <(one "$pb" 19104)
    read -r ra ea < <(one "$pa" 19102)
  fi
  x=$(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.3f", b / a}')
  ratios="$ratios $x"
  echo "round $r: A $ra B $rb req per CPU-s, B/A $x, non-2xx lines $((ea + eb)), load $(cut -d' ' -f1 /proc/loadavg)"
done
echo "median B/A: $(echo "$ratios" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')"
kill -TERM "$pa" "$pb"
wait "$pa" "$pb" 2>/dev/null
