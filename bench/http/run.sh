#!/usr/bin/env bash
# make bench-http: wrk over TLS with keep-alive against the runtime's JSON echo server, nginx
# serving a static body, and the Go net/http reference, at saturation and at a fixed
# 1,000 requests/s. Prints a table, the ratios, and as its last line key=value pairs.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.cache/bench-http"
rm -rf "$work"
mkdir -p "$work"
duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-50}"
threads="${BENCH_THREADS:-2}"
rate_connections=10
swift_port=18443 go_port=18444 nginx_port=18445

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== building the runtime's bench server (release) and the Go reference"
# BENCH_SCRATCH_PATH lets a developer keep this build apart from others' (swift's build lock).
scratch=()
if [ -n "${BENCH_SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$BENCH_SCRATCH_PATH"); fi
(cd "$root/shared/KarbonetesRuntime" && swift build -c release "${scratch[@]}" --product karbonetes-bench-http 2>&1 | tail -n 1)
swift_bin="$(cd "$root/shared/KarbonetesRuntime" && swift build -c release "${scratch[@]}" --show-bin-path)/karbonetes-bench-http"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS='' GOCACHE="$root/.cache/go-build" GOPATH="$root/.cache/go"
go build -o "$work/go-reference" "$root/bench/reference/http/main.go"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
sed -e "s#@WORK@#$work#g" -e "s#@PORT@#$nginx_port#g" "$root/bench/http/nginx.conf.template" > "$work/nginx.conf"

"$swift_bin" --listen "127.0.0.1:$swift_port" --tls-cert-file "$work/tls.crt" --tls-key-file "$work/tls.key" \
  --log-level warning 2>"$work/swift.log" &
pids+=($!)
"$work/go-reference" -listen "127.0.0.1:$go_port" -tls-cert-file "$work/tls.crt" -tls-key-file "$work/tls.key" 2>"$work/go.log" &
pids+=($!)
nginx -c "$work/nginx.conf" -p "$work" 2>"$work/nginx-start.log" &
pids+=($!)

for port in $swift_port $go_port $nginx_port; do
  for _ in $(seq 1 100); do
    if curl -sk -o /dev/null "https://127.0.0.1:$port/echo" -d '{"id":1,"name":"x","values":[],"labels":{}}'; then break; fi
    sleep 0.1
  done
done

# to_ms, ratio
# shellcheck source=bench/lib/wrk-figures.sh
source "$root/bench/lib/wrk-figures.sh"

# run_wrk NAME MODE URL: records NAME_MODE_rps, _p50, _p99.
declare -A figures
run_wrk() {
  local name=$1 mode=$2 url=$3 out="$work/wrk-$1-$2.txt"
  if [ "$mode" = saturation ]; then
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$root/bench/http/post.lua" "$url" >"$out" 2>&1
  else
    WRK_DELAY_MS=9 wrk -t2 -c"$rate_connections" -d"$duration" --latency -s "$root/bench/http/fixed-rate.lua" "$url" >"$out" 2>&1
  fi
  figures[${name}_${mode}_rps]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  figures[${name}_${mode}_p50]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  figures[${name}_${mode}_p99]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  figures[${name}_${mode}_errors]=$(awk '/Non-2xx|Socket errors/ {found=1} END {print found ? "yes" : "no"}' "$out")
}

for mode in saturation rate1000; do
  echo "== wrk ($mode) against karbonetes, go, nginx"
  run_wrk karbonetes "$mode" "https://127.0.0.1:$swift_port/echo"
  run_wrk go "$mode" "https://127.0.0.1:$go_port/echo"
  run_wrk nginx "$mode" "https://127.0.0.1:$nginx_port/echo"
done

printf '\n%-11s %-11s %12s %10s %10s %8s\n' server load "requests/s" "p50 ms" "p99 ms" errors
for mode in saturation rate1000; do
  for name in karbonetes go nginx; do
    printf '%-11s %-11s %12s %10s %10s %8s\n' "$name" "$mode" "${figures[${name}_${mode}_rps]}" \
      "${figures[${name}_${mode}_p50]}" "${figures[${name}_${mode}_p99]}" "${figures[${name}_${mode}_errors]}"
  done
done
rps_vs_go=$(ratio "${figures[karbonetes_saturation_rps]}" "${figures[go_saturation_rps]}")
rps_vs_nginx=$(ratio "${figures[karbonetes_saturation_rps]}" "${figures[nginx_saturation_rps]}")
p99_vs_go=$(ratio "${figures[karbonetes_rate1000_p99]}" "${figures[go_rate1000_p99]}")
p99_vs_nginx=$(ratio "${figures[karbonetes_rate1000_p99]}" "${figures[nginx_rate1000_p99]}")
echo
echo "throughput karbonetes/go: $rps_vs_go (target >= 1), karbonetes/nginx: $rps_vs_nginx"
echo "p99 at 1,000 req/s karbonetes/go: $p99_vs_go (target <= 1), karbonetes/nginx: $p99_vs_nginx"
echo "(saturation: $threads wrk threads, $connections connections, $duration; fixed rate: $rate_connections connections each waiting 9 ms between requests)"

line=""
for name in karbonetes go nginx; do
  for mode in saturation rate1000; do
    for metric in rps p50 p99; do line+="${name}_${mode}_${metric}=${figures[${name}_${mode}_${metric}]} "; done
  done
done
echo "${line}ratio_rps_vs_go=$rps_vs_go ratio_rps_vs_nginx=$rps_vs_nginx ratio_p99_rate1000_vs_go=$p99_vs_go ratio_p99_rate1000_vs_nginx=$p99_vs_nginx"
