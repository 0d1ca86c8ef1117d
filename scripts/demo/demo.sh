#!/usr/bin/env bash
# The Karbonetes demo: `make demo` and the demo-* targets call this script.
#
#   demo.sh up          build and start devapi, signal, webhook and controller; install the
#                       CRD, the webhook registration and the samples (local mode only)
#   demo.sh watch       the live table of carbon-aware Jobs (Ctrl-C leaves everything running)
#   demo.sh status      the table once, and the signal's state
#   demo.sh green-on    force the grid green (the signal's demo override)
#   demo.sh green-off   force it not green
#   demo.sh submit      submit another carbon-aware Job
#   demo.sh signal      the signal JSON
#   demo.sh down        stop everything `up` started
#
# Local mode (after `up`): everything runs on 127.0.0.1, state under .demo/. Cluster mode
# (no local demo running and KUBECONFIG set, after `make deploy`): kubectl on that cluster,
# and the signal at SIGNAL_URL or through `kubectl port-forward` to the chart's Service
# (green-on/off need `make deploy HELM_ARGS="--set signal.enableDemoOverride=true"`).
#
# Settings (environment): SIGNAL=static|trace (trace replays TRACE, a CSV in data/carbon,
# TRACE_SPEEDUP times faster than real time), DEMO_WATCH=0 (print the table once instead of
# refreshing), DEMO_INTERVAL (refresh seconds), DEMO_BIN_DIR (use these executables instead
# of debug builds), DEMO_DIR (state folder instead of .demo/), KUBECTL, SWIFT, HELM_RELEASE,
# HELM_NAMESPACE, SIGNAL_URL.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${DEMO_DIR:-$root/.demo}
shown=${state#"$root/"}
namespace=batch-demo
region=default
swift=${SWIFT:-swift}
if [ -z "${KUBECTL:-}" ]; then
  if [ -x "$root/.tools/bin/kubectl" ]; then KUBECTL="$root/.tools/bin/kubectl"; else KUBECTL=kubectl; fi
fi
services=(devapi signal webhook controller)

log() { printf '== demo: %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Processes

pid_of() { cat "$state/$1.pid" 2>/dev/null || true; }

is_running() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

local_running() { is_running devapi; }

# start NAME EXECUTABLE ARGS...: in its own session (so Ctrl-C in the terminal does not
# reach it), output in .demo/NAME.log, pid in .demo/NAME.pid.
start() {
  local name=$1
  shift
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
  log "started $name (pid $!, log $shown/$name.log)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what (see the logs in $shown/)"
    sleep 0.2
  done
}

executable() {
  local package=$1 product=$2
  if [ -n "${DEMO_BIN_DIR:-}" ]; then
    echo "$DEMO_BIN_DIR/$product"
  else
    echo "$root/$package/.build/debug/$product"
  fi
}

build() {
  [ -n "${DEMO_BIN_DIR:-}" ] && return 0
  local entry package product
  for entry in shared/KarbonetesDevAPI:karbonetes-devapi services/signal:karbonetes-signal \
    services/webhook:karbonetes-webhook services/controller:karbonetes-controller; do
    package=${entry%%:*}
    product=${entry##*:}
    log "swift build --product $product ($package, debug)"
    (cd "$root/$package" && "$swift" build --product "$product" 2>&1 | tail -n 5)
  done
}

signal_config() {
  case "${SIGNAL:-static}" in
    static) ;;
    trace)
      local trace=${TRACE:-electricitymaps_ES_2022_hourly.csv} format=electricitymaps
      [ -f "$root/data/carbon/$trace" ] || die "TRACE=$trace is not a file in data/carbon/"
      case "$trace" in entsoe_*) format=entsoe ;; esac
      cat >"$state/signal.yaml" <<EOF
# Written by scripts/demo/demo.sh: a real trace from data/carbon, replayed from the same time
# of year, ${TRACE_SPEEDUP:-60} times faster than real time; green = the cleanest 30%.
cacheTTL: 5s
regions:
  - name: $region
    provider: trace
    file: $root/data/carbon/$trace
    format: $format
    alignment: sameTimeOfYear
    speedup: ${TRACE_SPEEDUP:-60}
    green: {percentile: 30}
EOF
      echo "$state/signal.yaml"
      ;;
    *) die "SIGNAL must be static or trace, not \"$SIGNAL\"" ;;
  esac
}

webhook_configuration() {
  local port=$1 bundle
  bundle=$(base64 -w0 <"$state/certs/ca.crt")
  cat <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: karbonetes-demo
webhooks:
  - name: jobs.carbon-aware.io
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: 5
    failurePolicy: Ignore
    matchPolicy: Equivalent
    reinvocationPolicy: Never
    clientConfig:
      url: https://127.0.0.1:$port/mutate-batch-v1-job
      caBundle: $bundle
    rules:
      - apiGroups: [batch]
        apiVersions: [v1]
        resources: [jobs]
        operations: [CREATE]
        scope: Namespaced
EOF
}

