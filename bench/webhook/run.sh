#!/usr/bin/env bash
# make bench-webhook: wrk over TLS with keep-alive POSTing a realistic 5.8 KB AdmissionReview of
# a carbon-aware Job (bench/webhook/admission-review.json) to a release karbonetes-webhook and,
# in the same run and on the same setup, to the Go standard-library reference webhook
# (bench/reference/webhook), at a fixed ~100 and ~1,000 requests/s and at saturation.
#
# Both webhooks get their policies from the same CarbonAwarePolicy (the Swift one through its
# informer on karbonetes-devapi, the Go one from `kubectl get -o json` of it) and their signal
# from the same karbonetes-signal (static mock, forced by the demo override), cached with the
# same 5 s TTL. Before timing, bench/webhook/compare.py checks that the two answer every case
# the same (green and not green); the timed review is the not-green one, answered with
# `suspend: true`, the managed label and the state/deadline annotations.
#
# Prints a table, the ratios and the targets (p99 <= 2 ms at 1,000/s, throughput >= Go's);
# the last line is key=value pairs. Every figure is the median of BENCH_ROUNDS (3) rounds, each
# round timing both webhooks at every load (the order of the two alternating between rounds),
# because this machine is shared and one round can be hit by a neighbour's build.
# Environment: BENCH_DURATION (10s per run), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
# BENCH_THREADS (2), BENCH_WEBHOOK_SCRATCH_ROOT (a folder for this script's own Swift build
# folders, one per package, to keep clear of other builds' locks), BENCH_SKIP_BUILD=1 (use the binaries
# built last time, e.g. while a shared package is mid-change), BENCH_SKIP_COMPARE=1, BENCH_PROFILE=1 (perf record
# of karbonetes-webhook during its saturation run; report in .cache/bench-webhook/perf-report.txt).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.cache/bench-webhook"
duration="${BENCH_DURATION:-10s}"
rounds="${BENCH_ROUNDS:-3}"
connections="${BENCH_CONNECTIONS:-50}"
threads="${BENCH_THREADS:-2}"
rate_connections=10
devapi_port=18460 signal_port=18461 swift_port=18462 swift_metrics_port=18463 go_port=18464
mutate=/mutate-batch-v1-job

for tool in wrk curl openssl python3 go; do
  command -v "$tool" >/dev/null || { echo "bench-webhook: $tool is not installed (make install adds it)" >&2; exit 1; }
