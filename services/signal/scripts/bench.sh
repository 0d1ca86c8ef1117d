#!/usr/bin/env bash
# make bench-signal: wrk against GET /v1/signal (served from the cache) on a release build of
# karbonetes-signal with the built-in static mock, and, in the same run, against nginx serving the
# same response bytes (the reference: what the machine and a mature C server give for the same
# exchange). Each round runs, for both servers one after the other: paced at about 1,000 requests/s
# (10 connections, each waiting 10 ms between requests) for the p99 target, and unpaced for the
# maximum rate; then the Karbonetes /healthz paced (the floor of the runtime's server alone). A
# warm-up precedes the rounds (the first seconds after start include thread creation and lazy
# runtime set-up, which are not the steady state the target is about). Every figure is the median
# over BENCH_SIGNAL_ROUNDS (3) rounds. The last line is key=value pairs of the figures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${BENCH_SIGNAL_PORT:-18090}"
nginx_port="${BENCH_SIGNAL_NGINX_PORT:-18091}"
duration="${BENCH_SIGNAL_DURATION:-10s}"
rounds="${BENCH_SIGNAL_ROUNDS:-3}"
path="/v1/signal?region=default"
url="http://127.0.0.1:${port}${path}"

command -v wrk >/dev/null || { echo "bench-signal: wrk is not installed (make install adds it)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "bench-signal: nginx is not installed (make install adds it)" >&2; exit 1; }

echo "== building karbonetes-signal (release)"
(cd "$here" && swift build -c release --product karbonetes-signal 2>&1 | tail -n 1)
binary="$(cd "$here" && swift build -c release --show-bin-path)/karbonetes-signal"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" --listen "127.0.0.1:${port}" --log-level warning >"$work/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "$url" >"$work/signal.json"

# nginx answers with the bytes the signal service just gave (same length, same content type),
# from memory, with one worker per CPU.
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:${nginx_port};
        location /v1/signal {
            default_type application/json;
            return 200 '$(sed "s/'/\\\\'/g" "$work/signal.json")';
        }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work/nginx" >"$work/nginx/start.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:${nginx_port}${path}" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:${nginx_port}${path}" >/dev/null || { echo "bench-signal: nginx did not start: $(cat "$work/nginx/start.log" "$work/nginx/error.log" 2>/dev/null)" >&2; exit 1; }

cat >"$work/paced.lua" <<'LUA'
-- Each connection waits 10 ms before its next request: 10 connections give about 1,000/s.
function delay()
  return 10
end
LUA

# to_ms, cpu_seconds (for CPU per request: a figure that other load on the machine does not
# inflate the way it inflates the tail), ratio
# shellcheck source=bench/lib/wrk-figures.sh
source "$here/../../bench/lib/wrk-figures.sh"

run() { # name, url, wrk arguments...
  local name="$1" target="$2"
  shift 2
  echo "== wrk ($name): $* $target"
  wrk "$@" --latency "$target" | tee "$work/$name.txt"
}

figure() { # file, then the wrk label
  awk -v label="$2" '$1 == label { print $2; exit }' "$work/$1.txt"
}
rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/$1.txt"; }

median() { # numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "== warm-up (discarded)"
wrk -t2 -c10 -d3s -s "$work/paced.lua" "$url" >/dev/null
wrk -t2 -c10 -d3s -s "$work/paced.lua" "http://127.0.0.1:${nginx_port}${path}" >/dev/null

declare -A samples
add() { samples[$1]="${samples[$1]:-} $2"; }
for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds"
  cpu_before="$(cpu_seconds "$server")"
  run "paced-$round" "$url" -t2 -c10 -d"$duration" -s "$work/paced.lua"
  cpu_after="$(cpu_seconds "$server")"
  requests="$(awk '/requests in/ { print $1; exit }' "$work/paced-$round.txt")"
  add cpu_us "$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$requests" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
  add paced_rps "$(rps "paced-$round")"
  add paced_p50 "$(to_ms "$(figure "paced-$round" 50%)")"
  add paced_p99 "$(to_ms "$(figure "paced-$round" 99%)")"
  run "nginx-paced-$round" "http://127.0.0.1:${nginx_port}${path}" -t2 -c10 -d"$duration" -s "$work/paced.lua"
  add nginx_paced_rps "$(rps "nginx-paced-$round")"
  add nginx_paced_p50 "$(to_ms "$(figure "nginx-paced-$round" 50%)")"
  add nginx_paced_p99 "$(to_ms "$(figure "nginx-paced-$round" 99%)")"
  run "max-$round" "$url" -t2 -c32 -d"$duration"
  add max_rps "$(rps "max-$round")"
  add max_p99 "$(to_ms "$(figure "max-$round" 99%)")"
  run "nginx-max-$round" "http://127.0.0.1:${nginx_port}${path}" -t2 -c32 -d"$duration"
  add nginx_max_rps "$(rps "nginx-max-$round")"
  add nginx_max_p99 "$(to_ms "$(figure "nginx-max-$round" 99%)")"
  # The same pacing on /healthz (no signal logic): the floor of the runtime's server.
  run "floor-$round" "http://127.0.0.1:${port}/healthz" -t2 -c10 -d"$duration" -s "$work/paced.lua"
  add floor_p99 "$(to_ms "$(figure "floor-$round" 99%)")"
done

m() { tr ' ' '\n' <<<"${samples[$1]}" | sed '/^$/d' | median; }
paced_rps="$(m paced_rps)" paced_p50="$(m paced_p50)" paced_p99="$(m paced_p99)" cpu_us="$(m cpu_us)"
nginx_paced_rps="$(m nginx_paced_rps)" nginx_paced_p50="$(m nginx_paced_p50)" nginx_paced_p99="$(m nginx_paced_p99)"
max_rps="$(m max_rps)" max_p99="$(m max_p99)" nginx_max_rps="$(m nginx_max_rps)" nginx_max_p99="$(m nginx_max_p99)"
floor_p99="$(m floor_p99)"
errors="$(cat "$work"/paced-*.txt "$work"/max-*.txt "$work"/floor-*.txt | awk '/Non-2xx|Socket errors/ { n++ } END { print n + 0 }')"
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)"
pass="$(awk -v p="$paced_p99" -v r="$paced_rps" 'BEGIN { print (p < 1.0 && r >= 900) ? "true" : "false" }')"

echo "paced p99 per round: karbonetes${samples[paced_p99]} ms; nginx${samples[nginx_paced_p99]} ms; /healthz${samples[floor_p99]} ms"
echo "bench=signal endpoint=/v1/signal rounds=${rounds} paced_rps=${paced_rps} paced_p50_ms=${paced_p50} paced_p99_ms=${paced_p99} server_cpu_us_per_request=${cpu_us} max_rps=${max_rps} max_p99_ms=${max_p99} healthz_paced_p99_ms=${floor_p99} nginx_paced_rps=${nginx_paced_rps} nginx_paced_p50_ms=${nginx_paced_p50} nginx_paced_p99_ms=${nginx_paced_p99} nginx_max_rps=${nginx_max_rps} nginx_max_p99_ms=${nginx_max_p99} ratio_paced_p99_vs_nginx=$(ratio "$paced_p99" "$nginx_paced_p99" "") ratio_max_rps_vs_nginx=$(ratio "$max_rps" "$nginx_max_rps" "") error_lines=${errors} target_p99_ms=1 target_met=${pass} loadavg_1m=${load} cpus=$(nproc)"
