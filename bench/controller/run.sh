#!/usr/bin/env bash
# make bench-controller: release builds of karbonetes-controller, karbonetes-devapi and
# karbonetes-signal, then karbonetes-controller-bench (tests/controller-reliability) at 10,000 and
# 1,000 held Jobs. Output goes to the terminal and to bench/controller/last-run.txt; the last line
# is key=value pairs of the figures. Sizes: BENCH_CONTROLLER_JOBS (default 10000,1000);
# BENCH_CONTROLLER_WORKERS (default 4, the controller's default); BENCH_CONTROLLER_LAYOUTS (default
# api-server-alone,shared: the API server on a CPU of its own, then every process on every CPU);
# BENCH_CONTROLLER_ROUNDS (default 3: rates are medians over the rounds).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jobs="${BENCH_CONTROLLER_JOBS:-10000,1000}"
workers="${BENCH_CONTROLLER_WORKERS:-4}"
layouts="${BENCH_CONTROLLER_LAYOUTS:-api-server-alone,shared}"
rounds="${BENCH_CONTROLLER_ROUNDS:-3}"

build() { # package, product: builds it in release mode and prints the binary's path; a failed build stops the run
  local output
  if ! output="$(swift build -c release --package-path "$root/$1" --product "$2" 2>&1)"; then
    printf '%s\n' "$output" >&2
    echo "bench-controller: the release build of $2 ($1) failed" >&2
    exit 1
  fi
  printf '%s\n' "$output" | tail -n 1 >&2
  echo "$(swift build -c release --package-path "$root/$1" --show-bin-path)/$2"
}

echo "== building release binaries" >&2
KARBONETES_CONTROLLER="$(build services/controller karbonetes-controller)"
KARBONETES_DEVAPI="$(build shared/KarbonetesDevAPI karbonetes-devapi)"
KARBONETES_SIGNAL="$(build services/signal karbonetes-signal)"
export KARBONETES_CONTROLLER KARBONETES_DEVAPI KARBONETES_SIGNAL
bench="$(build tests/controller-reliability karbonetes-controller-bench)"

"$bench" --jobs "$jobs" --workers "$workers" --layouts "$layouts" --rounds "$rounds" | tee "$root/bench/controller/last-run.txt"
