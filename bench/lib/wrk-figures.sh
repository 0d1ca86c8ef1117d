# shellcheck shell=bash
# Sourced by the benchmark scripts (bench/http/run.sh, bench/webhook/run.sh,
# services/signal/scripts/bench.sh): the figures they read off wrk and /proc, written once.

# wrk prints latencies as 812.00us, 1.20ms or 1.05s; this turns one into milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else { printf "%s", v }
  }'
}

# CPU seconds (user + system) process $1 has used so far, from /proc/PID/stat (the fields
# after the command name, which may itself hold spaces).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.4f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# $1 / $2 to two decimals; $3 (default nan) when $2 is not positive.
ratio() {
  awk -v a="$1" -v b="$2" -v missing="${3-nan}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print missing }'
}
