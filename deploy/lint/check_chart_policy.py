#!/usr/bin/env python3
"""Checks the promises the chart makes, on rendered manifests.

Schemas say a manifest is well formed; this says it is the one we mean: pods meet the Pod
Security Standard "restricted" with a read-only root filesystem and probes, RBAC has no
wildcard and only the verbs the services need, and the MutatingWebhookConfiguration sends
only Job CREATE with the safe settings. Usage: check_chart_policy.py RENDERED.yaml ...
"""
import base64
import os
import subprocess
import sys
import tempfile

import yaml

CONTROLLER_RULES = {
    ("batch", "jobs"): {"get", "list", "watch", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("", "events"): {"create", "patch"},
    ("carbon-aware.io", "carbonawarepolicies"): {"get", "list", "watch"},
    ("carbon-aware.io", "carbonawarepolicies/status"): {"get", "patch", "update"},
}
WEBHOOK_RULES = {("carbon-aware.io", "carbonawarepolicies"): {"get", "list", "watch"}}
LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}


def rules_of(role):
    granted = {}
    for rule in role.get("rules", []):
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                granted.setdefault((group, resource), set()).update(rule.get("verbs", []))
    return granted


def check_pod(name, pod, problems):
    security = pod.get("securityContext", {})
    if security.get("runAsNonRoot") is not True:
        problems.append(f"{name}: pod securityContext.runAsNonRoot is not true")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{name}: pod seccompProfile is not RuntimeDefault")
    for volume in pod.get("volumes", []):
        if "hostPath" in volume:
            problems.append(f"{name}: hostPath volume {volume['name']}")
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        where = f"{name}/{container['name']}"
        context = container.get("securityContext", {})
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{where}: capabilities do not drop ALL")
        if context.get("capabilities", {}).get("add"):
            problems.append(f"{where}: adds capabilities")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: root filesystem is writable")
        if context.get("privileged"):
            problems.append(f"{where}: privileged")
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in container:
                problems.append(f"{where}: no {probe}")
        if "limits" not in container.get("resources", {}) or "requests" not in container.get("resources", {}):
            problems.append(f"{where}: resources need requests and limits")


def check_webhook_tls(secret, webhook_config, source, problems):
    """The generated serving certificate must chain to the caBundle and name the Service."""
    data = secret.get("data", {})
    bundle = webhook_config["webhooks"][0]["clientConfig"].get("caBundle")
    if not bundle:
        return
    if base64.b64decode(data.get("ca.crt", "")) != base64.b64decode(bundle):
        problems.append(f"{source}: the webhook caBundle is not the Secret's ca.crt")
    service = webhook_config["webhooks"][0]["clientConfig"]["service"]
    want_name = f"DNS:{service['name']}.{service['namespace']}.svc"
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for key in ("ca.crt", "tls.crt", "tls.key"):
            paths[key] = os.path.join(folder, key)
            with open(paths[key], "wb") as out:
                out.write(base64.b64decode(data.get(key, "")))
        verify = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", paths["ca.crt"], paths["tls.crt"]],
                                capture_output=True, text=True)
        if verify.returncode != 0:
            problems.append(f"{source}: the serving certificate does not verify against the CA: {verify.stdout}{verify.stderr}")
        names = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", paths["tls.crt"]],
                               capture_output=True, text=True).stdout
        if want_name not in names.replace(" ", "").split(","):
            names_found = names.strip().replace("\n", " ")
            problems.append(f"{source}: the serving certificate does not name {want_name[4:]} (has {names_found})")
        public_keys = [subprocess.run(command, capture_output=True).stdout for command in (
            ["openssl", "x509", "-noout", "-pubkey", "-in", paths["tls.crt"]],
            ["openssl", "pkey", "-pubout", "-in", paths["tls.key"]])]
        if public_keys[0] != public_keys[1] or not public_keys[0]:
            problems.append(f"{source}: tls.key does not belong to tls.crt")


