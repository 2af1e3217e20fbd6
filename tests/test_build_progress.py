"""The generated builder (generated_ops/_build.py, rendered from templates/extension/_build.py.j2) tells what it
does: a compiling build prints ninja's [n/m] steps on stderr also when that is no terminal, a no-op build
prints nothing, --verbose shows the compiler commands, and a lock left by a killed build is cleared with a
message instead of blocking every later build. Each test builds a copy of the builder whose sources are two
tiny C++ files (no torch headers), so a build takes a few seconds."""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grimoire import build as gbuild

ROOT = Path(__file__).resolve().parent.parent
STEP = re.compile(r"^\[(\d+)/(\d+)\] ", re.M)


def make_package(tmp_path: Path) -> Path:
    """tmp_path/pkg: generated_ops' builder, building csrc/a.cpp and csrc/b.cpp into pkg/_build."""
    pkg = tmp_path / "pkg"
    (pkg / "csrc").mkdir(parents=True)
    text = (ROOT / "generated_ops" / "_build.py").read_text()
    for name, value in (("CPU_SOURCES", '("a.cpp", "b.cpp")'), ("CUDA_SOURCES", "()"),
                        ("USER_CPU_KERNELS", "()"), ("USER_CUDA_KERNELS", "()")):
        text, n = re.subn(rf"^{name} = \(.*?\)$" if "KERNELS" in name else rf"^{name} = \(.*?^\)",
                          f"{name} = {value}", text, count=1, flags=re.S | re.M)
        assert n == 1, name
    (pkg / "_build.py").write_text(text)
    for n in "ab":  # iostream: the library needs the shared libstdc++, which the builder checks for
        (pkg / "csrc" / f"{n}.cpp").write_text(f"#include <iostream>\nvoid {n}_f(int x) {{ std::cout << x; }}\n")
    return pkg


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("GRIMOIRE_WITH_CUDA", "0")
    monkeypatch.setenv("MAX_JOBS", "2")
    monkeypatch.delenv("GENERATED_OPS_BUILD_DIR", raising=False)


def run_builder(pkg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The builder as `python generated_ops/_build.py`, stdout and stderr pipes (not terminals)."""
    return subprocess.run([sys.executable, str(pkg / "_build.py"), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_compiling_build_prints_progress_off_a_terminal_and_a_no_op_build_is_silent(tmp_path: Path):
    pkg = make_package(tmp_path)
    proc = run_builder(pkg)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"built {pkg / '_build' / 'generated_ops_C.so'}"
    steps = STEP.findall(proc.stderr)
    assert steps and steps[-1][0] == steps[-1][1] == "3", proc.stderr  # two compiles and a link
    assert re.search(r"^\[\d/3\] compiling csrc/a\.cpp", proc.stderr, re.M), proc.stderr
    assert re.search(r"^\[3/3\] linking generated_ops_C\.so", proc.stderr, re.M), proc.stderr
    assert "-MMD" not in proc.stderr  # no compiler commands without --verbose

    start = time.perf_counter()
    proc = run_builder(pkg)
    assert time.perf_counter() - start < 2
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("up-to-date ")


def test_grimoire_build_passes_the_progress_on(tmp_path: Path, capsys):
    pkg = make_package(tmp_path)
    result = gbuild.build(pkg)
    assert result.rebuilt
    err = capsys.readouterr().err
    assert re.search(r"^\[\d/3\] compiling csrc/b\.cpp", err, re.M), err
    result = gbuild.build(pkg)
    assert not result.rebuilt and capsys.readouterr().err == ""


def test_verbose_shows_the_compiler_commands(tmp_path: Path):
    pkg = make_package(tmp_path)
    proc = run_builder(pkg, "--verbose")
    assert proc.returncode == 0, proc.stderr
    command = re.search(r"^\[\d/3\] .*\s-c (\S+/csrc/a\.cpp) -o a\.o", proc.stderr, re.M)
    assert command and Path(command[1]) == pkg / "csrc" / "a.cpp", proc.stderr


def test_a_stale_lock_from_a_killed_build_is_cleared_with_a_message(tmp_path: Path):
    pkg = make_package(tmp_path)
    build_dir = pkg / "_build"
    build_dir.mkdir()
    pid = dead_pid()
    # What a build killed mid-compile leaves: our record of it, and torch's FileBaton `lock` (which torch's
    # own waiters poll for ever).
    (build_dir / "build.lock").write_text(json.dumps({"pid": pid, "host": socket.gethostname()}))
    (build_dir / "lock").touch()
    proc = run_builder(pkg, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"removing a stale build lock left by process {pid} (no longer running)" in proc.stderr
    assert STEP.search(proc.stderr) and proc.stdout.startswith("built ")
    assert not (build_dir / "lock").exists()
    assert (build_dir / "build.lock").read_text() == ""  # released cleanly: nothing stale for the next one


def test_a_running_build_is_waited_for_and_named(tmp_path: Path):
    pkg = make_package(tmp_path)
    build_dir = pkg / "_build"
    build_dir.mkdir()
    fd = os.open(build_dir / "build.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a build in this process
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        child = subprocess.Popen([sys.executable, str(pkg / "_build.py")], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        first = child.stderr.readline()
        assert f"waiting for the build in process {os.getpid()} to finish" in first, first
        time.sleep(0.5)
        assert child.poll() is None and not (build_dir / "generated_ops_C.so").exists()
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # the build "finishes"
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert "stale" not in err and STEP.search(err) and out.startswith("built ")
