#!/usr/bin/env bash
# make bench-controller: release builds of karbonetes-controller, karbonetes-devapi and
# karbonetes-signal, then karbonetes-controller-bench (tests/controller-reliability) at 10,000 and
# 1,000 held Jobs. Output goes to the terminal and to bench/controller/last-run.txt; the last line
# is key=value pairs of the figures. Sizes: BENCH_CONTROLLER_JOBS (default 10000,1000);
# BENCH_CONTROLLER_WORKERS (default 4, the controller's default).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jobs="${BENCH_CONTROLLER_JOBS:-10000,1000}"
workers="${BENCH_CONTROLLER_WORKERS:-4}"

build() { # package, product: builds it in release mode and prints the binary's path
  swift build -c release --package-path "$root/$1" --product "$2" 2>&1 | tail -n 1 >&2
  echo "$(swift build -c release --package-path "$root/$1" --show-bin-path)/$2"
}

echo "== building release binaries" >&2
KARBONETES_CONTROLLER="$(build services/controller karbonetes-controller)"
KARBONETES_DEVAPI="$(build shared/KarbonetesDevAPI karbonetes-devapi)"
KARBONETES_SIGNAL="$(build services/signal karbonetes-signal)"
export KARBONETES_CONTROLLER KARBONETES_DEVAPI KARBONETES_SIGNAL
bench="$(build tests/controller-reliability karbonetes-controller-bench)"

"$bench" --jobs "$jobs" --workers "$workers" | tee "$root/bench/controller/last-run.txt"
