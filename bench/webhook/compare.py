#!/usr/bin/env python3
"""Checks that karbonetes-webhook and the Go reference (bench/reference/webhook) give the same
answer to the same AdmissionReview, so that make bench-webhook compares equal work.

Each case is the benchmark's review (bench/webhook/admission-review.json) changed in one way.
For every case both webhooks get the same bytes; the script compares the HTTP status, the
AdmissionReview envelope (apiVersion, kind, uid, allowed, patchType), the decoded JSON Patch
and the warnings, applies each patch to the Job (RFC 6902 add, the only op admission sends)
and checks the result against what the case wants. A `carbon-aware.io/deadline` computed from
"now" may differ by up to DEADLINE_SLACK_SECONDS between the two (they answer a moment apart).

Usage: compare.py --signal green|not-green --karbonetes URL --reference URL --cafile PEM
Exit status 0 when every case agrees and meets its expectation; the last line is key=value.
"""

import argparse
import base64
import copy
import datetime
import http.client
import json
import os
import ssl
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_KEY = "carbon-aware.io/deadline"
DEADLINE_SLACK_SECONDS = 3
MANAGED = "carbon-aware.io/managed"
STATE = "carbon-aware.io/state"
NODEPOOL = "karpenter.sh/nodepool"


def rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def job(review):
    return review["request"]["object"]


def meta(review):
    return job(review)["metadata"]


def pod(review):
    return job(review)["spec"]["template"]["spec"]


# ---- the cases: (name, change to the review, what is wanted)
# want: "deferred" / "admitted-green" / "bypassed" (the state annotation the patched Job has),
# "unchanged" (allowed, no patch), or an HTTP status for a rejected request.
# Optional checks look at the patched Job; loose_warnings=True when the warnings quote an error
# whose wording is each language's own (JSON decoding, duration parsing, HTTP client).


def case(name, change, want, check=None, loose_warnings=False, content_type="application/json", raw=None):
    return dict(name=name, change=change, want=want, check=check, loose_warnings=loose_warnings, content_type=content_type, raw=raw)


def set_path(*keys_and_value):
    *keys, value = keys_and_value

    def change(review):
        target = review
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def delete_path(*keys):
    def change(review):
        target = review
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def annotate(key, value):
    return lambda review: meta(review)["annotations"].__setitem__(key, value)


def chain(*changes):
    def change(review):
        for step in changes:
            step(review)

    return change


def pod_set(key, value):
    return lambda review: pod(review).__setitem__(key, value)


def suspended(patched):
    return patched["spec"].get("suspend") is True


def preferred_pool(patched):
    terms = patched["spec"]["template"]["spec"].get("affinity", {}).get("nodeAffinity", {}).get("preferredDuringSchedulingIgnoredDuringExecution", [])
    return [value for term in terms for expression in term["preference"].get("matchExpressions", []) if expression["key"] == NODEPOOL for value in expression.get("values", [])]


def required_terms(patched):
    return patched["spec"]["template"]["spec"].get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms", [])


def tolerates_green(patched):
    return any(t.get("key") == "carbon-aware.io/green" for t in patched["spec"]["template"]["spec"].get("tolerations", []))


def one_hour_ago():
    return rfc3339(now() - datetime.timedelta(hours=1))


def hours_ago(hours):
    return rfc3339(now() - datetime.timedelta(hours=hours))


COMMON_CASES = [
    case("not opted in", annotate("carbon-aware.io/enabled", "false"), "unchanged"),
    case("Kueue-managed", lambda r: meta(r)["labels"].__setitem__("kueue.x-k8s.io/queue-name", "batch"), "unchanged"),
    case("suspended by its user", set_path("request", "object", "spec", "suspend", True), "unchanged"),
    case("UPDATE", set_path("request", "operation", "UPDATE"), "unchanged"),
    case("another kind (Pod)", set_path("request", "kind", {"group": "", "version": "v1", "kind": "Pod"}), "unchanged"),
    case("unreadable Job (labels is a number)", lambda r: meta(r).__setitem__("labels", 7), "unchanged", loose_warnings=True),
    case("wrong Content-Type", lambda r: None, 415, content_type="text/plain"),
    case("not JSON", None, 400, raw=b"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\":"),
    case("wrong apiVersion", set_path("apiVersion", "admission.k8s.io/v1beta1"), 400),
    case("no request", delete_path("request"), 400),
    case("no uid", delete_path("request", "uid"), 400),
    case("body over the 7 MiB cap", None, 413, raw=b"{\"pad\":\"" + b"x" * (7 * 1024 * 1024 + 16) + b"\"}"),
]

