"""End to end, with one build, on a second machine layout: this repository is built into a wheel;
`grimoire new-extension --generator <that wheel>` makes a project in a temp folder outside the
repository (HOME pointed at a scratch folder) and `grimoire new-op` adds one op of every other kind
Prolog knows; the project's own `make test` then makes its .venv (torch and grimoire installed from
the wheel, not from this checkout), generates, builds and passes its own tests and every generated
test untouched; `make wheel` builds its wheel, which installs and runs where neither grimoire nor
Prolog can be imported; and a typo in a custom kernel is reported at its file and line. No file of
the project and nothing in its wheel names this checkout, the temp folder or a file:// URL.

Building ~5 translation units takes a few minutes on 2 cores: it is done once, by `make test`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import cli, knowledge

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
EXAMPLE = "scaled_softsign"  # new-extension's example op (elementwise)
PACKAGE = "demo_ext"
# What the wheel is built from: the package's sources as the checkout has them (tracked, or new and not ignored).
WHEEL_SOURCES = ("pyproject.toml", "README.md", "grimoire", "templates", "semantics", "runtime", "generated_ops")
# Folders a build or an install makes in the project; everything else is the project's own files.
MADE = {".venv", "_build", "_lib", "build", "dist", "__pycache__", ".grimoire", ".pytest_cache", ".hypothesis"}


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def machine_paths(where: Path) -> tuple[str, ...]:
    """Paths of this machine that no project file may hold: the checkout, the temp folder, file:// URLs."""
    return (str(ROOT), str(where), "file://")


def copy_sources(dest: Path) -> Path:
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                                 *WHEEL_SOURCES], cwd=ROOT, capture_output=True, check=True).stdout
        paths = [p for p in listed.decode().split("\0") if p and (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the folders less what builds make
        paths = [str(p.relative_to(ROOT)) for name in WHEEL_SOURCES for p in
                 ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).rglob("*"))
                 if p.is_file() and not MADE & set(p.relative_to(ROOT).parts) and p.suffix != ".pyc"]
    for rel in paths:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a shell on the second machine: no venv of this checkout active, nothing of it on
    PYTHONPATH or PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKEFLAGS",
                                                            "MAKELEVEL", "PYTEST_ADDOPTS")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT)))
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", **extra)
    return env


def project_files(project: Path) -> dict[str, str]:
    return {str(p.relative_to(project)): p.read_bytes().decode(errors="replace") for p in sorted(project.rglob("*"))
            if p.is_file() and not MADE & set(p.relative_to(project).parts) and ".egg-info" not in str(p)
            and p.suffix not in (".so", ".o", ".pyc")}


