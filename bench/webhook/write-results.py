#!/usr/bin/env python3
"""Writes bench/RESULTS.md from the outputs that bench/webhook/bench-all.sh (make bench) kept.

Each benchmark's last line is key=value pairs; this script puts each figure beside its
reference from the same run (with the ratio), adds the machine, what else was running, the
commands, how the cost grows with load or size, and bench/webhook/PROFILE.md (where the
webhook's time goes, from a profiled run). A benchmark that is missing or failed says so.
"""

import argparse
import datetime
import math
import os
import platform
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COMMANDS = {
    "bench-http": "make bench-http (bench/http/run.sh)",
    "bench-signal": "make bench-signal (services/signal/scripts/bench.sh)",
    "bench-webhook": "make bench-webhook (bench/webhook/run.sh)",
    "bench-controller": "make bench-controller (bench/controller/run.sh)",
}


def read_key_values(path):
    """The last line of the output that is made of key=value pairs."""
    if not os.path.exists(path):
        return {}, ""
    with open(path, encoding="utf-8", errors="replace") as file:
        lines = [line.strip() for line in file if line.strip()]
    for line in reversed(lines):
        pairs = [token.split("=", 1) for token in line.split() if "=" in token]
        if len(pairs) >= 3 and len(pairs) == len(line.split()):
            return dict(pairs), line
    return {}, ""


def read_status(path):
    values = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as file:
            for line in file:
                if "=" in line:
                    key, value = line.strip().split("=", 1)
                    values.setdefault(key, value)
    return values


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as file:
        return [line.rstrip("\n") for line in file]


def number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def ratio(a, b):
    a, b = number(a), number(b)
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def show(value, unit=""):
    return "n/a" if value in (None, "", "nan") else f"{value}{unit}"


def command_output(arguments):
    try:
        return subprocess.run(arguments, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    swift = command_output(["swift", "--version"]).splitlines()
    go = command_output(["go", "version"])
    wrk = command_output(["sh", "-c", "wrk -v 2>&1 | head -n 1"])
    return [
        ("CPUs (nproc)", str(os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0)))),
        ("CPU model", model),
        ("Memory", memory),
        ("Kernel", platform.release()),
        ("Swift", swift[0] if swift else "unknown"),
        ("Go (references)", go or "unknown"),
        ("wrk", wrk or "unknown"),
    ]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def section_http(values):
    rows = []
    for server in ("karbonetes", "go", "nginx"):
        rows.append([server, show(values.get(f"{server}_saturation_rps")), show(values.get(f"{server}_saturation_p99"), " ms"),
                     show(values.get(f"{server}_rate1000_rps")), show(values.get(f"{server}_rate1000_p50"), " ms"), show(values.get(f"{server}_rate1000_p99"), " ms")])
    lines = ["JSON POST echo over TLS with keep-alive: the runtime's HTTPS server against Go's net/http and nginx.", ""]
    lines += table(["server", "saturation req/s", "saturation p99", "~1,000/s: req/s", "p50", "p99"], rows)
    lines += ["", f"Ratios, Karbonetes over reference: throughput vs Go **{show(values.get('ratio_rps_vs_go'))}** (target ≥ 1), vs nginx {show(values.get('ratio_rps_vs_nginx'))}; "
              f"p99 at ~1,000/s vs Go **{show(values.get('ratio_p99_rate1000_vs_go'))}** (target ≤ 1), vs nginx {show(values.get('ratio_p99_rate1000_vs_nginx'))}."]
    return lines


