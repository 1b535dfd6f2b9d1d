"""How the suite's time splits between `-m slow` and `-m "not slow"` (issue 24).

    python bench/suite_split.py test-artifacts/junit-sqlite.xml
    python bench/suite_split.py /tmp/junit-main.xml --top 20

Reads a JUnit XML written by `pytest --junitxml=…` (its `time` per test is setup + call +
teardown), asks pytest which tests carry the `slow` marker today (a collection only, no test
runs), and prints the sum of all times, the sum of the tests not marked slow, and their
ratio. Goal: not slow < 50 % of all.

A test in the XML is matched to today's tests by its module and name; a file moved since the
XML was written is matched by its file name and test name when that is unique. Tests in the
XML that match nothing today are counted (and listed with --top) as not slow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def junit_times(path: str) -> dict[tuple[str, str], float]:
    """(classname, name) -> seconds, for every testcase in the XML."""
    times: dict[tuple[str, str], float] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        times[key] = times.get(key, 0.0) + float(case.get("time") or 0)
    return times


def collected_markers() -> dict[tuple[str, str], bool]:
    """(classname as JUnit writes it, name) -> marked slow, for every test collected today."""
    import pytest

    found: dict[tuple[str, str], bool] = {}

    class Collect:
        def pytest_collection_modifyitems(self, items):
            for item in items:
                path, *parts = item.nodeid.split("::")
                module = path.removesuffix(".py").replace("/", ".")
                classname = ".".join([module, *parts[:-1]])
                found[(classname, parts[-1])] = item.get_closest_marker("slow") is not None

    os.chdir(ROOT)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[Collect()])
    if code not in (0, pytest.ExitCode.NO_TESTS_COLLECTED):
        sys.exit(f"collection failed ({code})")
    return found


def classify(times, markers) -> tuple[dict[tuple[str, str], bool], list[tuple[str, str]]]:
    """Each XML test -> marked slow today; and the XML's tests that match nothing today."""
    by_file_name: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    for (classname, name), slow in markers.items():
        module, rest = _module_and_class(classname)
        by_file_name[(module.rsplit(".", 1)[-1], rest, name)].append(slow)
    decided: dict[tuple[str, str], bool] = {}
    unmatched = []
    for key in times:
        if key in markers:
            decided[key] = markers[key]
            continue
        module, rest = _module_and_class(key[0])
        candidates = by_file_name.get((module.rsplit(".", 1)[-1], rest, key[1]), [])
        decided[key] = len(candidates) == 1 and candidates[0]
        if len(candidates) != 1:
            unmatched.append(key)
    return decided, unmatched


def _module_and_class(classname: str) -> tuple[str, str]:
    """'tests.a.test_b.TestC' -> ('tests.a.test_b', 'TestC'); no class -> ('tests.a.test_b', '')."""
    parts = classname.split(".")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith("test_"):
            return ".".join(parts[: i + 1]), ".".join(parts[i + 1 :])
    return classname, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("junit_xml")
    parser.add_argument("--top", type=int, default=0, help="also list the N slowest not-slow tests")
    args = parser.parse_args()

    times = junit_times(args.junit_xml)
    markers = collected_markers()
    decided, unmatched = classify(times, markers)
    slow_s = sum(s for k, s in times.items() if decided[k])
    fast_s = sum(s for k, s in times.items() if not decided[k])
    total = slow_s + fast_s
    n_slow = sum(decided.values())
    print(f"junit: {args.junit_xml}: {len(times)} tests, {total:.1f} s in all")
    print(f"  marked slow:  {slow_s:8.1f} s")
    print(f"  not slow:     {fast_s:8.1f} s  ({fast_s / total:.1%} of all; goal < 50 %)")
    print(f"  ({n_slow} tests marked slow, {len(times) - n_slow} not)")
    if unmatched:
        print(
            f"  {len(unmatched)} tests of the XML match no test collected today (counted not slow)"
        )
    if args.top:
        fast = [(s, k) for k, s in times.items() if not decided[k]]
        print(f"\nThe {args.top} slowest tests not marked slow:")
        for seconds, (classname, name) in sorted(fast, reverse=True)[: args.top]:
            print(f"  {seconds:7.2f} s  {classname}::{name}")
        for key in unmatched[: args.top]:
            print(f"  unmatched: {key[0]}::{key[1]}")


if __name__ == "__main__":
    main()
