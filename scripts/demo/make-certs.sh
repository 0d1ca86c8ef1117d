#!/usr/bin/env bash
# Makes a throwaway CA and a serving certificate signed by it, with the openssl command:
#   scripts/demo/make-certs.sh DIR [IP_OR_DNS_NAME ...]   (default: 127.0.0.1 localhost)
# Writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key. The webhook serves tls.crt; the
# base64 of ca.crt is the MutatingWebhookConfiguration's caBundle. The end-to-end suite and
# the demo both use this script, so there is one way the project makes certificates.
set -euo pipefail

dir=${1:?usage: make-certs.sh DIR [IP_OR_DNS_NAME ...]}
shift
names=("$@")
if [ "${#names[@]}" -eq 0 ]; then names=(127.0.0.1 localhost); fi

mkdir -p "$dir"
san=""
for name in "${names[@]}"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then entry="IP:$name"; else entry="DNS:$name"; fi
  san="${san:+$san,}$entry"
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 \
  -subj "/CN=karbonetes-local-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=${names[0]}" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$dir/tls.ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days 30 \
  -extfile "$dir/tls.ext" -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/tls.ext" "$dir/ca.srl"
chmod 600 "$dir/ca.key" "$dir/tls.key"
