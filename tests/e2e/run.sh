#!/usr/bin/env bash
# Runs the end-to-end suite on the real binaries:
#   tests/e2e/run.sh devapi    against karbonetes-devapi (part of `make test`)
#   tests/e2e/run.sh envtest   against kube-apiserver + etcd from KUBEBUILDER_ASSETS
# Builds (debug, incrementally) each executable the suite starts, runs `swift test` in
# tests/e2e, and afterwards kills any process group a crashed test runner left behind.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=${1:-devapi}
swift=${SWIFT:-swift}

case "$mode" in
  devapi) ;;
  envtest)
    assets=${KUBEBUILDER_ASSETS:-}
    if [ -z "$assets" ] || [ ! -x "$assets/kube-apiserver" ] || [ ! -x "$assets/etcd" ]; then
      echo "test-envtest: skipped: KUBEBUILDER_ASSETS is not set (or lacks kube-apiserver/etcd)"
      exit 0
    fi
    echo "== test-envtest: kube-apiserver and etcd from $assets" \
      "($([ -x "$assets/kube-controller-manager" ] && echo "with" || echo "without") kube-controller-manager)"
    ;;
  *) echo "usage: tests/e2e/run.sh devapi|envtest" >&2; exit 2 ;;
esac

# package:product for every executable the scenarios start.
executables=(
  shared/KarbonetesDevAPI:karbonetes-devapi
  services/signal:karbonetes-signal
  services/webhook:karbonetes-webhook
  services/controller:karbonetes-controller
)
for entry in "${executables[@]}"; do
  package=${entry%%:*}
  product=${entry##*:}
  echo "== e2e: swift build --product $product ($package, debug)"
  (cd "$root/$package" && "$swift" build --product "$product" 2>&1 | tail -n 20)
done

pidfile="$root/tests/e2e/.build/e2e-pids"
mkdir -p "$(dirname "$pidfile")"
: >"$pidfile"
cleanup() {
  local pgid
  while read -r pgid; do
    [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null && echo "e2e: killed left-over process group $pgid"
  done <"$pidfile"
  rm -f "$pidfile"
}
trap cleanup EXIT

echo "== e2e: swift test (tests/e2e) against $mode"
cd "$root/tests/e2e"
KARBONETES_E2E_APISERVER=$mode KARBONETES_E2E_PIDFILE=$pidfile "$swift" test 2>&1 | tail -n 300