done
kubectl=$(command -v "$root/.tools/bin/kubectl" || command -v kubectl || true)
[ -n "$kubectl" ] || { echo "bench-webhook: kubectl not found (.tools/bin/kubectl: make install)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# swift_bin
# shellcheck source=bench/lib/swift-build.sh
source "$root/bench/lib/swift-build.sh"
# build PACKAGE_DIR PRODUCT CONFIGURATION: swift_bin with this benchmark's log folder and scratch root.
build() {
  swift_bin "$root" "$1" "$2" "$3" "$work" "${BENCH_WEBHOOK_SCRATCH_ROOT:+$BENCH_WEBHOOK_SCRATCH_ROOT/$(basename "$1")}"
}

echo "== building karbonetes-webhook and karbonetes-signal (release), karbonetes-devapi (debug: it only serves the policy list and watch), the Go reference"
webhook_bin=$(build services/webhook karbonetes-webhook release) || exit 1
signal_bin=$(build services/signal karbonetes-signal release) || exit 1
devapi_bin=$(build shared/KarbonetesDevAPI karbonetes-devapi debug) || exit 1
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS="" GOCACHE="$root/.cache/go-build" GOPATH="$root/.cache/go"
go build -o "$work/go-reference-webhook" "$root/bench/reference/webhook/main.go"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null

# wait_for DESCRIPTION COMMAND...: retries for up to 20 s.
wait_for() {
  local description=$1
  shift
  for _ in $(seq 1 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "bench-webhook: $description did not come up; logs in $work" >&2
  exit 1
}

echo "== starting karbonetes-devapi, the policy, karbonetes-signal (not green, by the demo override)"
"$devapi_bin" --listen "127.0.0.1:$devapi_port" --data-dir "$work/devapi" --kubeconfig-out "$work/kubeconfig" \
  --log-level warning >"$work/devapi.log" 2>&1 &
pids+=($!)
wait_for "karbonetes-devapi" "$kubectl" --kubeconfig "$work/kubeconfig" get namespaces --request-timeout=2s
kube() { "$kubectl" --kubeconfig "$work/kubeconfig" --request-timeout=10s "$@"; }
kube apply -f "$root/deploy/helm/karbonetes/crds/carbonawarepolicies.carbon-aware.io.yaml" >/dev/null
kube apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: batch-analytics
---
apiVersion: carbon-aware.io/v1alpha1
kind: CarbonAwarePolicy
metadata:
  name: default
  namespace: batch-analytics
spec:
  maxDelay: 6h
  region: default
  mode: prefer
  strategy: firstGreen
  onSignalUnavailable: run
  recheckInterval: 5m
  greenPool:
    name: green-batch
    taint: {key: carbon-aware.io/green, value: "true", effect: NoSchedule}
  fallbackPool:
    name: default
YAML
kube get carbonawarepolicies -A -o json >"$work/policies.json"

"$signal_bin" --listen "127.0.0.1:$signal_port" --enable-demo-override --log-level warning >"$work/signal.log" 2>&1 &
pids+=($!)
wait_for "karbonetes-signal" curl -fsS "http://127.0.0.1:$signal_port/readyz"
set_signal() { # green|not-green
  local green=false intensity=380
  if [ "$1" = green ]; then green=true intensity=95; fi
  curl -fsS -X PUT -H 'Content-Type: application/json' -d "{\"region\":\"default\",\"green\":$green,\"intensity\":$intensity}" \
    "http://127.0.0.1:$signal_port/v1/override" >/dev/null
}
set_signal green

echo "== starting karbonetes-webhook and the Go reference (TLS, the same certificate, signal cache TTL 5s)"
"$webhook_bin" --listen "127.0.0.1:$swift_port" --metrics-listen "127.0.0.1:$swift_metrics_port" \
  --tls-cert-file "$work/tls.crt" --tls-key-file "$work/tls.key" --signal-url "http://127.0.0.1:$signal_port" \
  --signal-cache-ttl 5s --kubeconfig "$work/kubeconfig" --log-level warning >"$work/webhook.log" 2>&1 &
swift_pid=$!
pids+=("$swift_pid")
"$work/go-reference-webhook" -listen "127.0.0.1:$go_port" -tls-cert-file "$work/tls.crt" -tls-key-file "$work/tls.key" \
  -signal-url "http://127.0.0.1:$signal_port" -signal-cache-ttl 5s -policy-file "$work/policies.json" >"$work/go.log" 2>&1 &
go_pid=$!
pids+=("$go_pid")
wait_for "karbonetes-webhook (ready once its policy cache synced)" curl -fsS --cacert "$work/tls.crt" "https://127.0.0.1:$swift_port/readyz"
wait_for "the Go reference webhook" curl -fsS --cacert "$work/tls.crt" "https://127.0.0.1:$go_port/readyz"

compare() {
  python3 "$root/bench/webhook/compare.py" --signal "$1" --cafile "$work/tls.crt" \
    --karbonetes "https://127.0.0.1:$swift_port$mutate" --reference "https://127.0.0.1:$go_port$mutate" | tee "$work/compare-$1.txt"
}
compare_green=skipped compare_not_green=skipped
if [ "${BENCH_SKIP_COMPARE:-0}" != 1 ]; then
  echo "== the same answers from both webhooks (signal green)"
  compare green || { echo "bench-webhook: the two webhooks answer differently (green); see above" >&2; exit 1; }
  compare_green=$(awk '/^compare / {sub(/.*agree=/, ""); sub(/ .*/, ""); print}' "$work/compare-green.txt")
fi
set_signal not-green
sleep 6 # past both caches' 5 s TTL
if [ "${BENCH_SKIP_COMPARE:-0}" != 1 ]; then
  echo "== the same answers from both webhooks (signal not green)"
  compare not-green || { echo "bench-webhook: the two webhooks answer differently (not green); see above" >&2; exit 1; }
  compare_not_green=$(awk '/^compare / {sub(/.*agree=/, ""); sub(/ .*/, ""); print}' "$work/compare-not-green.txt")
fi

python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")), end="")' \
  "$root/bench/webhook/admission-review.json" >"$work/review.json"
review_bytes=$(wc -c <"$work/review.json")
for port in $swift_port $go_port; do
  answer=$(curl -fsS --cacert "$work/tls.crt" -H 'Content-Type: application/json' --data-binary @"$work/review.json" "https://127.0.0.1:$port$mutate")
  case "$answer" in
    *'"patchType":"JSONPatch"'*) ;;
    *) echo "bench-webhook: port $port did not answer the review with a JSONPatch: $answer" >&2; exit 1 ;;
  esac
done

