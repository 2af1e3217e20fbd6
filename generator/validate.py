"""Stage 5 — validate: run the generated tests with pytest and summarise them as op x check."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# Test-name prefixes folded into one column each; any other test keeps its own name.
_GROUPS = (("test_rejects_", "bad inputs"), ("test_backward", "backward"), ("test_compile", "compile"),
           ("test_noncontiguous", "noncontig"), ("test_default_attrs", "defaults"), ("test_layout", "layout"),
           ("test_", ""))


@dataclass(frozen=True)
class CaseResult:
    op: str
    check: str
    params: str
    outcome: str  # passed | failed | skipped
    detail: str = ""


@dataclass(frozen=True)
class Validation:
    returncode: int
    cases: tuple[CaseResult, ...]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not any(c.outcome == "failed" for c in self.cases) and bool(self.cases)

    def grid(self) -> dict[str, dict[str, dict[str, int]]]:
        """op -> check -> outcome -> count."""
        out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        for c in self.cases:
            out[c.op][c.check][c.outcome] += 1
        return out

    def checks(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.cases:
            seen.setdefault(c.check, None)
        return list(seen)


def check_name(test_name: str) -> str:
    base = test_name.split("[", 1)[0]
    for prefix, group in _GROUPS:
        if base.startswith(prefix):
            return group or base[len(prefix):]
    return base


def parse_junit(xml_path: Path) -> list[CaseResult]:
    cases = []
    for tc in ET.parse(xml_path).getroot().iter("testcase"):
        module = tc.get("classname", "").split(".")
        op = next((m[len("test_"):] for m in module if m.startswith("test_")), module[-1] if module else "?")
        name = tc.get("name", "")
        params = name[name.index("[") + 1:-1] if "[" in name else ""
        outcome, detail = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error"):
                outcome, detail = "failed", (child.get("message") or "")[:300]
            elif child.tag == "skipped":
                outcome, detail = "skipped", child.get("message") or ""
        cases.append(CaseResult(op, check_name(name), params, outcome, detail))
    return cases


def run_tests(tests_dir: Path, junit: Path, extra_args: list[str] | None = None, *, cwd: Path,
              quiet: bool = True) -> Validation:
    junit.parent.mkdir(parents=True, exist_ok=True)
    if junit.exists():
        junit.unlink()
    cmd = [sys.executable, "-m", "pytest", str(tests_dir), f"--junitxml={junit}", "-p", "no:cacheprovider",
           "-rs", "-q" if quiet else "-v", *(extra_args or [])]
    proc = subprocess.run(cmd, cwd=cwd)
    cases = parse_junit(junit) if junit.exists() else []
    return Validation(proc.returncode, tuple(cases))


def cell(counts: dict[str, int]) -> str:
    p, f, s = counts.get("passed", 0), counts.get("failed", 0), counts.get("skipped", 0)
    if f:
        return f"FAIL {f}/{p + f + s}"
    if p and s:
        return f"ok {p} s{s}"
    if p:
        return f"ok {p}"
    return f"skip {s}" if s else "-"


