#!/usr/bin/env bash
# Runs KarbonetesKube's cluster tests (client, watch, informer, Events, leader election) against
# a real kube-apiserver and etcd, the binaries controller-runtime's envtest uses, when
# KUBEBUILDER_ASSETS names a folder holding `etcd` and `kube-apiserver`. Prints that it was
# skipped otherwise. The tests that need karbonetes-devapi's fault injection skip themselves.
#
# Usage: KUBEBUILDER_ASSETS=/path/to/bin bash shared/KarbonetesKube/scripts/test-envtest.sh
set -euo pipefail

package_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
assets="${KUBEBUILDER_ASSETS:-}"
if [[ -z "$assets" || ! -x "$assets/etcd" || ! -x "$assets/kube-apiserver" ]]; then
  echo "test-envtest: skipped: KUBEBUILDER_ASSETS does not name a folder with etcd and kube-apiserver (got '${assets}')"
  exit 0
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
etcd_port="$(free_port)"
peer_port="$(free_port)"
api_port="$(free_port)"
token="$(openssl rand -hex 16)"

# A CA, a serving certificate for 127.0.0.1 and a service-account signing key.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=karbonetes-envtest-ca" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/san.ext" -out "$work/server.crt" 2>/dev/null
openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
printf '%s,karbonetes-test,karbonetes-test-uid,"system:masters"\n' "$token" >"$work/tokens.csv"

"$assets/etcd" --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
pids+=("$!")

"$assets/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$work/server.crt" --tls-private-key-file "$work/server.key" \
  --token-auth-file "$work/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$work/sa.pub" \
  --service-account-signing-key-file "$work/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
  --disable-admission-plugins ServiceAccount --allow-privileged=true >"$work/kube-apiserver.log" 2>&1 &
pids+=("$!")

for _ in $(seq 1 120); do
  if curl -fsS --cacert "$work/ca.crt" -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
    break
  fi
  sleep 0.5
done
if ! curl -fsS --cacert "$work/ca.crt" -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
  echo "test-envtest: kube-apiserver did not become ready; its log:" >&2
  tail -n 40 "$work/kube-apiserver.log" >&2
  exit 1
fi

cat >"$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 <"$work/ca.crt")
users:
- name: karbonetes-test
  user:
    token: $token
contexts:
- name: envtest
  context: {cluster: envtest, user: karbonetes-test}
current-context: envtest
KUBECONFIG

echo "test-envtest: kube-apiserver ready on https://127.0.0.1:$api_port; running the cluster tests"
cd "$package_dir"
KARBONETES_TEST_KUBECONFIG="$work/kubeconfig" swift test --filter KarbonetesKubeIntegrationTests
