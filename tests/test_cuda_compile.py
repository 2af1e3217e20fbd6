"""The CUDA compile check: every CUDA source of generated_ops/ compiles, and the whole extension links and
loads (dlopen, every symbol resolved), against the CUDA build of torch in .venv-cuda and the toolkit at
GRIMOIRE_CUDA_HOME, for sm_90 (as PTX, unoptimized: GRIMOIRE_COMPILE_CHECK). No GPU is needed and no
kernel runs. `make setup-cuda` makes the venv.

Where there is no toolkit the check is skipped with the reason shown; under CI=true it fails instead."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CUDA_HOME = Path(os.environ.get("GRIMOIRE_CUDA_HOME", "/usr/local/cuda"))
PYTHON = ROOT / ".venv-cuda" / "bin" / "python"
BUILD_DIR = ROOT / "generated_ops" / "_build" / "cuda-check"


def _unavailable(reason: str) -> None:
    message = f"CUDA compile check SKIPPED: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: it must run)")
    pytest.skip(message)


def test_every_cuda_source_compiles_and_links():
    if not (CUDA_HOME / "bin" / "nvcc").exists():
        _unavailable(f"no CUDA toolkit at {CUDA_HOME} (set GRIMOIRE_CUDA_HOME)")
    if not PYTHON.exists():
        _unavailable(f"no {PYTHON.parent.parent.name} with the CUDA build of torch (run `make setup-cuda`)")
    sources = sorted(p.name for p in (ROOT / "generated_ops" / "csrc").glob("*.cu"))
    assert sources, "no CUDA sources were generated: no op lists cuda in its devices"
    # GRIMOIRE_COMPILE_CHECK: -O0 and PTX alone; what runs nowhere need not be optimized or assembled.
    env = dict(os.environ, CUDA_HOME=str(CUDA_HOME), TORCH_CUDA_ARCH_LIST="9.0", GRIMOIRE_WITH_CUDA="1",
               GENERATED_OPS_BUILD_DIR=str(BUILD_DIR), GRIMOIRE_COMPILE_CHECK="1")
    start = time.perf_counter()
    proc = subprocess.run([str(PYTHON), str(ROOT / "generated_ops" / "_build.py")], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    errors = [ln for ln in log.splitlines() if "error" in ln.lower()][:40]
    assert proc.returncode == 0, "CUDA build failed:\n" + "\n".join(errors or log.splitlines()[-40:])
    stamp = json.loads((BUILD_DIR / "stamp.json").read_text())
    assert stamp["cuda"] and stamp["cuda_archs"] == "9.0", stamp
    for name in sources:
        obj = BUILD_DIR / (Path(name).stem + ".cuda.o")
        assert obj.exists() and obj.stat().st_size > 0, f"{name} was not compiled"
    print(f"CUDA compile check: {len(sources)} CUDA sources, extension linked, {seconds:.1f} s")


def _defined(header: str, section_end: str | None = None) -> set[str]:
    """Function names a grimoire header defines: through its unary macro or as a function template
    (up to the line holding `section_end`, when given)."""
    import re

    text = (ROOT / "runtime" / header).read_text()
    if section_end:
        text = text.split(section_end)[0]
    names = set(re.findall(r"^GRIMOIRE_(?:CUDA_)?UNARY\((\w+),", text, re.M))
    names |= set(re.findall(r"^(?:inline |GRIMOIRE_DEVICE )\w+ (\w+)\(", text, re.M))
    return names


def test_cuda_header_has_every_function_of_the_grammar():
    """Every function the expression grammar renders, and every one the CPU header has, has a __device__
    overload in grimoire_cuda.cuh: else a new grammar function breaks only the CUDA build."""
    import re

    from grimoire.expr import COMPARISONS, UNARY

    emitter = (ROOT / "grimoire" / "emit" / "cpp.py").read_text()  # the one writer of grimoire:: calls
    grammar = set(UNARY) | set(COMPARISONS)  # where(grimoire::gt(...), ...)
    grammar |= set(re.findall(r"grimoire::(\w+)[(<]", emitter))  # square, ipow, pow, sqrt, rsqrt, where
    grammar |= {"maximum", "minimum"}  # max(A, C) / min(A, C): written grimoire::{fn}( from a table
    assert {"square", "ipow", "where"} <= grammar  # the emitter still spells its calls as the regex reads them
    cuda = _defined("grimoire_cuda.cuh")
    assert len(grammar) > 15
    assert grammar <= cuda, f"missing from grimoire_cuda.cuh: {sorted(grammar - cuda)}"
    # The CPU header's math section (its row-kernel helpers after it are CPU-only plumbing).
    cpu = _defined("grimoire.h", section_end="Row kernels (rowwise kind)")
    assert {"exp", "sigmoid", "relu", "where"} <= cpu
    assert cpu <= cuda, f"in grimoire.h but not in grimoire_cuda.cuh: {sorted(cpu - cuda)}"
