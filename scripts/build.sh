#!/usr/bin/env bash
# Builds the given Swift packages and copies their executables (karbonetes-*) into bin/.
# Usage: scripts/build.sh [swift build flags…] -- PACKAGE_DIR…
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flags=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
mkdir -p "$root/bin"
for pkg in "$@"; do
  dir="$root/$pkg"
  [ -f "$dir/Package.swift" ] || { echo "build: $pkg has no Package.swift" >&2; exit 1; }
  echo "== swift build ${flags[*]:-} ($pkg)"
  swift build --package-path "$dir" "${flags[@]}"
  bin_path=$(swift build --package-path "$dir" "${flags[@]}" --show-bin-path)
  for exe in "$bin_path"/karbonetes-*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    # Replace, never write through: `make devapi` leaves bin/karbonetes-devapi as a symlink
    # into a debug build.
    rm -f "$root/bin/$(basename "$exe")"
    cp "$exe" "$root/bin/"
    echo "   bin/$(basename "$exe")"
  done
done
