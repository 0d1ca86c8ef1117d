#!/usr/bin/env bash
# Installs what `make build`, `make test` and `make demo` need on a fresh Debian machine with
# only the Swift toolchain. Idempotent: a second run checks and returns at once.
# Package lists live in scripts/deps/*.txt so that each part of the project names its own needs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
stamp_dir="$root/.tools"
mkdir -p "$stamp_dir"

read_list() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$1" | grep -v '^$' || true; }

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi

apt_missing=()
while read -r pkg; do
  [ -n "$pkg" ] || continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    apt_missing+=("$pkg")
  fi
done < <(read_list "$root/scripts/deps/apt.txt")

if [ "${#apt_missing[@]}" -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

pip_list="$root/scripts/deps/pip.txt"
pip_stamp="$stamp_dir/pip.stamp"
if [ -n "$(read_list "$pip_list")" ] && ! cmp -s "$pip_list" "$pip_stamp" 2>/dev/null; then
  echo "install-deps: installing PyPI packages"
  read_list "$pip_list" | PIP_BREAK_SYSTEM_PACKAGES=1 xargs python3 -m pip install -q --disable-pip-version-check
  cp "$pip_list" "$pip_stamp"
fi

for hook in "$root"/scripts/deps/*.sh; do
  [ -e "$hook" ] || continue
  bash "$hook" "$stamp_dir"
done
echo "install-deps: ok"