up() {
  if local_running; then
    log "already running (make demo-down stops it)"
    return 0
  fi
  command -v openssl >/dev/null || die "openssl is missing: run make install"
  command -v jq >/dev/null || die "jq is missing: run make install"
  "$KUBECTL" version --client >/dev/null 2>&1 || die "kubectl ($KUBECTL) is missing: run make install"
  build
  # A fresh start: the previous demo's API data, certificates, logs and pidfiles go.
  rm -rf "$state/devapi" "$state/certs" "$state/kubeconfig" "$state/env" "$state/signal.yaml" "$state"/*.log "$state"/*.pid
  mkdir -p "$state"

  start devapi "$(executable shared/KarbonetesDevAPI karbonetes-devapi)" --listen 127.0.0.1:0 \
    --data-dir "$state/devapi" --kubeconfig-out "$state/kubeconfig" --job-lifecycle --cronjobs
  wait_for "karbonetes-devapi" 30 grep -q "ready on" "$state/devapi.log"
  local api
  api=$(sed -n 's/^karbonetes-devapi ready on //p' "$state/devapi.log" | head -n 1)

  local signal_port webhook_port webhook_metrics controller_metrics config
  signal_port=$(free_port)
  webhook_port=$(free_port)
  webhook_metrics=$(free_port)
  controller_metrics=$(free_port)
  local signal_args=(--listen "127.0.0.1:$signal_port" --enable-demo-override)
  config=$(signal_config)
  if [ -n "$config" ]; then signal_args+=(--config "$config"); fi
  start signal "$(executable services/signal karbonetes-signal)" "${signal_args[@]}"
  wait_for "karbonetes-signal" 30 curl -fsS "http://127.0.0.1:$signal_port/readyz"

  export KUBECONFIG="$state/kubeconfig"
  "$KUBECTL" apply -f "$root/deploy/helm/karbonetes/crds/carbonawarepolicies.carbon-aware.io.yaml" >/dev/null
  "$KUBECTL" apply -f "$root/samples/namespace.yaml" -f "$root/samples/carbonawarepolicy-default.yaml" >/dev/null
  log "CRD, namespace $namespace and its default CarbonAwarePolicy installed"

  bash "$root/scripts/demo/make-certs.sh" "$state/certs" 127.0.0.1 localhost
  start webhook "$(executable services/webhook karbonetes-webhook)" --listen "127.0.0.1:$webhook_port" \
    --tls-cert-file "$state/certs/tls.crt" --tls-key-file "$state/certs/tls.key" \
    --signal-url "http://127.0.0.1:$signal_port" --kubeconfig "$state/kubeconfig" \
    --metrics-listen "127.0.0.1:$webhook_metrics" --signal-cache-ttl 1s
  wait_for "karbonetes-webhook" 30 curl -fsS "http://127.0.0.1:$webhook_metrics/readyz"
  webhook_configuration "$webhook_port" | "$KUBECTL" apply -f - >/dev/null
  log "webhook registered for Job CREATE (https://127.0.0.1:$webhook_port, caBundle from $shown/certs/ca.crt)"

  start controller "$(executable services/controller karbonetes-controller)" \
    --signal-url "http://127.0.0.1:$signal_port" --kubeconfig "$state/kubeconfig" \
    --metrics-listen "127.0.0.1:$controller_metrics" --leader-elect=false --signal-poll-interval 2s
  wait_for "karbonetes-controller" 30 curl -fsS "http://127.0.0.1:$controller_metrics/healthz"

  cat >"$state/env" <<EOF
API_URL=$api
SIGNAL_URL=http://127.0.0.1:$signal_port
WEBHOOK_URL=https://127.0.0.1:$webhook_port
WEBHOOK_METRICS_URL=http://127.0.0.1:$webhook_metrics
CONTROLLER_METRICS_URL=http://127.0.0.1:$controller_metrics
EOF
  "$KUBECTL" apply -f "$root/samples/job-plain.yaml" -f "$root/samples/job-carbon-aware.yaml" \
    -f "$root/samples/job-carbon-aware-strict.yaml" -f "$root/samples/cronjob-carbon-aware.yaml"
  log "running: API server $api, signal http://127.0.0.1:$signal_port (SIGNAL=${SIGNAL:-static})"
  log "from another terminal: make demo-green-on | demo-green-off | demo-submit | demo-status | demo-signal | demo-down"
}

down() {
  local name pid stopped=0
  for name in port-forward "${services[@]}"; do
    pid=$(pid_of "$name")
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        log "$name (pid $pid) did not stop on SIGTERM: killed"
      fi
      stopped=$((stopped + 1))
    fi
    rm -f "$state/$name.pid"
  done
  log "stopped $stopped process(es); logs stay in $shown/"
}

# ---------------------------------------------------------------------------------------
# Local or cluster

# Sets KUBECONFIG and SIGNAL_URL for the mode in use.
target() {
  if local_running; then
    export KUBECONFIG="$state/kubeconfig"
    SIGNAL_URL=$(sed -n 's/^SIGNAL_URL=//p' "$state/env")
  elif [ -n "${KUBECONFIG:-}" ]; then
    [ -n "${SIGNAL_URL:-}" ] || SIGNAL_URL=""
  else
    die "nothing to talk to: run make demo (local), or set KUBECONFIG to a cluster where make deploy installed Karbonetes"
  fi
}

# The signal's base URL; in cluster mode without SIGNAL_URL, a port-forward to the chart's
# Service for the duration of this command.
signal_url() {
  if [ -n "${SIGNAL_URL:-}" ]; then
    echo "$SIGNAL_URL"
    return
  fi
  local release=${HELM_RELEASE:-karbonetes} ns=${HELM_NAMESPACE:-karbonetes-system} port
  port=$(free_port)
  mkdir -p "$state"
  "$KUBECTL" -n "$ns" port-forward "svc/$release-signal" "$port:8090" >"$state/port-forward.log" 2>&1 &
  echo $! >"$state/port-forward.pid"
  local pid=$! deadline=$((SECONDS + 20))
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "kubectl port-forward to svc/$release-signal in $ns failed (set SIGNAL_URL, or HELM_RELEASE/HELM_NAMESPACE): $(tail -n 3 "$state/port-forward.log")"
    [ $SECONDS -lt $deadline ] || die "timed out waiting for kubectl port-forward to svc/$release-signal in $ns"
    sleep 0.2
  done
  echo "http://127.0.0.1:$port"
}

stop_port_forward() {
  local pid
  pid=$(pid_of port-forward)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    rm -f "$state/port-forward.pid"
  fi
}
trap stop_port_forward EXIT

# ---------------------------------------------------------------------------------------
# What the demo shows

table() {
  "$KUBECTL" get jobs --all-namespaces -o json | jq -r '
    def pools: [(.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms // [])[].matchExpressions[]?,
                (.spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution // [])[].preference.matchExpressions[]?
               | select(.key == "karpenter.sh/nodepool") | .values[]] | unique;
    def run: if (.status.succeeded // 0) > 0 then "Complete"
             elif .spec.suspend == true then "Suspended"
             elif (.status.active // 0) > 0 then "Running" else "Pending" end;
    ["NAMESPACE", "NAME", "STATE", "DEADLINE", "RELEASE-REASON", "POOL", "JOB"],
    (.items[] | select(.metadata.annotations["carbon-aware.io/enabled"] == "true")
     | .metadata.annotations as $a
     | [.metadata.namespace, .metadata.name, ($a["carbon-aware.io/state"] // "-"), ($a["carbon-aware.io/deadline"] // "-"),
        ($a["carbon-aware.io/release-reason"] // "-"), ((pools | join(",")) | if . == "" then "-" else . end), run])
    | @tsv' | awk -F '\t' '{ printf "%-12s %-34s %-15s %-22s %-16s %-12s %s\n", $1, $2, $3, $4, $5, $6, $7 }'
}

signal_line() {
  local url
  url=$(signal_url)
  curl -fsS "$url/v1/signal?region=$region" | jq -r '"signal (\(.region)): " + (if .green then "GREEN" else "not green" end)
    + ", \(.intensity) gCO2eq/kWh" + (if .nextGreenStart then ", next green \(.nextGreenStart)" else "" end)'
}

watch_table() {
  local interval=${DEMO_INTERVAL:-2}
  if [ "${DEMO_WATCH:-1}" = "0" ]; then
    table
    return
  fi
  local url
  url=$(signal_url)
  trap 'printf "\n== demo: still running; make demo-status, make demo-green-on, make demo-down stops it\n"; exit 0' INT
  while true; do
    local frame
    frame=$(
      date -u +"%Y-%m-%dT%H:%M:%SZ  (every ${interval}s; Ctrl-C leaves it running; make demo-down stops it)"
      SIGNAL_URL=$url signal_line 2>/dev/null || echo "signal: unreachable at $url"
      echo
      table 2>&1
    ) || true
    printf '\033[H\033[2J%s\n' "$frame"
    sleep "$interval" || true
  done
}

override() {
  local green=$1 url
  url=$(signal_url)
  local answer code
  answer=$(curl -sS -w '\n%{http_code}' -X PUT -H 'Content-Type: application/json' \
    -d "{\"region\":\"$region\",\"green\":$green}" "$url/v1/override")
  code=${answer##*$'\n'}
  answer=${answer%$'\n'*}
  if [ "$code" != 200 ]; then
    die "the signal refused the override (HTTP $code: $answer); on a cluster, deploy with HELM_ARGS=\"--set signal.enableDemoOverride=true\""
  fi
  jq -c . <<<"$answer"
  log "the signal now says green=$green for region $region (held Jobs are released on green, or at their deadline)"
}

submit() {
  local name
  name="job-carbon-aware-$(date -u +%H%M%S)"
  sed "s/^  name: job-carbon-aware$/  name: $name/" "$root/samples/job-carbon-aware.yaml" | "$KUBECTL" create -f -
}

command=${1:-}
case "$command" in
  up) up ;;
  down) down ;;
  watch) target; watch_table ;;
  status) target; table; echo; signal_line ;;
  green-on) target; override true ;;
  green-off) target; override false ;;
  submit) target; submit ;;
  signal)
    target
    url=$(signal_url)
    curl -fsS "$url/v1/signal?region=$region" | jq .
    ;;
  *) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
