#!/usr/bin/env python3
"""Checks Grafana dashboard JSON offline.

Every query must use the provisioned Prometheus datasource (uid "prometheus"), name only
metrics the services expose (the list in docs/monitoring.md), and parse as PromQL: the
queries are written into a temporary rule file and given to `promtool check rules`.
Panels must not overlap. Usage: check_dashboards.py DASHBOARD.json ...
"""
import json
import re
import subprocess
import sys
import tempfile

import yaml

METRICS = {
    "karbonetes_webhook_admissions_total", "karbonetes_webhook_admission_duration_seconds",
    "karbonetes_webhook_signal_cache_age_seconds", "karbonetes_webhook_errors_total",
    "karbonetes_controller_held_jobs", "karbonetes_controller_releases_total",
    "karbonetes_controller_release_delay_seconds", "karbonetes_controller_release_past_deadline_seconds",
    "karbonetes_controller_held_past_deadline_jobs", "karbonetes_controller_reconcile_errors_total",
    "karbonetes_controller_api_requests_total", "karbonetes_controller_emissions_avoided_grams_total",
    "karbonetes_controller_is_leader",
    "karbonetes_signal_requests_total", "karbonetes_signal_provider_fetches_total",
    "karbonetes_signal_provider_errors_total", "karbonetes_signal_intensity_grams_per_kwh",
    "karbonetes_signal_green", "karbonetes_signal_staleness_seconds",
}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def metric_known(name):
    return name in METRICS or any(name == f"{base}_{suffix}" for base in METRICS for suffix in ("bucket", "sum", "count"))


def main():
    problems = []
    expressions = []
    for path in sys.argv[1:]:
        dashboard = json.load(open(path, encoding="utf-8"))
        cells = {}
        for panel in dashboard["panels"]:
            title = f"{path}: panel {panel.get('title')!r}"
            grid = panel["gridPos"]
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    if (x, y) in cells:
                        problems.append(f"{title} overlaps {cells[(x, y)]!r}")
                        break
                    cells[(x, y)] = panel.get("title")
            if panel["type"] == "row":
                continue
            if not panel.get("targets"):
                problems.append(f"{title} has no query")
            for target in panel.get("targets", []):
                if target.get("datasource", panel.get("datasource", {})).get("uid") != "prometheus":
                    problems.append(f"{title} does not use the provisioned Prometheus datasource")
                expr = target["expr"]
                for name in set(re.findall(r"\bkarbonetes_[a-z_]+", expr)):
                    if not metric_known(name):
                        problems.append(f"{title} uses unknown metric {name}")
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                expressions.append(expr)
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{index}", "expr": expr} for index, expr in enumerate(expressions)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as rule_file:
        yaml.safe_dump(rules, rule_file)
        rule_file.flush()
        result = subprocess.run(["promtool", "check", "rules", rule_file.name], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append("a query does not parse as PromQL:\n" + result.stdout + result.stderr)
    for problem in problems:
        print(f"ERROR {problem}")
    print(f"check_dashboards: {'ok' if not problems else 'FAILED'}: {len(expressions)} queries, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
