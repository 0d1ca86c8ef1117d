#!/usr/bin/env bash
# make bench: runs bench-http, bench-signal, bench-webhook and bench-controller one after the
# other (each that a mk/*.mk defines; the others are reported as missing), keeps each one's
# output in .cache/bench/, notes what else the machine was running before each, and writes
# bench/RESULTS.md from their last lines (key=value pairs) with bench/webhook/write-results.py.
# A benchmark that fails is reported as failed in RESULTS.md; the others still run.
# BENCH_NOTES: a sentence for RESULTS.md about the run (what else you saw running, say).
# BENCH_ONLY="bench-controller ...": re-run only those and keep the others' last outputs, so one
# benchmark can be refreshed without the hour of the rest (RESULTS.md gives each one's start time).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.cache/bench"
benches=(bench-http bench-signal bench-webhook bench-controller)
if [ -z "${BENCH_ONLY:-}" ]; then rm -rf "$out"; fi
mkdir -p "$out"

# What else runs: the load average and the busiest processes over one second (top's second
# frame: ps's %CPU is a lifetime average), summed by command name.
snapshot() {
  echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
  top -b -n 2 -d 1 -w 200 | awk '/^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && $9 > 2.0 { cpu[$12] += $9; count[$12]++ }
    END { for (name in cpu) printf "busy=%s x%d %.0f%%\n", name, count[name], cpu[name] }' | sort -t' ' -k3 -rn | head -n 8
}

for bench in "${benches[@]}"; do
  status_file="$out/$bench.status"
  if [ -n "${BENCH_ONLY:-}" ] && ! grep -qw -- "$bench" <<<"$BENCH_ONLY"; then
    [ -f "$status_file" ] || echo "status=missing" >"$status_file"
    continue
  fi
  if ! grep -qE "^$bench:" "$root"/mk/*.mk; then
    echo "== make bench: $bench is not defined by any mk/*.mk: missing"
    echo "status=missing" >"$status_file"
    continue
  fi
  echo "== make bench: $bench"
  snapshot >"$out/$bench.machine"
  started=$(date +%s)
  make --no-print-directory -C "$root" "$bench" 2>&1 | tee "$out/$bench.txt"
  code=${PIPESTATUS[0]}
  {
    echo "status=$([ "$code" = 0 ] && echo ok || echo failed)"
    echo "exit_code=$code"
    echo "seconds=$(($(date +%s) - started))"
    echo "started=$(date -u -d "@$started" +%H:%M:%SZ)"
  } >"$status_file"
done

python3 "$root/bench/webhook/write-results.py" --runs "$out" --out "$root/bench/RESULTS.md" --benches "${benches[@]}" \
  --notes "${BENCH_NOTES:-}"
echo "make bench: wrote bench/RESULTS.md"
