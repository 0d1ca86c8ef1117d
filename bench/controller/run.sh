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

work="$root/.cache/bench-controller"
mkdir -p "$work"
# swift_bin
# shellcheck source=bench/lib/swift-build.sh
source "$root/bench/lib/swift-build.sh"
build() { swift_bin "$root" "$1" "$2" release "$work"; } # package, product: its release binary's path

echo "== building release binaries" >&2
KARBONETES_CONTROLLER="$(build services/controller karbonetes-controller)"
KARBONETES_DEVAPI="$(build shared/KarbonetesDevAPI karbonetes-devapi)"
KARBONETES_SIGNAL="$(build services/signal karbonetes-signal)"
export KARBONETES_CONTROLLER KARBONETES_DEVAPI KARBONETES_SIGNAL
bench="$(build tests/controller-reliability karbonetes-controller-bench)"

"$bench" --jobs "$jobs" --workers "$workers" --layouts "$layouts" --rounds "$rounds" | tee "$root/bench/controller/last-run.txt"
