# shellcheck shell=bash
# Sourced by the benchmark scripts that build Swift products (bench/webhook/run.sh,
# bench/controller/run.sh): one way to build a benchmark's binary and find it.

# swift_bin ROOT PACKAGE_DIR PRODUCT CONFIGURATION LOG_DIR [SCRATCH_PATH]: builds one product
# and prints its path. The build's output goes to LOG_DIR/build-PRODUCT.log; a failed build
# prints the log's end and returns 1, so that a benchmark never runs an old binary.
# BENCH_SKIP_BUILD=1 uses what is already built.
swift_bin() {
  local root=$1 package=$2 product=$3 configuration=$4 log="$5/build-$3.log" scratch=()
  if [ -n "${6:-}" ]; then scratch=(--scratch-path "$6"); fi
  if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
    echo "skipped building $product (BENCH_SKIP_BUILD=1)" >&2
  elif ! (cd "$root/$package" && swift build -c "$configuration" "${scratch[@]}" --product "$product") >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "building $product ($package, $configuration) failed (log: $log)" >&2
    return 1
  else
    tail -n 1 "$log" >&2
  fi
  echo "$(cd "$root/$package" && swift build -c "$configuration" "${scratch[@]}" --show-bin-path)/$product"
}
