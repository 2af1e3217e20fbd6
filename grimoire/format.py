"""Stage 3b — format: rendered sources through the formatters a hand-kept project uses (ruff for Python,
clang-format for C++/CUDA), so generated code reads as a person's would and the checks such a project
runs on its own code (tests/test_generated_style.py) pass on it.

Templates lay out text; they do not count columns or sort imports. This stage does both, once, for
every file of a rendering. The formatters are pinned dependencies (pyproject.toml): the same specs give
the same files on every machine, which the drift check (`grimoire generate --check`) relies on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# One style for all generated C++/CUDA and the runtime library (runtime/): Google's, wider (kernels
# carry long TORCH_CHECK messages), includes left in the order the templates give (grimoire.h first).
CPP_STYLE = ("{BasedOnStyle: Google, ColumnLimit: 100, DerivePointerAlignment: false, "
             "PointerAlignment: Left, SortIncludes: Never, IncludeBlocks: Preserve}")
CPP_SUFFIXES = (".cpp", ".cu", ".h", ".cuh")
PY_LINE_LENGTH = 100
# What the style check holds generated Python to (ruff's rule codes). A line may run to 120 where the
# formatter cannot break it (a long string or comment).
PY_LINT_RULES = ("E", "F", "W", "B", "I", "UP", "C4", "SIM", "RUF")
PY_LINT_IGNORE = (
    "B905",  # zip() without strict=: the generated code zips sequences it built to one length
    "B023",  # a loop variable in a lambda: torch._check calls its message lambda at once, in the iteration
    "RUF005", "SIM108",  # (*a, b) over a + (b,), a ternary over if/else: either reads well
    # Optional[T], not T | None: torch.library reads custom ops' annotations to infer their schemas, and
    # the torch versions grimoire supports do not all read the | spelling.
    "UP007", "UP045",
)
PY_LINT_PER_FILE_IGNORES = (
    # The package loads its compiled library before the op modules that register against it.
    "__init__.py:E402",
    # Property tests skip, visibly, where Hypothesis is missing, before importing what needs it.
    "**/test_*_properties.py:E402",
)


class FormatError(Exception):
    """A formatter is missing or failed; nothing was written."""


def tool(name: str) -> str:
    """The formatter installed beside this Python (a dependency of grimoire), else one on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is None:
        raise FormatError(f"{name} is not installed: grimoire formats what it generates with it. "
                          f"Install grimoire's dependencies (pip install -e .), or pip install {name}.")
    return found


def ruff_config_args(package: str) -> list[str]:
    """ruff's settings for the generated Python of `package`, independent of any configuration around
    the output (its imports sort as first-party wherever the package sits)."""
    return ["--isolated", "--no-cache", "--target-version", "py310",
            "--config", f"line-length = {PY_LINE_LENGTH}",
            "--config", "lint.pycodestyle.max-line-length = 120",
            "--config", f"lint.isort.known-first-party = [{package!r}]"]


def ruff_lint_args(package: str) -> list[str]:
    args = [*ruff_config_args(package), "--select", ",".join(PY_LINT_RULES), "--ignore", ",".join(PY_LINT_IGNORE)]
    for entry in PY_LINT_PER_FILE_IGNORES:
        args += ["--per-file-ignores", entry]
    return args


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # Its errors (a file that is not Python: a template's mistake) go to stderr; stdout is progress.
        raise FormatError(f"{Path(cmd[0]).name} failed on the rendered files:\n{(proc.stderr or proc.stdout).strip()}")


def format_files(files: dict[str, str], package: str) -> dict[str, str]:
    """The files with every Python module and C++/CUDA source formatted; other files as they were.

    Python: ruff's safe fixes, then `ruff format`. C++/CUDA: clang-format in CPP_STYLE. One run of each
    tool over a temporary copy of the files."""
    py = [p for p in files if p.endswith(".py")]
    cpp = [p for p in files if p.endswith(CPP_SUFFIXES)]
    if not py and not cpp:
        return dict(files)
    out = dict(files)
    with tempfile.TemporaryDirectory(prefix="grimoire-format-") as tmp:
        root = Path(tmp)
        for rel in py + cpp:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(files[rel])
        if py:
            ruff = tool("ruff")
            # ruff's safe fixes of the checked rules (import order, modern spellings, literals), which never
            # change behaviour; what has no safe fix is the templates' to get right. An unused import is
            # not removed: it may be there for its side effects (render.tidy_imports cuts the ones a
            # template marks as maybe unused). Twice: formatting a fixed line can open another fix.
            for _ in range(2):
                _run([ruff, "check", *ruff_lint_args(package), "--fix", "--unfixable", "F401", "--exit-zero",
                      "--quiet", *py], root)
                _run([ruff, "format", *ruff_config_args(package), *py], root)
        if cpp:
            _run([tool("clang-format"), "-i", f"--style={CPP_STYLE}", *cpp], root)
        for rel in py + cpp:
            out[rel] = (root / rel).read_text()
    return out