def section_signal(values):
    rows = [["paced (~1,000/s)", show(values.get("paced_rps")), show(values.get("paced_p50_ms"), " ms"), show(values.get("paced_p99_ms"), " ms"),
             show(values.get("nginx_paced_rps")), show(values.get("nginx_paced_p50_ms"), " ms"), show(values.get("nginx_paced_p99_ms"), " ms")],
            ["unpaced (saturation)", show(values.get("max_rps")), "", show(values.get("max_p99_ms"), " ms"),
             show(values.get("nginx_max_rps")), "", show(values.get("nginx_max_p99_ms"), " ms")]]
    lines = [f"`GET /v1/signal` served from the cache, plain HTTP, beside nginx answering the same bytes from memory in the same run "
             f"(medians of {show(values.get('rounds'))} rounds after a warm-up; the CPU per request is the signal server's).", ""]
    lines += table(["load", "Karbonetes req/s", "p50", "p99", "nginx req/s", "p50", "p99"], rows)
    target = values.get("target_p99_ms", "1")
    lines += ["", f"p99 at ~1,000/s: **{show(values.get('paced_p99_ms'), ' ms')}** against the {target} ms target (met: **{show(values.get('target_met'))}**); "
              f"Karbonetes over nginx: p99 {show(values.get('ratio_paced_p99_vs_nginx'))}, saturation requests/s {show(values.get('ratio_max_rps_vs_nginx'))}; "
              f"the runtime server's own `/healthz` at the same pace: p99 {show(values.get('healthz_paced_p99_ms'), ' ms')}; "
              f"CPU per request {show(values.get('server_cpu_us_per_request'), ' µs')}; error lines: {show(values.get('error_lines'))}."]
    return lines


WEBHOOK_MODES = [("rate100", "~100/s"), ("rate1000", "~1,000/s"), ("saturation", "saturation")]


def section_webhook(values):
    rows = []
    for mode, label in WEBHOOK_MODES:
        k = {metric: values.get(f"karbonetes_{mode}_{metric}") for metric in ("rps", "p50", "p99", "cpu_us")}
        g = {metric: values.get(f"go_{mode}_{metric}") for metric in ("rps", "p50", "p99", "cpu_us")}
        rows.append([label, show(k["rps"]), show(k["p50"], " ms"), show(k["p99"], " ms"), show(k["cpu_us"], " µs"),
                     show(g["rps"]), show(g["p50"], " ms"), show(g["p99"], " ms"), show(g["cpu_us"], " µs"),
                     ratio(k["rps"], g["rps"]), ratio(k["p99"], g["p99"]), ratio(k["cpu_us"], g["cpu_us"])])
    lines = [f"A {show(values.get('review_bytes'))}-byte AdmissionReview of a carbon-aware Job (bench/webhook/admission-review.json) POSTed over TLS with keep-alive to "
             "karbonetes-webhook (release) and to the Go standard-library reference (bench/reference/webhook), signal not green, so both answer `suspend: true` "
             "plus the managed label and the state, intensity and deadline annotations. Before timing, bench/webhook/compare.py checked that both give the same "
             f"answer: {show(values.get('compare_green_agree'))} cases agree with the signal green, {show(values.get('compare_not_green_agree'))} with it not green.", ""]
    lines += table(["load", "Karbonetes req/s", "p50", "p99", "CPU/req", "Go req/s", "p50", "p99", "CPU/req", "req/s K/Go", "p99 K/Go", "CPU/req K/Go"], rows)
    lines += ["", f"Targets: p99 ≤ {show(values.get('target_p99_ms'))} ms at ~1,000/s: **{show(values.get('target_p99_met'))}** "
              f"(Karbonetes p99 {show(values.get('karbonetes_rate1000_p99'), ' ms')}); throughput ≥ the Go reference's: **{show(values.get('target_rps_met'))}** "
              f"(ratio {show(values.get('ratio_rps_vs_go'))}). Resident memory after the run: Karbonetes {show(values.get('karbonetes_rss_mib'), ' MiB')}, "
              f"Go {show(values.get('go_rss_mib'), ' MiB')}. CPU/req is the server process's user + system CPU time over the run divided by the requests answered: "
              "on a shared machine it is steadier than requests/s."]
    return lines


