#!/usr/bin/env bash
# Same-window A/B of two gatehouse builds: both run on core 1 at the same time, each behind its own
# `wrk -t1 -c50` on core 0 (with the nginx origin of origin.sh), and each one's requests per CPU-second
# is read over the same seconds. This machine's speed drifts by 20-40 % from minute to minute, which
# sequential A/B runs cannot separate from a 10 % change; two processes measured in the same window
# see the same drift, so their ratio holds to about ±3 % (A against itself: 0.99-1.03 after the
# first round). Needs `pnpm build` in both checkouts (an earlier commit: `git worktree add DIR REV`,
# then `pnpm install --offline && pnpm build` there).
#   bash bench/experiments/concurrent-ab.sh DIR_A DIR_B [ROUNDS]
# Environment: HEAP_A / HEAP_B (heap profile, default balanced), FLAGS_A / FLAGS_B (node flags),
# ENV_A / ENV_B (NAME=value for one of them), SECS (seconds per round, default 5), WRK_ARGS (more wrk arguments, e.g. -H 'Accept: */*'),
# PORT_BASE (see origin.sh; B at PORT_BASE+4, the ws upstream at +5), SCENARIO_B (B's scenario when it differs), SCENARIO: small (default: GET / of 12 bytes), plugins-3 (the same through the bench's three-plugin
# chain, onrequest/onresponse hooks; each build loads its own test fixtures), websocket (50 WebSocket
# connections doing 128-byte echo round trips through the proxy to bench's ws-echo upstream; the
# figure is round trips per CPU-second).
set -u
A=$1
B=$2
rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
eval "wrk_args=(${WRK_ARGS:-})"
. "$here/origin.sh"
scenario=${SCENARIO:-small}
# B may run another HTTP scenario than A in the same window (e.g. small against plugins-3: what
# the plugin chain costs on one build).
scenario_b=${SCENARIO_B:-$scenario}
pa_port=$((port_base + 2))
pb_port=$((port_base + 4))
ws_port=$((port_base + 5))
loads="$here/../src/load/scripts"
if [ "$scenario" = websocket ] || [ "$scenario_b" = websocket ]; then
  [ "$scenario" = "$scenario_b" ] || { echo "websocket runs against websocket only" >&2; exit 2; }
  taskset -c 0 node "$loads/ws-echo.mjs" "$ws_port" &
  sed -i "s/:$((port_base + 1))/:$ws_port/" "$work/gh.json"
fi
# The config of scenario $1 for the build in $2, listening on port $3, from gh.json.
config() {
  case "$1" in
    small | websocket) sed "s/$pa_port/$3/" "$work/gh.json" ;;
    plugins-3)
      plugins='"bench-header-a","bench-header-b","bench-header-c"'
      sed "s/$pa_port/$3/; s|^{|{\"plugins\":{\"dir\":\"$2/packages/core/test/fixtures/plugins\"},|; s|\"routes\":\[{|\"routes\":[{\"plugins\":[$plugins],|" "$work/gh.json"
      ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}
config "$scenario_b" "$B" "$pb_port" > "$work/gh-b.json" || exit 2
config "$scenario" "$A" "$pa_port" > "$work/gh-a.json" || exit 2
mv "$work/gh-a.json" "$work/gh.json"
# One load run against port $1 for $2 seconds, output to $3 (wrk's text, or ws-load's JSON line).
load() {
  if [ "$scenario" = websocket ]; then
    taskset -c 0 node "$loads/ws-load.mjs" "ws://127.0.0.1:$1/" 50 "$2" 128 > "$3"
  else
    taskset -c 0 wrk -t1 -c50 -d"$2"s "${wrk_args[@]}" "http://127.0.0.1:$1/" > "$3"
  fi
}
count() {
  if [ "$scenario" = websocket ]; then sed -n 's/.*"messages":\([0-9]*\).*/\1/p' "$1"
  else awk '/ requests in/ {print $1}' "$1"; fi
}
# shellcheck disable=SC2086 # the flags are a list
env ${ENV_A:-} taskset -c 1 node ${FLAGS_A:-} "$A/packages/core/dist/cli/main.js" serve --heap "${HEAP_A:-balanced}" -c "$work/gh.json" &
pa=$!
# shellcheck disable=SC2086
env ${ENV_B:-} taskset -c 1 node ${FLAGS_B:-} "$B/packages/core/dist/cli/main.js" serve --heap "${HEAP_B:-balanced}" -c "$work/gh-b.json" &
pb=$!
sleep 1.5
load "$pa_port" 2 /dev/null &
w=$!
load "$pb_port" 2 /dev/null
wait "$w"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for r in $(seq "$rounds"); do
  a0=$(cpu "$pa")
  b0=$(cpu "$pb")
  load "$pa_port" "${SECS:-5}" "$work/wrk-a" &
  wa=$!
  load "$pb_port" "${SECS:-5}" "$work/wrk-b" &
  wb=$!
  wait "$wa" "$wb"
  a1=$(cpu "$pa")
  b1=$(cpu "$pb")
  na=$(count "$work/wrk-a")
  nb=$(count "$work/wrk-b")
  ea=$(echo "$na * 100 / ($a1 - $a0)" | bc)
  eb=$(echo "$nb * 100 / ($b1 - $b0)" | bc)
  echo "round $r ($scenario/$scenario_b): A $ea req/CPU-s, B $eb req/CPU-s, B/A $(echo "scale=3; $eb / $ea" | bc)"
done
echo "peak RSS: A $(awk '/VmHWM/ {print $2}' "/proc/$pa/status") kB, B $(awk '/VmHWM/ {print $2}' "/proc/$pb/status") kB"
kill "$pa" "$pb"
wait "$pa" "$pb" 2>/dev/null
