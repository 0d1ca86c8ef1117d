#!/usr/bin/env python3
"""Proves that check_chart_policy.py catches what it claims to catch.

Takes one rendered chart that must pass, breaks it in one way at a time, and fails unless
each broken copy is reported with the expected message. Usage: check_chart_policy_selftest.py RENDERED.yaml
"""
import base64
import copy
import sys

import yaml

import check_chart_policy


def first(documents, kind, suffix=""):
    return next(d for d in documents if d.get("kind") == kind and d["metadata"]["name"].endswith(suffix))


def container(documents, component):
    return first(documents, "Deployment", f"-{component}")["spec"]["template"]["spec"]["containers"][0]


def writable_root(documents):
    container(documents, "webhook")["securityContext"]["readOnlyRootFilesystem"] = False


def privilege_escalation(documents):
    del container(documents, "controller")["securityContext"]["allowPrivilegeEscalation"]


def root_pod(documents):
    first(documents, "Deployment", "-signal")["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False


def no_readiness_probe(documents):
    del container(documents, "signal")["readinessProbe"]


def wildcard_verb(documents):
    first(documents, "ClusterRole", "-webhook")["rules"][0]["verbs"] = ["*"]


def extra_controller_verb(documents):
    first(documents, "ClusterRole", "-controller")["rules"][0]["verbs"].append("delete")


def missing_lease_verb(documents):
    first(documents, "Role", "-leader-election")["rules"][0]["verbs"].remove("update")


def update_operation(documents):
    first(documents, "MutatingWebhookConfiguration")["webhooks"][0]["rules"][0]["operations"].append("UPDATE")


def side_effects(documents):
    first(documents, "MutatingWebhookConfiguration")["webhooks"][0]["sideEffects"] = "Some"


def long_timeout(documents):
    first(documents, "MutatingWebhookConfiguration")["webhooks"][0]["timeoutSeconds"] = 30


def kube_system_included(documents):
    first(documents, "MutatingWebhookConfiguration")["webhooks"][0]["namespaceSelector"] = {}


def foreign_ca_bundle(documents):
    webhook = first(documents, "MutatingWebhookConfiguration")["webhooks"][0]
    webhook["clientConfig"]["caBundle"] = first(documents, "Secret", "-webhook-tls")["data"]["tls.crt"]


def key_of_another_cert(documents):
    secret = first(documents, "Secret", "-webhook-tls")
    secret["data"]["tls.key"] = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").decode()


def signal_token(documents):
    del first(documents, "ServiceAccount", "-signal")["automountServiceAccountToken"]


MUTATIONS = [
    (writable_root, "root filesystem is writable"),
    (privilege_escalation, "allowPrivilegeEscalation is not false"),
    (root_pod, "runAsNonRoot is not true"),
    (no_readiness_probe, "no readinessProbe"),
    (wildcard_verb, "wildcard in verbs"),
    (extra_controller_verb, "want exactly"),
    (missing_lease_verb, "want exactly"),
    (update_operation, "is not batch/v1 jobs CREATE"),
    (side_effects, "sideEffects"),
    (long_timeout, "timeoutSeconds 30"),
    (kube_system_included, "does not leave out kube-system"),
    (foreign_ca_bundle, "caBundle is not the Secret's ca.crt"),
    (key_of_another_cert, "tls.key does not belong to tls.crt"),
    (signal_token, "signal ServiceAccount mounts a token"),
]


def main():
    with open(sys.argv[1], encoding="utf-8") as stream:
        rendered = [document for document in yaml.safe_load_all(stream) if document]
    failures = 0
    baseline = check_chart_policy.check(rendered, "baseline")
    if baseline:
        print(f"ERROR the unbroken render already has problems: {baseline}")
        failures += 1
    for mutate, expected in MUTATIONS:
        broken = copy.deepcopy(rendered)
        mutate(broken)
        problems = check_chart_policy.check(broken, mutate.__name__)
        if not any(expected in problem for problem in problems):
            print(f"ERROR {mutate.__name__}: expected a problem containing {expected!r}, got {problems}")
            failures += 1
    print(f"check_chart_policy_selftest: {len(MUTATIONS) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
