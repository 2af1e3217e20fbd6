"""The conformance suite (tests/conformance/README.md) as part of the project's pytest run.

Its generated package, conformance_ops/, is imported by its generated tests (`import conformance_ops`), so
this folder goes on sys.path before they are collected. Its benchmarks are not tests, and its
tests/test_profiler.py is the package-wide profiler test that generated_ops/tests already runs from the
same template (pytest's default import mode cannot hold two test modules of one basename), so neither is
collected. At the end of the session the results of its generated tests are summed up per op kind.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "conformance_ops"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

collect_ignore = ["conformance_ops/benchmarks", "conformance_ops/tests/test_profiler.py"]

# The kind of each conformance op, read from its spec (no Prolog needed): op -> kind.
KINDS = {
    m.group(1): m.group(2)
    for spec in sorted((HERE / "semantics" / "ops").glob("*.pl"))
    for m in [re.search(r"^component\((\w+), kind, (\w+)\)\.", spec.read_text(), re.M)]
    if m
}
_TEST_FILE = re.compile(r"conformance_ops/tests/test_(\w+?)(?:_cuda|_properties)?\.py$")
_results: dict[str, Counter] = defaultdict(Counter)


def _op_of(nodeid: str) -> str | None:
    m = _TEST_FILE.search(nodeid.split("::")[0])
    if not m:
        return None
    name = m.group(1)
    return name if name in KINDS else None


def pytest_runtest_logreport(report):
    op = _op_of(report.nodeid)
    if op is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed) or (
            report.when == "teardown" and report.failed):
        outcome = "skipped" if report.skipped else "failed" if report.failed else "passed"
        _results[KINDS[op]][outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    tr = terminalreporter
    tr.section("conformance suite: generated tests per kind")
    total = Counter()
    for kind in sorted(_results):
        c = _results[kind]
        total.update(c)
        ops = sorted(op for op, k in KINDS.items() if k == kind)
        tr.write_line(f"{kind:16} {c['passed']:5} passed {c['failed']:3} failed {c['skipped']:4} skipped   "
                      f"({', '.join(ops)})")
    tr.write_line(f"{'total':16} {total['passed']:5} passed {total['failed']:3} failed {total['skipped']:4} skipped")