def no_machine_paths(texts: dict[str, str], where: Path) -> None:
    for rel, text in texts.items():
        for machine_path in machine_paths(where):
            assert machine_path not in text, f"{rel} holds {machine_path!r}"


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    """The second machine's folder: the generator's wheel in wheelhouse/, projects beside it (removed
    afterwards: the project's .venv alone is over a GB)."""
    where = tmp_path_factory.mktemp("second_machine")
    assert not where.resolve().is_relative_to(ROOT)
    src = copy_sources(where / "grimoire_src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                           "-w", str(where / "wheelhouse"), str(src)], capture_output=True, text=True, cwd=where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.rmtree(src)
    (wheel,) = (where / "wheelhouse").glob("torch_grimoire-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert "grimoire/templates/new_extension/cookiecutter.json" in names and "grimoire/runtime/grimoire_inplace.h" in names
        no_machine_paths({n: z.read(n).decode(errors="replace") for n in names if n.endswith(("METADATA", ".json"))},
                         where)
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture(scope="module")
def project(machine: Path, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    root = machine / PACKAGE
    (wheel,) = (machine / "wheelhouse").glob("*.whl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setattr(cli.console, "width", 200)
        mp.setattr(cli.err, "width", 200)
        # A relative path, as the user would give it: the project names its wheelhouse, not this machine.
        r = invoke("new-extension", str(root), "--generator", f"../wheelhouse/{wheel.name}")
        assert r.exit_code == 0, r.output
        assert not any(home.iterdir()), "cookiecutter wrote into HOME"
        kinds = sorted(k["name"] for k in knowledge.scaffold_facts(root / "semantics", "probe")["kinds"])
        for kind in kinds:
            if kind != "elementwise":  # the example op is one already
                r = invoke("new-op", f"demo_{kind}", "--kind", kind, "--root", str(root))
                assert r.exit_code == 0, r.output
    return root


def make(project: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    # The system's Python, as on a fresh machine (the venv of this checkout is not the base of the project's).
    python = getattr(sys, "_base_executable", None) or sys.executable
    # The generated tests exercise inductor in the bundled ops' suite; aot_eager keeps the fake kernels
    # and fullgraph tracing under test here at a fraction of the time.
    env = clean_env(GRIMOIRE_COMPILE_BACKEND="aot_eager")
    return subprocess.run(["make", "--no-print-directory", f"PYTHON={python}", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def made(project: Path) -> subprocess.CompletedProcess:
    """`make test` in the project: its .venv with grimoire from the wheel, generate, build, every test."""
    return make(project, "test")


def ops(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "semantics" / "ops").glob("*.pl"))


def test_project_layout(project: Path, machine: Path):
    for rel in ("README.md", "Makefile", "pyproject.toml", "setup.py", ".gitignore", "flake.nix",
                "semantics/extension.pl", f"semantics/ops/{EXAMPLE}.pl", "tests/test_extension.py",
                "tests/check_wheel.py", "kernels/demo_custom.cpp"):
        assert (project / rel).is_file(), rel
    assert not (project / "semantics" / "core").exists()  # the vocabulary comes with grimoire
    readme = (project / "README.md").read_text()
    assert "make test" in readme and "make wheel" in readme
    pyproject = (project / "pyproject.toml").read_text()
    assert f'package = "{PACKAGE}"' in pyproject
    # A path is no PEP 508 requirement: the dev extra names the distribution, the Makefile the wheel.
    assert 'dev = ["torch-grimoire", "pytest>=8"]' in pyproject
    assert "GRIMOIRE_SPEC ?= ../wheelhouse/torch_grimoire-" in (project / "Makefile").read_text()
    no_machine_paths(project_files(project), machine)


def test_flake_parses(project: Path):
    if shutil.which("nix-instantiate") is None:
        pytest.skip("nix-instantiate not installed (make setup installs nix-bin)")
    proc = subprocess.run(["nix-instantiate", "--parse", str(project / "flake.nix")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_make_test_passes_with_the_generator_from_the_wheel(project: Path, made: subprocess.CompletedProcess,
                                                             machine: Path):
    assert made.returncode == 0, made.stdout[-6000:] + made.stderr[-6000:]
    assert len(ops(project)) >= 3
    # grimoire came from the wheel into the project's own venv: not editable, not this checkout.
    probe = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c",
                            "import grimoire, importlib.metadata as md; print(grimoire.__file__); "
                            "print(md.distribution('torch-grimoire').read_text('direct_url.json'))"],
                           cwd=machine, env=clean_env(), capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    where, direct_url = probe.stdout.splitlines()[:2]
    site = project / ".venv" / "lib"
    assert Path(where).resolve().is_relative_to(site.resolve()) and str(ROOT) not in where, where
    origin = json.loads(direct_url)  # how pip installed it: from a wheel file, not a folder (editable or not)
    assert "archive_info" in origin and "dir_info" not in origin and origin["url"].endswith(".whl"), origin
    # every op's generated tests ran, and the project's own: generate --check ran (grimoire was found)
    out = made.stdout
    for op in ops(project):
        assert (project / PACKAGE / "tests" / f"test_{op}.py").is_file(), op
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, out[-3000:]
    assert "grimoire generator is not installed" not in out, out[-3000:]
    no_machine_paths(project_files(project), machine)


def test_make_wheel_builds_a_wheel_that_runs_without_the_generator(project: Path, made, machine: Path):
    assert made.returncode == 0, "make test failed: see test_make_test_passes_with_the_generator_from_the_wheel"
    proc = make(project, "wheel", "CHECK_WHEEL_ARGS=-k 'test_reference or test_module'")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    assert "passes its tests without grimoire or Prolog" in proc.stdout and " passed" in proc.stdout
    (wheel,) = (project / "dist").glob(f"{PACKAGE}-0.1.0-*.whl")
    assert "-linux_" in wheel.name or "-manylinux" in wheel.name  # a platform wheel: it holds a library
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        texts = {n: z.read(n).decode(errors="replace") for n in names if not n.endswith(".so")}
    metadata = next(text for n, text in texts.items() if n.endswith(".dist-info/METADATA"))
    assert f"{PACKAGE}/_lib/{PACKAGE}_C.so" in names and f"{PACKAGE}/_lib/built_with.json" in names
    assert not [n for n in names if "/_build/" in n or "/tests/" in n]
    assert "Requires-Dist: torch==" in metadata
    assert 'Requires-Dist: torch-grimoire; extra == "dev"' in metadata, metadata
    no_machine_paths(texts, machine)


def test_a_kernel_typo_is_reported_at_its_file_and_line(project: Path, made):
    assert made.returncode == 0, "make test failed: see test_make_test_passes_with_the_generator_from_the_wheel"
    grimoire = str(project / ".venv" / "bin" / "grimoire")
    kernel = project / "kernels" / "demo_custom.cpp"
    good = kernel.read_text()
    lines = good.splitlines()
    at = next(i for i, ln in enumerate(lines) if "acc_t sum = 0;" in ln)
    lines.insert(at + 1, "        sum += undeclared_typo;")
    kernel.write_text("\n".join(lines) + "\n")
    try:
        for command in ("build", "test"):  # `grimoire test` builds first and says the same
            proc = subprocess.run([grimoire, command], cwd=project, env=clean_env(), capture_output=True, text=True)
            output = proc.stdout + proc.stderr
            assert proc.returncode == 1, output
            first = next(ln for ln in output.splitlines() if ": error:" in ln)  # the user's errors come first
            assert first.startswith(f"kernels/demo_custom.cpp:{at + 2}:"), output
            assert "undeclared_typo" in first and "the build failed" in output, output
            if command == "build":
                assert "sum += undeclared_typo;" in output  # the source excerpt
    finally:
        kernel.write_text(good)
