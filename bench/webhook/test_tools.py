#!/usr/bin/env python3
"""Tests of the benchmark tools that need no server: the RFC 6902 applier and the answer
normalisation of compare.py, and the key=value parsing and controller-figure lookup of
write-results.py. Run: python3 bench/webhook/test_tools.py (a second or less)."""

import base64
import importlib.util
import json
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = load("compare", "compare.py")
results = load("write_results", "write-results.py")

JOB = {"metadata": {"annotations": {"a": "1"}}, "spec": {"template": {"spec": {"tolerations": [{"key": "x"}]}}}}


class ApplyPatchTests(unittest.TestCase):
    CASES = [
        ("adds a member", [{"op": "add", "path": "/spec/suspend", "value": True}], lambda d: d["spec"]["suspend"] is True),
        ("unescapes ~1 in keys", [{"op": "add", "path": "/metadata/annotations/carbon-aware.io~1state", "value": "deferred"}],
         lambda d: d["metadata"]["annotations"]["carbon-aware.io/state"] == "deferred"),
        ("appends with -", [{"op": "add", "path": "/spec/template/spec/tolerations/-", "value": {"key": "y"}}],
         lambda d: [t["key"] for t in d["spec"]["template"]["spec"]["tolerations"]] == ["x", "y"]),
        ("inserts at an index", [{"op": "add", "path": "/spec/template/spec/tolerations/0", "value": {"key": "w"}}],
         lambda d: [t["key"] for t in d["spec"]["template"]["spec"]["tolerations"]] == ["w", "x"]),
        ("adds a whole map", [{"op": "add", "path": "/metadata/labels", "value": {"m": "true"}}], lambda d: d["metadata"]["labels"] == {"m": "true"}),
    ]

    def test_cases(self):
        for name, patch, check in self.CASES:
            with self.subTest(name):
                patched = compare.apply_patch(JOB, patch)
                self.assertTrue(check(patched))
                self.assertNotIn("suspend", JOB["spec"], "the input is left alone")

    def test_refuses_what_it_cannot_apply(self):
        for name, patch in [("a missing parent", [{"op": "add", "path": "/status/x/y", "value": 1}]),
                            ("an op other than add", [{"op": "remove", "path": "/spec"}])]:
            with self.subTest(name):
                with self.assertRaises((KeyError, ValueError)):
                    compare.apply_patch(JOB, patch)


class NormaliseTests(unittest.TestCase):
    def answer(self, patch, warnings=None):
        response = {"uid": "u", "allowed": True, "patchType": "JSONPatch", "patch": base64.b64encode(json.dumps(patch).encode()).decode()}
        if warnings:
            response["warnings"] = warnings
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}

    def test_deadlines_are_set_apart_wherever_they_are(self):
        cases = [
            ("as its own op", [{"op": "add", "path": "/metadata/annotations/carbon-aware.io~1deadline", "value": "2026-12-04T02:00:00Z"}]),
            ("inside an added map", [{"op": "add", "path": "/metadata/annotations", "value": {"carbon-aware.io/deadline": "2026-12-04T02:00:00Z"}}]),
        ]
        for name, patch in cases:
            with self.subTest(name):
                envelope, normalised, warnings, deadlines = compare.normalise(self.answer(patch))
                self.assertEqual(deadlines, ["2026-12-04T02:00:00Z"])
                self.assertNotIn("2026-12-04T02:00:00Z", json.dumps(normalised))
                self.assertEqual(envelope["uid"], "u")
                self.assertEqual(warnings, [])


class WriteResultsTests(unittest.TestCase):
    def test_last_key_value_line_is_found_after_other_output(self):
        cases = [
            ("plain last line", "table\nbench=x a=1 b=2\n", {"bench": "x", "a": "1", "b": "2"}),
            ("trailing prose after it", "bench=x a=1 b=2\nmake bench: done\n", {"bench": "x", "a": "1", "b": "2"}),
            ("no such line", "only prose here\n", {}),
        ]
        for name, text, want in cases:
            with self.subTest(name):
                with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
                    file.write(text)
                try:
                    self.assertEqual(results.read_key_values(file.name)[0], want)
                finally:
                    os.unlink(file.name)

    def test_ratio(self):
        for a, b, want in [("10", "5", "2.00"), ("1", "0", "n/a"), ("nan", "3", "n/a"), (None, "1", "n/a")]:
            with self.subTest(f"{a}/{b}"):
                self.assertEqual(results.ratio(a, b), want)

    def test_controller_figures_are_found_by_size(self):
        values = {"jobs10000_release_seconds": "42.1", "jobs10000_peak_rss_mib": "180", "jobs1000_release_seconds": "4.2", "jobs1000_peak_rss_mib": "60", "writes_per_job": "1"}
        rows = results.controller_growth(values)
        self.assertEqual(rows[0][0], "1,000")
        self.assertIn("jobs1000_release_seconds=4.2", rows[0][1])
        self.assertNotIn("10000", rows[0][1] + rows[0][2])
        self.assertIn("jobs10000_peak_rss_mib=180", rows[1][2])

    def test_controller_figures_of_the_unsuffixed_first_size(self):
        values = {"release_s": "61.2", "release_per_s": "163", "peak_rss_mb": "120", "release_s_1000": "6.1", "release_per_s_1000": "164",
                  "peak_rss_mb_1000": "50", "writes_per_job": "1.0"}
        rows = results.controller_growth(values)
        self.assertEqual(rows[0][1], "release_s_1000=6.1, release_per_s_1000=164")
        self.assertEqual(rows[0][2], "peak_rss_mb_1000=50")
        self.assertEqual(rows[1][1], "release_s=61.2, release_per_s=163")
        self.assertEqual(rows[1][2], "peak_rss_mb=120")


if __name__ == "__main__":
    unittest.main()
