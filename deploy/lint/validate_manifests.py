#!/usr/bin/env python3
"""Validates Kubernetes manifests offline.

Built-in kinds go to kubernetes-validate (strict: unknown fields are errors). Custom kinds are
checked against the openAPIV3Schema of their CRD, taken from the --crd files and from any CRD
found among the inputs, in the strict way an API server with field validation reads them:
a field that the structural schema does not list is an error. A kind with no schema at all
is an error too, so that nothing passes unchecked.

Usage: validate_manifests.py [-k 1.33.0] [--crd FILE_OR_DIR ...] FILE ... ('-' reads stdin)
"""
import argparse
import copy
import os
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv


def load_documents(path):
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    documents = []
    for document in yaml.safe_load_all(text):
        if not document:
            continue
        if document.get("kind", "").endswith("List") and "items" in document:
            documents.extend(item for item in document["items"] if item)
        else:
            documents.append(document)
    return documents


def yaml_files(paths):
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith((".yaml", ".yml")):
                    yield os.path.join(path, name)
        else:
            yield path


def to_json_schema(node):
    """Turns a structural OpenAPI v3 schema into a strict JSON Schema."""
    if not isinstance(node, dict):
        return node
    schema = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            schema[key] = {name: to_json_schema(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            schema[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            schema[key] = [to_json_schema(child) for child in value]
        elif key.startswith("x-kubernetes-") or key in ("format", "default", "description", "nullable", "example"):
            continue
        else:
            schema[key] = value
    if node.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
        schema = {"anyOf": [{"type": "integer"}, {"type": "string", **{k: v for k, v in schema.items() if k == "pattern"}}]}
    if node.get("nullable"):
        schema = {"anyOf": [schema, {"type": "null"}]}
    if (node.get("type") == "object" and "properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        schema["additionalProperties"] = False
    return schema


METADATA_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def register_crd(registry, crd):
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = to_json_schema(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
        schema.setdefault("properties", {})["metadata"] = METADATA_SCHEMA
        registry[(f"{group}/{version['name']}", kind)] = schema


def default_problems(node, path="openAPIV3Schema"):
    """An API server refuses a CRD whose defaults do not validate against their own schema."""
    problems = []
    if not isinstance(node, dict):
        return problems
    if "default" in node:
        for error in jsonschema.Draft202012Validator(to_json_schema(node)).iter_errors(node["default"]):
            problems.append(f"{path}: default {node['default']!r} is invalid: {error.message}")
    for name, child in (node.get("properties") or {}).items():
        problems += default_problems(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        problems += default_problems(node["items"], f"{path}[]")
    return problems


def describe(document):
    metadata = document.get("metadata") or {}
    return f"{document.get('kind', '?')}/{metadata.get('name', '?')}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", "--kubernetes-version", default="1.33.0")
    parser.add_argument("--crd", action="append", default=[], help="CRD file or folder of CRDs")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    inputs = [(path, load_documents(path)) for path in args.files]
    registry = {}
    for path in yaml_files(args.crd):
        for document in load_documents(path):
            if document.get("kind") == "CustomResourceDefinition":
                register_crd(registry, document)
    failures = 0
    for path, documents in inputs:
        for document in documents:
            if document.get("kind") == "CustomResourceDefinition":
                register_crd(registry, document)
                for version in document["spec"]["versions"]:
                    for problem in default_problems(version["schema"]["openAPIV3Schema"]):
                        print(f"ERROR {path}: {describe(document)} {version['name']}: {problem}")
                        failures += 1

    checked = 0
    for path, documents in inputs:
        for document in documents:
            checked += 1
            where = f"{path}: {describe(document)}"
            key = (document.get("apiVersion"), document.get("kind"))
            try:
                if key in registry:
                    validator = jsonschema.Draft202012Validator(registry[key])
                    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
                    for error in errors:
                        location = ".".join(str(part) for part in error.path) or "(root)"
                        print(f"ERROR {where}: {location}: {error.message}")
                    failures += bool(errors)
                else:
                    kv.validate(document, args.kubernetes_version, strict=True)
            except kv.ValidationError as error:
                location = ".".join(str(part) for part in error.path) or "(root)"
                print(f"ERROR {where}: {location}: {error.message}")
                failures += 1
            except kv.SchemaNotFoundError:
                print(f"ERROR {where}: no schema for {key[0]} {key[1]} (neither built in nor a known CRD)")
                failures += 1
    status = "ok" if failures == 0 else "FAILED"
    print(f"validate_manifests: {status}: {checked} objects checked, {failures} invalid "
          f"(Kubernetes {args.kubernetes_version}, {len(registry)} custom kinds known)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
