"""Generated Python reads as a hand-kept project's: the bundled ops and the conformance suite pass the
checks such a project runs on its own code, with grimoire's settings (grimoire/format.py): ruff's lint
rules and its formatter. Generated C++/CUDA, and the runtime library copied into it verbatim (runtime/),
is clang-formatted. No generated file silences a check with a `noqa` mark."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from grimoire import format as fmt

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"generated_ops": ROOT / "generated_ops",
            "conformance_ops": ROOT / "tests" / "conformance" / "conformance_ops"}


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


def _python_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.py") if "_build" not in p.parts and "_lib" not in p.parts)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_generated_python_passes_ruff(package):
    files = _python_files(PACKAGES[package])
    assert files
    proc = _run([fmt.tool("ruff"), "check", *fmt.ruff_lint_args(package), *files])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr
    proc = _run([fmt.tool("ruff"), "format", "--check", *fmt.ruff_config_args(package), *files])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr
    marked = [f for f in files if "noqa" in Path(f).read_text()]
    assert not marked, f"generated files with a noqa mark: {marked}"


def _constant_conditions(source: str) -> list[int]:
    """Lines of Python whose condition is a literal (`x if True else y`, `True and x`): what a template
    wrote where it should have chosen the text itself."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        tests = []
        if isinstance(node, (ast.If, ast.IfExp)):
            tests = [node.test]
        elif isinstance(node, ast.BoolOp):
            tests = node.values
        lines += [node.lineno for t in tests if isinstance(t, ast.Constant) and isinstance(t.value, bool)]
    return lines


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_generated_code_has_no_constant_conditions(package):
    """No generated condition is a literal: `x if True else y` in Python, `true && a` or `if (false)` in C++."""
    found = [f"{f}:{n}" for f in _python_files(PACKAGES[package])
             for n in _constant_conditions(Path(f).read_text())]
    literal = re.compile(r"\btrue &&|&& true\b|\bfalse \|\||\|\| false\b|\bif (constexpr )?\((true|false)\)")
    for f in sorted((PACKAGES[package] / "csrc").glob("*.c*")):
        found += [f"{f}:{n}" for n, line in enumerate(f.read_text().splitlines(), 1) if literal.search(line)]
    assert not found, found
    assert _constant_conditions("a = x if True else y\nb = False or z\n") == [1, 2]


@pytest.mark.parametrize("folder", ["generated_ops/csrc", "tests/conformance/conformance_ops/csrc", "runtime"])
def test_cpp_is_clang_formatted(folder):
    files = sorted(str(p) for p in (ROOT / folder).iterdir() if p.suffix in {".cpp", ".cu", ".h", ".cuh"})
    assert files
    proc = _run([fmt.tool("clang-format"), "--dry-run", "--Werror", f"--style={fmt.CPP_STYLE}", *files])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]


def test_format_is_idempotent_and_fixes_layout():
    # What the formatter stage does to a template's careless layout: sorted imports, its own package's
    # last, normalised spacing; an unused import stays (it may be imported for its side effects); C++ in
    # Google's brace style; formatting its own output again changes nothing.
    files = {"pkg/mod.py": "from pkg import a\nimport torch\nimport os, sys\nx = ( os.sep +\n  str(torch.pi) )\n",
             "csrc/k.cpp": "int f(int a){ if(a){return 1;} else {\nreturn 2;}}\n"}
    once = fmt.format_files(files, "pkg")
    assert once["pkg/mod.py"] == ("import os\nimport sys\n\nimport torch\n\nfrom pkg import a\n\n"
                                  "x = os.sep + str(torch.pi)\n")
    assert once["csrc/k.cpp"] == "int f(int a) {\n  if (a) {\n    return 1;\n  } else {\n    return 2;\n  }\n}\n"
    assert fmt.format_files(once, "pkg") == once