NOT_GREEN_CASES = [
    case("the benchmark's review", lambda r: None, "deferred", check=lambda p: suspended(p) and p["metadata"]["labels"][MANAGED] == "true"),
    case("created an hour ago (exact deadline)", lambda r: meta(r).__setitem__("creationTimestamp", one_hour_ago()), "deferred",
         check=lambda p: p["metadata"]["annotations"][DEADLINE_KEY] == rfc3339(datetime.datetime.strptime(p["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=4))),
    case("no labels at all", lambda r: meta(r).pop("labels"), "deferred", check=lambda p: p["metadata"]["labels"] == {MANAGED: "true"}),
    case("created by a CronJob (deadline from the scheduled time)", annotate("batch.kubernetes.io/cronjob-scheduled-timestamp", hours_ago(2)), "deferred"),
    case("deadline already passed (created 5h ago, max-delay 4h)", lambda r: meta(r).__setitem__("creationTimestamp", hours_ago(5)), "bypassed",
         check=lambda p: not suspended(p) and preferred_pool(p) == ["default"]),
    case("names a policy that does not exist", annotate("carbon-aware.io/policy", "nightly"), "deferred"),
    case("max-delay that is not a duration", annotate("carbon-aware.io/max-delay", "forever"), "deferred", loose_warnings=True),
    case("strict mode (no injection while held)", annotate("carbon-aware.io/mode", "strict"), "deferred", check=lambda p: "nodeAffinity" not in p["spec"]["template"]["spec"]["affinity"]),
    case("region the signal service does not know (onSignalUnavailable: run)", annotate("carbon-aware.io/region", "atlantis"), "bypassed", loose_warnings=True),
]

GREEN_CASES = [
    case("the benchmark's review", lambda r: None, "admitted-green", check=lambda p: preferred_pool(p) == ["green-batch"] and tolerates_green(p) and not suspended(p)),
    case("strict mode", annotate("carbon-aware.io/mode", "strict"), "admitted-green",
         check=lambda p: [e["values"] for t in required_terms(p) for e in t["matchExpressions"]] == [["green-batch"]]),
    case("required node affinity on a zone (requirement added to the term)",
         chain(annotate("carbon-aware.io/mode", "strict"),
               lambda r: pod(r)["affinity"].__setitem__("nodeAffinity", {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                   {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1a", "eu-west-1b"]}]}]}})),
         "admitted-green", check=lambda p: len(required_terms(p)[0]["matchExpressions"]) == 2),
    case("required node affinity pinning another pool (not steered, warned)",
         lambda r: pod(r)["affinity"].__setitem__("nodeAffinity", {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
             {"matchExpressions": [{"key": NODEPOOL, "operator": "In", "values": ["gpu"]}]}]}}),
         "admitted-green", check=lambda p: preferred_pool(p) == [] and not tolerates_green(p)),
    case("nodeSelector already on green-batch (toleration only)",
         lambda r: pod(r)["nodeSelector"].__setitem__(NODEPOOL, "green-batch"), "admitted-green",
         check=lambda p: preferred_pool(p) == [] and tolerates_green(p)),
    case("already tolerates the green taint",
         lambda r: pod(r)["tolerations"].append({"key": "carbon-aware.io/green", "operator": "Exists"}), "admitted-green",
         check=lambda p: sum(t.get("key") == "carbon-aware.io/green" for t in p["spec"]["template"]["spec"]["tolerations"]) == 1),
    case("no affinity and no tolerations", chain(lambda r: pod(r).pop("affinity"), lambda r: pod(r).pop("tolerations")), "admitted-green",
         check=lambda p: preferred_pool(p) == ["green-batch"] and tolerates_green(p)),
    case("other preferred node affinity terms (term appended)",
         lambda r: pod(r)["affinity"].__setitem__("nodeAffinity", {"preferredDuringSchedulingIgnoredDuringExecution": [
             {"weight": 20, "preference": {"matchExpressions": [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7i"]}]}}]}),
         "admitted-green", check=lambda p: preferred_pool(p) == ["green-batch"] and len(p["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]) == 2),
]


# ---- RFC 6902 add (with "-" for the end of an array), the only op the webhooks send.


def unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(document, operations):
    document = copy.deepcopy(document)
    for operation in operations:
        if operation.get("op") != "add":
            raise ValueError(f"unexpected op {operation.get('op')}")
        tokens = [unescape(t) for t in operation["path"].split("/")[1:]]
        target = document
        for token in tokens[:-1]:
            target = target[int(token)] if isinstance(target, list) else target[token]
        last = tokens[-1]
        if isinstance(target, list):
            if last == "-":
                target.append(operation["value"])
            else:
                target.insert(int(last), operation["value"])
        elif isinstance(target, dict):
            target[last] = operation["value"]
        else:
            raise ValueError(f"path {operation['path']} does not exist")
    return document


# ---- HTTP


def post(url, body, content_type, context):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=10)
    try:
        try:
            connection.request("POST", parts.path, body=body, headers={"Content-Type": content_type})
        except OSError:
            pass  # a server may answer 413 and close before the whole body is sent
        try:
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            return f"closed ({type(error).__name__})", b""
    finally:
        connection.close()


def normalise(answer):
    """The parts of an answer that must be equal, the patch decoded; deadline values kept apart."""
    response = answer.get("response", {})
    patch = json.loads(base64.b64decode(response["patch"])) if "patch" in response else None
    deadlines = []
    for operation in patch or []:
        value = operation.get("value")
        if operation.get("path", "").endswith(DEADLINE_KEY.replace("/", "~1")):
            deadlines.append(value)
            operation["value"] = "<deadline>"
        elif isinstance(value, dict) and DEADLINE_KEY in value:
            deadlines.append(value[DEADLINE_KEY])
            value[DEADLINE_KEY] = "<deadline>"
    envelope = {
        "apiVersion": answer.get("apiVersion"), "kind": answer.get("kind"), "uid": response.get("uid"),
        "allowed": response.get("allowed"), "patchType": response.get("patchType"),
    }
    return envelope, patch, response.get("warnings") or [], deadlines


def parse_deadline(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def run_case(spec, base, urls, context):
    review = copy.deepcopy(base)
    if spec["raw"] is not None:
        body = spec["raw"]
    else:
        spec["change"](review)
        body = json.dumps(review, separators=(",", ":")).encode()
    results = {name: post(url, body, spec["content_type"], context) for name, url in urls.items()}
    problems = []
    (k_status, k_body), (g_status, g_body) = results["karbonetes"], results["reference"]
    if k_status != g_status:
        problems.append(f"status karbonetes={k_status} reference={g_status}")
    want = spec["want"]
    if isinstance(want, int):
        if k_status != want:
            problems.append(f"karbonetes answered {k_status}, want {want}")
        for name, (status, raw) in results.items():
            if status == want and want != 413 and "error" not in json.loads(raw or b"{}"):
                problems.append(f"{name}: no error message in the {status} body")
        return problems
    if k_status != 200 or g_status != 200:
        return problems + [f"want 200, bodies: karbonetes={k_body[:200]!r} reference={g_body[:200]!r}"]
    k_env, k_patch, k_warn, k_deadlines = normalise(json.loads(k_body))
    g_env, g_patch, g_warn, g_deadlines = normalise(json.loads(g_body))
    if k_env != g_env:
        problems.append(f"envelope karbonetes={k_env} reference={g_env}")
    if k_env["uid"] != base["request"]["uid"] or k_env["allowed"] is not True:
        problems.append(f"uid/allowed wrong: {k_env}")
    if k_patch != g_patch:
        problems.append(f"patch karbonetes={json.dumps(k_patch)} reference={json.dumps(g_patch)}")
    if len(k_deadlines) != len(g_deadlines) or any(
            abs((parse_deadline(a) - parse_deadline(b)).total_seconds()) > DEADLINE_SLACK_SECONDS for a, b in zip(k_deadlines, g_deadlines)):
        problems.append(f"deadlines karbonetes={k_deadlines} reference={g_deadlines}")
    if spec["loose_warnings"]:
        if len(k_warn) != len(g_warn):
            problems.append(f"warnings karbonetes={k_warn} reference={g_warn}")
    elif k_warn != g_warn:
        problems.append(f"warnings karbonetes={k_warn} reference={g_warn}")
    if want == "unchanged":
        if k_patch is not None:
            problems.append(f"want no patch, got {k_patch}")
        return problems
    if k_env["patchType"] != "JSONPatch" or not k_patch:
        return problems + [f"want a JSONPatch, got {k_env}"]
    try:
        patched = apply_patch(job(review), json.loads(base64.b64decode(json.loads(k_body)["response"]["patch"])))
    except (KeyError, IndexError, ValueError, TypeError) as error:
        return problems + [f"the patch does not apply to the Job: {error!r}"]
    state = patched["metadata"].get("annotations", {}).get(STATE)
    if state != want:
        problems.append(f"state annotation {state!r}, want {want!r}")
    if spec["check"] is not None and not spec["check"](patched):
        problems.append("the patched Job fails the case's check")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signal", choices=["green", "not-green"], required=True, help="what the signal service says now")
    parser.add_argument("--karbonetes", required=True, help="https URL of karbonetes-webhook's /mutate-batch-v1-job")
    parser.add_argument("--reference", required=True, help="https URL of the Go reference's /mutate-batch-v1-job")
    parser.add_argument("--cafile", required=True, help="PEM that signs both servers' certificate")
    parser.add_argument("--review", default=os.path.join(HERE, "admission-review.json"))
    arguments = parser.parse_args()

    with open(arguments.review, encoding="utf-8") as file:
        base = json.load(file)
    context = ssl.create_default_context(cafile=arguments.cafile)
    urls = {"karbonetes": arguments.karbonetes, "reference": arguments.reference}
    cases = (GREEN_CASES if arguments.signal == "green" else NOT_GREEN_CASES) + COMMON_CASES
    failures = 0
    for spec in cases:
        problems = run_case(spec, base, urls, context)
        failures += bool(problems)
        print(f"{'ok  ' if not problems else 'FAIL'} [{arguments.signal}] {spec['name']} (want {spec['want']})")
        for problem in problems:
            print(f"       {problem}")
    print(f"compare signal={arguments.signal} cases={len(cases)} agree={len(cases) - failures} differ={failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