def section_controller(values):
    lines = ["Held Jobs released by one karbonetes-controller at a green flip on karbonetes-devapi (bench/controller/README.md). Its reference, from the same run, "
             "is the raw rate: the same release patches sent by a plain loop with the same client (`raw_patch_per_s`); `rate_vs_raw` is the ratio "
             "(target ≥ 0.8), `writes_per_job` target 1, `peak_rss_mb` target < 150. Each size runs in rounds on a fresh API server; rates are medians "
             "over the rounds and `rate_vs_raw` is the median of the rounds' own ratios (`_min`, `_max` beside it). Unsuffixed keys: the API server alone "
             "on CPU 0 and everything else on the other CPU, a cluster's layout, where the ratio says whether the controller keeps up with the API server. "
             "Keys ending in `_shared`: every process on every CPU, so the controller's CPU is also taken from the API server's.", ""]
    paired = [key for key in values if f"{key}_1000" in values]
    rows = [[key, values[key], values[f"{key}_1000"]] for key in paired]
    rows += [[key, values[key], ""] for key in values if key not in paired and not key.endswith("_1000")]
    first = f"{int(values['jobs']):,}" if values.get("jobs", "").isdigit() else "10,000"
    lines += table(["figure", f"{first} held Jobs", "1,000 held Jobs"], rows)
    return lines


def section_generic(values):
    return table(["figure", "value"], [[key, value] for key, value in values.items()])


