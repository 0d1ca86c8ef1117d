#!/usr/bin/env bash
# make bench-signal: wrk against GET /v1/signal (served from the cache) on a release build of
# karbonetes-signal with the built-in static mock. Two runs: paced at about 1,000 requests/s
# (10 connections, each waiting 10 ms between requests) for the p99 target, unpaced for the
# maximum rate, and paced on /healthz for the floor the server and the machine set. The last line is key=value pairs of the figures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${BENCH_SIGNAL_PORT:-18090}"
duration="${BENCH_SIGNAL_DURATION:-10s}"
url="http://127.0.0.1:${port}/v1/signal?region=default"

command -v wrk >/dev/null || { echo "bench-signal: wrk is not installed (make install adds it)" >&2; exit 1; }

echo "== building karbonetes-signal (release)"
(cd "$here" && swift build -c release --product karbonetes-signal 2>&1 | tail -n 1)
binary="$(cd "$here" && swift build -c release --show-bin-path)/karbonetes-signal"

work="$(mktemp -d)"
"$binary" --listen "127.0.0.1:${port}" --log-level warning >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "$url" >/dev/null

cat >"$work/paced.lua" <<'LUA'
-- Each connection waits 10 ms before its next request: 10 connections give about 1,000/s.
function delay()
  return 10
end
LUA

# wrk prints latencies as 812.00us, 1.20ms or 1.05s; this turns one into milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else { printf "%s", v } }'
}

run() {
  local name="$1" target="$2"
  shift 2
  echo "== wrk ($name): $* $target"
  wrk "$@" --latency "$target" | tee "$work/$name.txt"
}

# CPU seconds the server has used (utime + stime from /proc), to report CPU per request: a
# figure that other load on the machine does not inflate the way it inflates the tail.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.4f", ($12 + $13) / hz }' "/proc/$server/stat"
}

cpu_before="$(cpu_seconds)"
run paced "$url" -t2 -c10 -d"$duration" -s "$work/paced.lua"
cpu_after="$(cpu_seconds)"
run max "$url" -t2 -c32 -d"$duration"
# The same pacing on /healthz (no signal logic): the floor the server and machine set.
run floor "http://127.0.0.1:${port}/healthz" -t2 -c10 -d"$duration" -s "$work/paced.lua"

figure() { # file, then the wrk label
  awk -v label="$2" '$1 == label { print $2; exit }' "$work/$1.txt"
}

paced_rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/paced.txt")"
paced_p50="$(to_ms "$(figure paced 50%)")"
paced_p99="$(to_ms "$(figure paced 99%)")"
max_rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/max.txt")"
max_p99="$(to_ms "$(figure max 99%)")"
floor_p99="$(to_ms "$(figure floor 99%)")"
errors="$(cat "$work"/paced.txt "$work"/max.txt "$work"/floor.txt | awk '/Non-2xx|Socket errors/ { n++ } END { print n + 0 }')"
# Other builds on the machine inflate the tail; the load average says how busy it was.
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)"
paced_requests="$(awk '/requests in/ { print $1; exit }' "$work/paced.txt")"
cpu_us="$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$paced_requests" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
pass="$(awk -v p="$paced_p99" -v r="$paced_rps" 'BEGIN { print (p < 1.0 && r >= 900) ? "true" : "false" }')"

echo "bench=signal endpoint=/v1/signal paced_rps=${paced_rps} paced_p50_ms=${paced_p50} paced_p99_ms=${paced_p99} server_cpu_us_per_request=${cpu_us} max_rps=${max_rps} max_p99_ms=${max_p99} healthz_paced_p99_ms=${floor_p99} error_lines=${errors} target_p99_ms=1 target_met=${pass} loadavg_1m=${load} cpus=$(nproc)"
