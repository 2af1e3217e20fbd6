"""Stage 4 — build: compile generated_ops/ by running its own generated builder (torch + ninja only).

The builder runs in one child process, so this process never imports torch, and a no-op build costs
one Python start and a stamp comparison. What the builder says on stderr is passed on as it comes:
ninja's [n/m] steps and its notes (everything with --verbose, the compiler commands included).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


class BuildError(Exception):
    def __init__(self, log: str):
        self.log = log
        super().__init__(log)


@dataclass(frozen=True)
class BuildResult:
    library: Path
    seconds: float
    rebuilt: bool


def build(output_dir: Path, *, verbose: bool = False, force: bool = False) -> BuildResult:
    builder = output_dir / "_build.py"
    if not builder.exists():
        raise BuildError(f"{builder} is missing: run `grimoire generate` first")
    start = time.perf_counter()
    cmd = [sys.executable, str(builder)] + (["--verbose"] if verbose else []) + (["--force"] if force else [])
    proc = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, errors="replace")
    err_lines: list[str] = []

    def pump() -> None:  # the builder's stderr, passed on as it comes: progress (everything with --verbose)
        for line in proc.stderr:
            err_lines.append(line)
            if verbose or _PROGRESS.match(line):
                sys.stderr.write(line)
                sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        out = proc.stdout.read()
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        reader.join()
    log = out + "".join(err_lines)
    if proc.returncode != 0:
        raise BuildError(compiler_errors(log, output_dir.resolve().parent))
    status, _, library = out.strip().splitlines()[-1].partition(" ")  # the builder's last stdout line
    return BuildResult(Path(library), time.perf_counter() - start, rebuilt=status == "built")


# What the builder says on stderr that a person sees without --verbose: ninja's "[n/m] compiling x.cpp"
# steps and its own "<package> build: ..." notes (a stale lock cleared, a build waited for).
_PROGRESS = re.compile(r"^(\[\d+/\d+\] |\S+ build: )")

# gcc/clang: "path:line:col: error: ..."; nvcc: "path(line): error: ..."
_GCC = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<kind>(?:fatal )?error): (?P<msg>.*)$")
_NVCC = re.compile(r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+)\): (?P<kind>error): (?P<msg>.*)$")
# The source excerpt gcc prints under a diagnostic: "   12 |   code" and "      |   ^~~~".
_EXCERPT = re.compile(r"^\s*\d*\s\|")


def compiler_errors(log: str, root: Path | None = None) -> str:
    """The lines a person needs, from a failed build: each compiler error as file:line[:col]: error: ...,
    with its source excerpt, paths relative to the project (so a custom op's own kernels/<op>.cpp shows as
    that), the user's kernels/ first; else the tail of the log."""
    prefix = f"{root}/" if root is not None else None
    errors: list[tuple[bool, list[str]]] = []
    current: list[str] | None = None
    for line in log.splitlines():
        m = _GCC.match(line) or _NVCC.match(line)
        if m:
            file = m["file"]
            if prefix and file.startswith(prefix):
                file = file[len(prefix):]
            col = f":{m['col']}" if m.groupdict().get("col") else ""
            current = [f"{file}:{m['line']}{col}: {m['kind']}: {m['msg']}"]
            errors.append((file.startswith("kernels/"), current))
        elif current is not None and _EXCERPT.match(line):
            current.append(line)
        else:
            current = None
    if not errors:
        lines = log.splitlines()
        return "\n".join(lines[-40:])
    ordered = [e for user, e in errors if user] + [e for user, e in errors if not user]
    unique = list(dict.fromkeys(tuple(e) for e in ordered))  # a template instantiated twice repeats its errors
    return "\n".join(line for e in unique[:20] for line in e)