def check(documents, source):
    problems = []
    roles = {}
    for document in documents:
        kind = document.get("kind")
        name = f"{source}: {kind}/{document['metadata']['name']}"
        if kind == "Deployment":
            check_pod(name, document["spec"]["template"]["spec"], problems)
        elif kind in ("ClusterRole", "Role"):
            roles[document["metadata"]["name"]] = document
            for rule in document.get("rules", []):
                for field in ("apiGroups", "resources", "verbs"):
                    if "*" in rule.get(field, []):
                        problems.append(f"{name}: wildcard in {field}")
        elif kind == "MutatingWebhookConfiguration":
            for webhook in document["webhooks"]:
                expect = {
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                }
                for field, value in expect.items():
                    if webhook.get(field) != value:
                        problems.append(f"{name}: {field} is {webhook.get(field)!r}, want {value!r}")
                if webhook.get("failurePolicy") not in ("Ignore", "Fail"):
                    problems.append(f"{name}: failurePolicy missing")
                if not 1 <= webhook.get("timeoutSeconds", 10) <= 5:
                    problems.append(f"{name}: timeoutSeconds {webhook.get('timeoutSeconds')} is not within 1..5")
                if webhook["clientConfig"]["service"].get("path") != "/mutate-batch-v1-job":
                    problems.append(f"{name}: path is not /mutate-batch-v1-job")
                for rule in webhook["rules"]:
                    if (rule.get("apiGroups"), rule.get("apiVersions"), rule.get("resources"), rule.get("operations")) != (
                            ["batch"], ["v1"], ["jobs"], ["CREATE"]):
                        problems.append(f"{name}: rule {rule} is not batch/v1 jobs CREATE")
                excluded = [expression for expression in webhook.get("namespaceSelector", {}).get("matchExpressions", [])
                            if expression.get("key") == "kubernetes.io/metadata.name" and expression.get("operator") == "NotIn"]
                values = excluded[0]["values"] if excluded else []
                if "kube-system" not in values or len(values) < 2:
                    problems.append(f"{name}: namespaceSelector does not leave out kube-system and the release namespace")
                has_ca = bool(webhook["clientConfig"].get("caBundle"))
                injected = "cert-manager.io/inject-ca-from" in (document["metadata"].get("annotations") or {})
                if has_ca == injected:
                    problems.append(f"{name}: needs exactly one of caBundle and cert-manager.io/inject-ca-from")
    for suffix, want in (("-controller", CONTROLLER_RULES), ("-webhook", WEBHOOK_RULES),
                         ("-controller-leader-election", LEASE_RULES)):
        matching = [role for role_name, role in roles.items() if role_name.endswith(suffix)]
        if not matching:
            problems.append(f"{source}: no role ending in {suffix}")
        for role in matching:
            granted = rules_of(role)
            if granted != want:
                problems.append(f"{source}: role {role['metadata']['name']} grants {granted}, want exactly {want}")
    tls_secrets = [d for d in documents if d.get("kind") in ("Secret",) and d.get("type") == "kubernetes.io/tls"
                   and d["metadata"]["name"].endswith("-webhook-tls")]
    webhook_configs = [d for d in documents if d.get("kind") == "MutatingWebhookConfiguration"]
    for secret in tls_secrets:
        for webhook_config in webhook_configs:
            check_webhook_tls(secret, webhook_config, source, problems)
    signal_accounts = [d for d in documents if d.get("kind") == "ServiceAccount" and d["metadata"]["name"].endswith("-signal")]
    for account in signal_accounts:
        if account.get("automountServiceAccountToken") is not False:
            problems.append(f"{source}: signal ServiceAccount mounts a token")
    return problems


def main():
    problems = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as stream:
            documents = [document for document in yaml.safe_load_all(stream) if document]
        problems += check(documents, path)
    for problem in problems:
        print(f"ERROR {problem}")
    print(f"check_chart_policy: {'ok' if not problems else 'FAILED'}: {len(sys.argv) - 1} renders, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