# to_ms, cpu_seconds, ratio
# shellcheck source=bench/lib/wrk-figures.sh
source "$root/bench/lib/wrk-figures.sh"
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# run_wrk NAME PID MODE URL ROUND: records NAME_MODE_{rps,p50,p99,errors,cpu_us}_rROUND (cpu_us:
# the server's CPU time per request).
declare -A figures
run_wrk() {
  local name=$1 pid=$2 mode=$3 url=$4 round=$5 out="$work/wrk-$1-$3-$5.txt" before after
  before=$(cpu_seconds "$pid")
  local profiler=""
  if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$name" = karbonetes ] && [ "$mode" = saturation ] && [ "$round" = 1 ]; then
    perf record -F 499 -g -p "$pid" -o "$work/perf.data" -- sleep "${duration%s}" >"$work/perf-record.log" 2>&1 &
    profiler=$!
  fi
  case "$mode" in
    saturation) WRK_BODY_FILE="$work/review.json" wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$root/bench/webhook/admission.lua" "$url" >"$out" 2>&1 ;;
    rate1000) WRK_BODY_FILE="$work/review.json" WRK_DELAY_MS=9 wrk -t2 -c"$rate_connections" -d"$duration" --latency -s "$root/bench/webhook/admission.lua" "$url" >"$out" 2>&1 ;;
    rate100) WRK_BODY_FILE="$work/review.json" WRK_DELAY_MS=99 wrk -t2 -c"$rate_connections" -d"$duration" --latency -s "$root/bench/webhook/admission.lua" "$url" >"$out" 2>&1 ;;
  esac
  after=$(cpu_seconds "$pid")
  if [ -n "$profiler" ]; then
    wait "$profiler" || true
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^$' | head -n 400 >"$work/perf-report.txt" || true
    perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^$' | head -n 120 >"$work/perf-report-children.txt" || true
    echo "profile of karbonetes-webhook at saturation: $work/perf-report.txt (self), $work/perf-report-children.txt (inclusive)"
  fi
  local rps requests
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  requests=$(awk '/requests in/ {print $1}' "$out")
  figures[${name}_${mode}_rps_r${round}]=$rps
  figures[${name}_${mode}_p50_r${round}]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  figures[${name}_${mode}_p99_r${round}]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  figures[${name}_${mode}_errors_r${round}]=$(awk '/Non-2xx|Socket errors/ {found=1} END {print found ? "yes" : "no"}' "$out")
  figures[${name}_${mode}_cpu_us_r${round}]=$(awk -v a="$before" -v b="$after" -v n="$requests" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / n; else print "nan" }')
}

load_before=$(awk '{print $1}' /proc/loadavg)
echo "== warm-up (2s each, not recorded)"
WRK_BODY_FILE="$work/review.json" wrk -t"$threads" -c"$connections" -d2s -s "$root/bench/webhook/admission.lua" "https://127.0.0.1:$swift_port$mutate" >/dev/null 2>&1
WRK_BODY_FILE="$work/review.json" wrk -t"$threads" -c"$connections" -d2s -s "$root/bench/webhook/admission.lua" "https://127.0.0.1:$go_port$mutate" >/dev/null 2>&1
modes=(rate100 rate1000 saturation)
for round in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    if [ $((round % 2)) = 1 ]; then
      echo "== round $round/$rounds, wrk ($mode): karbonetes-webhook, then the Go reference"
      run_wrk karbonetes "$swift_pid" "$mode" "https://127.0.0.1:$swift_port$mutate" "$round"
      run_wrk go "$go_pid" "$mode" "https://127.0.0.1:$go_port$mutate" "$round"
    else
      echo "== round $round/$rounds, wrk ($mode): the Go reference, then karbonetes-webhook"
      run_wrk go "$go_pid" "$mode" "https://127.0.0.1:$go_port$mutate" "$round"
      run_wrk karbonetes "$swift_pid" "$mode" "https://127.0.0.1:$swift_port$mutate" "$round"
    fi
  done
done
# The median of the rounds (the middle one; the lower middle for an even count); errors if any.
for name in karbonetes go; do
  for mode in "${modes[@]}"; do
    for metric in rps p50 p99 cpu_us; do
      figures[${name}_${mode}_${metric}]=$(for round in $(seq 1 "$rounds"); do echo "${figures[${name}_${mode}_${metric}_r${round}]}"; done |
        sort -g | awk '{ value[NR] = $1 } END { print value[int((NR + 1) / 2)] }')
    done
    figures[${name}_${mode}_errors]=no
    for round in $(seq 1 "$rounds"); do
      if [ "${figures[${name}_${mode}_errors_r${round}]}" = yes ]; then figures[${name}_${mode}_errors]=yes; fi
    done
  done
