"""Stage 5 — validate: run the generated tests with pytest and summarise them per op.

pytest writes a junit XML (--junitxml); parse_junit is the one reader of it. The summary (cli's
`grimoire test`) and the JSON for tools (`grimoire test --json`) are both made from Validation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

OUTCOMES = ("passed", "failed", "skipped")
# A test module is test_<op>.py, test_<op>_cuda.py or test_<op>_properties.py; any other keeps its name.
_MODULE_SUFFIXES = ("_cuda", "_properties")


@dataclass(frozen=True)
class CaseResult:
    op: str
    module: str  # the test file's stem, e.g. test_add_cuda
    test: str  # the test's name with its parameters, e.g. test_gradcheck[cpu]
    outcome: str  # passed | failed | skipped
    detail: str = ""  # the failure's message, or the skip's reason

    @property
    def label(self) -> str:
        """The test as people find it: its name, prefixed with its file where that is not test_<op>.py."""
        return self.test if self.module == f"test_{self.op}" else f"{self.module}::{self.test}"


@dataclass(frozen=True)
class OpResult:
    op: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: tuple[CaseResult, ...] = field(default=())

    @property
    def status(self) -> str:
        return "FAIL" if self.failed else ("ok" if self.passed else "skip")


@dataclass(frozen=True)
class Validation:
    returncode: int
    cases: tuple[CaseResult, ...]
    faults: tuple[dict, ...] = ()  # {"op", "test", "error"}: tests whose kernel faulted the GPU

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not any(c.outcome == "failed" for c in self.cases) and bool(self.cases)

    def totals(self) -> dict[str, int]:
        counts = Counter(c.outcome for c in self.cases)
        return {k: counts.get(k, 0) for k in OUTCOMES}

    def per_op(self) -> list[OpResult]:
        """One result per op: failing ops first, then by name."""
        by_op: dict[str, list[CaseResult]] = {}
        for c in self.cases:
            by_op.setdefault(c.op, []).append(c)
        out = []
        for op, cases in by_op.items():
            counts = Counter(c.outcome for c in cases)
            out.append(OpResult(op, counts.get("passed", 0), counts.get("failed", 0), counts.get("skipped", 0),
                                tuple(c for c in cases if c.outcome == "failed")))
        return sorted(out, key=lambda r: (not r.failed, r.op))

    def skip_reasons(self) -> list[tuple[str, int]]:
        """Each distinct reason a test was skipped, with how many were, most first."""
        counts = Counter(c.detail for c in self.cases if c.outcome == "skipped")
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "pytest_exit_code": self.returncode,
            "totals": self.totals(),
            "ops": [{"op": r.op, "status": r.status, "passed": r.passed, "failed": r.failed, "skipped": r.skipped,
                     "failures": [{"test": c.label, "message": c.detail} for c in r.failures]}
                    for r in self.per_op()],
            "skipped": [{"reason": reason, "count": n} for reason, n in self.skip_reasons()],
            "gpu_faults": list(self.faults),
        }


def op_of_module(stem: str, ops: Optional[Iterable[str]] = None) -> str:
    """test_gelu_tanh_cuda -> gelu_tanh: the longest known op the module is named after (without `ops`,
    the name less its test_ prefix and a _cuda / _properties suffix)."""
    name = stem[len("test_"):] if stem.startswith("test_") else stem
    if ops is not None:
        matches = [op for op in ops if name == op or any(name == op + s for s in _MODULE_SUFFIXES)]
        return max(matches, key=len) if matches else name
    for s in _MODULE_SUFFIXES:
        if name.endswith(s) and len(name) > len(s):
            return name[: -len(s)]
    return name


def parse_junit(xml_path: Path, ops: Optional[Iterable[str]] = None) -> list[CaseResult]:
    ops = list(ops) if ops is not None else None
    cases = []
    for tc in ET.parse(xml_path).getroot().iter("testcase"):
        module = tc.get("classname", "").split(".")
        stem = next((m for m in module if m.startswith("test_")), module[-1] if module else "?")
        outcome, detail = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error"):
                outcome, detail = "failed", (child.get("message") or "")[:300]
            elif child.tag == "skipped" and outcome != "failed":
                outcome, detail = "skipped", child.get("message") or ""
        cases.append(CaseResult(op_of_module(stem, ops), stem, tc.get("name", ""), outcome, detail))
    return cases


def known_ops(output: Path) -> Optional[list[str]]:
    """The ops the generated package holds, from its manifest.json (None where it cannot be read)."""
    try:
        ops = json.loads((output / "manifest.json").read_text())["ops"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [o if isinstance(o, str) else o.get("name", "") for o in ops]


def run_tests(tests_dir: Path, junit: Path, extra_args: list[str] | None = None, *, cwd: Path,
              quiet: bool = True, ops: Optional[Iterable[str]] = None, pytest_to_stderr: bool = False) -> Validation:
    """Run pytest on the generated tests; pytest_to_stderr keeps stdout for a machine-read summary.

    Crash isolation: where a test faults the GPU, the generated tests' plugin (_isolation.py) blames it and
    skips the later CUDA tests of that process as "not run", listing them in the fault log; they are run
    again here in a fresh process, until none is left, and their results replace the skips."""
    junit.parent.mkdir(parents=True, exist_ok=True)
    fault_log = junit.with_name(junit.stem + ".faults.jsonl")
    targets = [str(tests_dir)]
    cases: dict[tuple[str, str], CaseResult] = {}
    returncode = 0
    faults: list[dict] = []
    while targets:
        for path in (junit, fault_log):
            if path.exists():
                path.unlink()
        cmd = [sys.executable, "-m", "pytest", *targets, f"--junitxml={junit}", "-p", "no:cacheprovider",
               "-q" if quiet else "-v", *(extra_args or [])]
        env = dict(os.environ, GRIMOIRE_FAULT_LOG=str(fault_log))
        proc = subprocess.run(cmd, cwd=cwd, stdout=2 if pytest_to_stderr else None, env=env)
        returncode = returncode or proc.returncode
        for c in (parse_junit(junit, ops) if junit.exists() else []):
            cases[(c.module, c.test)] = c
        records = read_fault_log(fault_log)
        faults += [r["fault"] for r in records if "fault" in r]
        not_run = [r["not_run"] for r in records if "not_run" in r]
        # Each round runs at least one test fewer (the faulting one is not run again): it ends.
        targets = not_run if len(not_run) < len(targets) or targets == [str(tests_dir)] else []
    if fault_log.exists():
        fault_log.unlink()
    return Validation(returncode, tuple(cases.values()), tuple(faults))


def read_fault_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


MAX_NAMED_FAILURES = 8  # per op, in the text summary (the JSON has them all)
MAX_SKIP_REASONS = 10


def summary(result: Validation, width: int = 80) -> list[tuple[str, str]]:
    """The text summary, as (kind, line): kind is "fail", "ok", "skip" or "total". Failing ops first, one
    line per op with its counts, a failing op's tests by name on the lines under it (indented, wrapped
    between names to fit `width`), the reasons tests were skipped, and the total last."""
    rows = result.per_op()
    if not result.cases:
        return [("total", f"no generated test ran (pytest exit code {result.returncode})")]
    w = min(max(len(r.op) for r in rows), 24)
    out: list[tuple[str, str]] = []
    indent = " " * 6
    for r in rows:
        line = (f"{r.status:<4}  {r.op:<{w}}  {r.passed:>5} passed  {r.failed:>3} failed  {r.skipped:>4} skipped")
        if not r.failures:
            out.append(("ok" if r.passed else "skip", line))
            continue
        names = [c.label for c in r.failures[:MAX_NAMED_FAILURES]]
        more = len(r.failures) - len(names)
        if more:
            names.append(f"+{more} more (grimoire test --json lists all)")
        out.append(("fail", line + ":"))
        current = indent
        for i, name in enumerate(names):
            piece = name + ("," if i < len(names) - 1 else "")
            if current.strip() and len(current) + 1 + len(piece) > width:
                out.append(("fail", current))
                current = indent
            current += ("" if not current.strip() else " ") + piece
        out.append(("fail", current))
    for f in result.faults:  # the ops that faulted the GPU; the other ops' CUDA tests ran in a fresh process
        out.append(("fail", f"GPU fault: {f['op']} faulted the GPU ({f['error']}) in {f['test']}"))
    reasons = result.skip_reasons()
    for reason, n in reasons[:MAX_SKIP_REASONS]:
        # A long reason wraps under its start, so the summary stays `width` wide.
        head = f"skipped {n:>4}: "
        lines = textwrap.wrap(reason or "(no reason given)", width=max(20, width - len(head)))
        out.append(("skip", head + lines[0]))
        out.extend(("skip", " " * len(head) + line) for line in lines[1:])
    if len(reasons) > MAX_SKIP_REASONS:
        out.append(("skip", f"skipped: {len(reasons) - MAX_SKIP_REASONS} other reasons (grimoire test --json lists all)"))
    t = result.totals()
    counts = f"{t['failed']} failed, {t['passed']} passed, {t['skipped']} skipped in {len(rows)} ops"
    failing = [r.op for r in rows if r.failed]
    if failing:
        out.append(("total", f"FAILED: {counts}; failing: {', '.join(failing)}"))
    elif result.ok:
        out.append(("total", f"passed: {counts}"))
    else:
        out.append(("total", f"FAILED: {counts}; pytest exited with code {result.returncode}"))
    return out