def controller_growth(values):
    """Release time and RSS at 1,000 and 10,000 held Jobs. bench-controller's keys for its first
    size have no suffix and those for 1,000 Jobs end in `_1000`; keys that name a size
    (`_10000`, `jobs10000_...`) are taken as they are."""
    def sized(size):
        pattern = re.compile(rf"(^|[_a-z]){size}($|[_a-z])")
        return {key: value for key, value in values.items() if pattern.search(key)}

    by_size = {"1000": sized("1000"), "10000": sized("10000")}
    if not by_size["10000"]:
        by_size["10000"] = {key: value for key, value in values.items() if f"{key}_1000" in values}
    rows = []
    for size in ("1000", "10000"):
        keys = by_size[size]
        time_keys = [key for key in keys if re.search(r"(release|time|seconds|_s($|_)|duration)", key) and "rss" not in key]
        rss_keys = [key for key in keys if "rss" in key or "memory" in key]
        rows.append([f"{int(size):,}", ", ".join(f"{key}={keys[key]}" for key in time_keys) or "not in its output",
                     ", ".join(f"{key}={keys[key]}" for key in rss_keys) or "not in its output"])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True, help="the folder bench-all.sh wrote (.cache/bench)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--benches", nargs="+", required=True)
    parser.add_argument("--notes", default="", help="a sentence about the run, from BENCH_NOTES")
    arguments = parser.parse_args()

    results = {}
    for bench in arguments.benches:
        status = read_status(os.path.join(arguments.runs, f"{bench}.status"))
        values, line = read_key_values(os.path.join(arguments.runs, f"{bench}.txt"))
        results[bench] = dict(status=status, values=values, line=line,
                              machine=read_lines(os.path.join(arguments.runs, f"{bench}.machine")),
                              output=read_lines(os.path.join(arguments.runs, f"{bench}.txt")))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Benchmark results", "",
           f"Written by `make bench` on {now}; re-run `make bench` to refresh (bench/webhook/bench-all.sh runs the benchmarks one after the other "
           "and bench/webhook/write-results.py writes this file from their last lines, the key=value pairs). Every figure stands beside its reference "
           "from the same run; a ratio is Karbonetes over the reference.", "", "## Machine", ""]
    out += table(["", ""], machine())
    out += ["", "What else was running when each benchmark started (load average over 1/5/15 minutes, and the busiest other processes by command name, "
            "%CPU over one second from `top`, summed by command name). This is a 2-CPU machine shared with other engineers' builds and tests, so the figures are noisy: the CPU time per "
            "request and the ratios (both servers measured in the same minute, under the same neighbours) say more than any absolute requests/s.", ""]
    for bench in arguments.benches:
        snapshot = results[bench]["machine"]
        if snapshot:
            load = next((line.split("=", 1)[1] for line in snapshot if line.startswith("load_average=")), "n/a")
            busy = "; ".join(line.split("=", 1)[1] for line in snapshot if line.startswith("busy=")) or "nothing above 2% CPU"
            out.append(f"- {bench} (started {results[bench]['status'].get('started', '?')}): load {load}; {busy}")
    if arguments.notes:
        out += ["", f"Notes on this run: {arguments.notes}"]
    out += ["", "## Commands", ""]
    rows = []
    for bench in arguments.benches:
        status = results[bench]["status"]
        state = status.get("status", "not run")
        if state == "failed":
            state = f"**failed** (exit {status.get('exit_code')})"
        elif state == "missing":
            state = "**missing**: no mk/*.mk defines it yet"
        rows.append([f"`{COMMANDS.get(bench, 'make ' + bench)}`", state, show(status.get("seconds"), " s")])
    out += table(["command", "result", "took"], rows)

    sections = {"bench-http": section_http, "bench-signal": section_signal, "bench-webhook": section_webhook, "bench-controller": section_controller}
    out += ["", "## Figures beside their references"]
    for bench in arguments.benches:
        result = results[bench]
        out += ["", f"### {bench}", ""]
        state = result["status"].get("status")
        if state == "missing":
            out.append(f"Missing: no `{bench}` target in mk/*.mk when this ran.")
            continue
        if state != "ok" or not result["values"]:
            tail = [line for line in result["output"] if line.strip()][-12:]
            out += [f"Failed or printed no key=value line (status: {state}); the end of its output:", "", "```", *tail, "```"]
            continue
        out += sections.get(bench, section_generic)(result["values"])

    out += ["", "## How the cost grows", "", "Webhook p99 as the offered load grows (the same review, both webhooks, from bench-webhook above):", ""]
    webhook = results.get("bench-webhook", {}).get("values", {})
    if webhook:
        rows = [[label, f"{show(webhook.get(f'karbonetes_{mode}_rps'))} req/s", show(webhook.get(f"karbonetes_{mode}_p99"), " ms"),
                 f"{show(webhook.get(f'go_{mode}_rps'))} req/s", show(webhook.get(f"go_{mode}_p99"), " ms"),
                 ratio(webhook.get(f"karbonetes_{mode}_p99"), webhook.get(f"go_{mode}_p99"))] for mode, label in WEBHOOK_MODES]
        out += table(["offered load", "Karbonetes reached", "Karbonetes p99", "Go reached", "Go p99", "p99 K/Go"], rows)
    else:
        out.append("No webhook figures in this run.")
    out += ["", "Controller: time to release the held Jobs at a green flip, and resident memory, at 1,000 and 10,000 held Jobs (from bench-controller's key=value line):", ""]
    controller = results.get("bench-controller", {})
    if controller.get("values"):
        out += table(["held Jobs", "release time", "RSS"], controller_growth(controller["values"]))
    else:
        out.append(f"Not available: bench-controller is {controller.get('status', {}).get('status', 'not run')} in this run.")

    profile = os.path.join(ROOT, "bench", "webhook", "PROFILE.md")
    if os.path.exists(profile):
        with open(profile, encoding="utf-8") as file:
            body = file.read().strip().splitlines()
        out += ["", "## Where the webhook's time goes", "", "(bench/webhook/PROFILE.md, from a separate profiled run: `BENCH_PROFILE=1 make bench-webhook`.)", ""]
        out += ["#" + line if line.startswith("#") else line for line in body[1:]]

    out += ["", "## Raw key=value lines", ""]
    for bench in arguments.benches:
        line = results[bench]["line"]
        out += [f"- {bench}:", "", "  ```", f"  {line or '(none)'}", "  ```"]
    with open(arguments.out, "w", encoding="utf-8") as file:
        file.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