done
load_after=$(awk '{print $1}' /proc/loadavg)
karbonetes_rss=$(rss_mib "$swift_pid")
go_rss=$(rss_mib "$go_pid")
deferred_counted=$(curl -fsS "http://127.0.0.1:$swift_metrics_port/metrics" | awk '/^karbonetes_webhook_admissions_total\{decision="deferred"\}/ {printf "%.0f", $2}')


printf '\nper round (requests/s, p99 ms, CPU us/req):\n'
for mode in "${modes[@]}"; do
  for name in karbonetes go; do
    printf '%-11s %-11s' "$name" "$mode"
    for round in $(seq 1 "$rounds"); do
      printf '  r%s: %s, %s, %s' "$round" "${figures[${name}_${mode}_rps_r${round}]}" "${figures[${name}_${mode}_p99_r${round}]}" "${figures[${name}_${mode}_cpu_us_r${round}]}"
    done
    echo
  done
done
printf '\nmedians:\n%-11s %-11s %12s %10s %10s %14s %8s\n' server load "requests/s" "p50 ms" "p99 ms" "CPU us/req" errors
for mode in "${modes[@]}"; do
  for name in karbonetes go; do
    printf '%-11s %-11s %12s %10s %10s %14s %8s\n' "$name" "$mode" "${figures[${name}_${mode}_rps]}" \
      "${figures[${name}_${mode}_p50]}" "${figures[${name}_${mode}_p99]}" "${figures[${name}_${mode}_cpu_us]}" "${figures[${name}_${mode}_errors]}"
  done
done
rps_vs_go=$(ratio "${figures[karbonetes_saturation_rps]}" "${figures[go_saturation_rps]}")
p99_1000_vs_go=$(ratio "${figures[karbonetes_rate1000_p99]}" "${figures[go_rate1000_p99]}")
p99_100_vs_go=$(ratio "${figures[karbonetes_rate100_p99]}" "${figures[go_rate100_p99]}")
cpu_vs_go=$(ratio "${figures[karbonetes_saturation_cpu_us]}" "${figures[go_saturation_cpu_us]}")
p99_target_met=$(awk -v p="${figures[karbonetes_rate1000_p99]}" -v r="${figures[karbonetes_rate1000_rps]}" 'BEGIN { print (p <= 2.0 && r >= 900) ? "true" : "false" }')
rps_target_met=$(awk -v r="$rps_vs_go" 'BEGIN { print (r >= 1.0) ? "true" : "false" }')
echo
echo "review: $review_bytes bytes; timed decision: deferred (karbonetes counted $deferred_counted deferred admissions)"
echo "throughput karbonetes/go at saturation: $rps_vs_go (target >= 1: $rps_target_met); CPU per request karbonetes/go: $cpu_vs_go"
echo "p99 karbonetes at ~1,000/s: ${figures[karbonetes_rate1000_p99]} ms (target <= 2 ms: $p99_target_met), karbonetes/go: $p99_1000_vs_go; at ~100/s karbonetes/go: $p99_100_vs_go"
echo "RSS after the run: karbonetes ${karbonetes_rss} MiB, go ${go_rss} MiB; load average before/after: $load_before/$load_after on $(nproc) CPUs"
echo "(medians of $rounds rounds; saturation: $threads wrk threads, $connections connections, $duration; fixed rates: $rate_connections connections each waiting 9 ms or 99 ms between requests; wrk, both servers, the API server and the signal service share the machine)"

line="bench=webhook rounds=$rounds review_bytes=$review_bytes compare_green_agree=$compare_green compare_not_green_agree=$compare_not_green "
for name in karbonetes go; do
  for mode in "${modes[@]}"; do
    for metric in rps p50 p99 cpu_us; do line+="${name}_${mode}_${metric}=${figures[${name}_${mode}_${metric}]} "; done
  done
done
line+="karbonetes_rss_mib=$karbonetes_rss go_rss_mib=$go_rss load_before=$load_before load_after=$load_after "
echo "${line}ratio_rps_vs_go=$rps_vs_go ratio_p99_rate1000_vs_go=$p99_1000_vs_go ratio_p99_rate100_vs_go=$p99_100_vs_go ratio_cpu_per_request_vs_go=$cpu_vs_go target_p99_ms=2 target_p99_met=$p99_target_met target_rps_met=$rps_target_met"
