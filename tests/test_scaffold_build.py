"""End to end, with one build: `grimoire new-extension` makes a project (HOME pointed at a scratch
folder), `grimoire new-op` adds one op of every other kind Prolog knows, and the project generates,
builds and passes every generated test untouched; its own tests pass; its wheel installs and runs
where neither grimoire nor Prolog can be imported; and a typo in a custom kernel is reported at its
file and line. Building ~5 translation units takes a few minutes on 2 cores: it is done once."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import cli, knowledge

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
EXAMPLE = "scaled_softsign"  # new-extension's example op (elementwise)


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    root = tmp_path_factory.mktemp("projects") / "demo_ext"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setattr(cli.console, "width", 200)
        mp.setattr(cli.err, "width", 200)
        r = invoke("new-extension", str(root))
        assert r.exit_code == 0, r.output
        assert not any(home.iterdir()), "cookiecutter wrote into HOME"
        kinds = sorted(k["name"] for k in knowledge.scaffold_facts(root / "semantics", "probe")["kinds"])
        for kind in kinds:
            if kind != "elementwise":  # the example op is one already
                r = invoke("new-op", f"demo_{kind}", "--kind", kind, "--root", str(root))
                assert r.exit_code == 0, r.output
    return root


def ops(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "semantics" / "ops").glob("*.pl"))


def test_project_layout(project: Path):
    for rel in ("README.md", "Makefile", "pyproject.toml", "setup.py", ".gitignore", "flake.nix",
                "semantics/extension.pl", f"semantics/ops/{EXAMPLE}.pl", "tests/test_extension.py",
                "tests/check_wheel.py", "kernels/demo_custom.cpp"):
        assert (project / rel).is_file(), rel
    assert not (project / "semantics" / "core").exists()  # the vocabulary comes with grimoire
    readme = (project / "README.md").read_text()
    assert "make test" in readme and "make wheel" in readme
    assert 'package = "demo_ext"' in (project / "pyproject.toml").read_text()


def test_flake_parses(project: Path):
    import shutil

    if shutil.which("nix-instantiate") is None:
        pytest.skip("nix-instantiate not installed (make setup installs nix-bin)")
    proc = subprocess.run(["nix-instantiate", "--parse", str(project / "flake.nix")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_generate_build_and_generated_tests_pass(project: Path, monkeypatch):
    assert len(ops(project)) >= 3
    r = invoke("generate", "--root", str(project))
    assert r.exit_code == 0, r.output
    r = invoke("build", "--root", str(project))
    assert r.exit_code == 0, r.output
    # The bundled ops' tests exercise inductor; aot_eager keeps the fake kernels and fullgraph
    # tracing under test here at a fraction of the time.
    monkeypatch.setenv("GRIMOIRE_COMPILE_BACKEND", "aot_eager")
    r = invoke("test", "--root", str(project))
    assert r.exit_code == 0, r.output
    for op in ops(project):
        assert op in r.output
    assert "0 failed" in r.output


def test_the_projects_own_tests_pass(project: Path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_wheel_installs_and_runs_without_the_generator(project: Path, tmp_path: Path):
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                           "--no-build-isolation", "-w", str(dist), str(project)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = dist.glob("demo_ext-0.1.0-*.whl")
    assert "-linux_" in wheel.name or "-manylinux" in wheel.name  # a platform wheel: it holds a library
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "demo_ext/_lib/demo_ext_C.so" in names and "demo_ext/_lib/built_with.json" in names
    assert not [n for n in names if "/_build/" in n or "/tests/" in n]
    assert "Requires-Dist: torch==" in metadata
    proc = subprocess.run([sys.executable, str(project / "tests" / "check_wheel.py"), str(wheel),
                           "-k", "test_reference or test_module"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passes its tests without grimoire or Prolog" in proc.stdout and " passed" in proc.stdout


def test_a_kernel_typo_is_reported_at_its_file_and_line(project: Path):
    kernel = project / "kernels" / "demo_custom.cpp"
    good = kernel.read_text()
    lines = good.splitlines()
    at = next(i for i, ln in enumerate(lines) if "acc_t sum = 0;" in ln)
    lines.insert(at + 1, "        sum += undeclared_typo;")
    kernel.write_text("\n".join(lines) + "\n")
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cli.err, "width", 200)
            r = invoke("build", "--root", str(project))
        assert r.exit_code == 1, r.output
        first = next(ln for ln in r.output.splitlines() if ": error:" in ln)  # the user's errors come first
        assert first.startswith(f"kernels/demo_custom.cpp:{at + 2}:"), r.output
        assert "undeclared_typo" in first and "error" in first
        assert "sum += undeclared_typo;" in r.output  # the source excerpt
        assert "the build failed" in r.output
        with pytest.MonkeyPatch.context() as mp:  # `grimoire test` builds first and says the same
            mp.setattr(cli.err, "width", 200)
            r = invoke("test", "--root", str(project))
        assert r.exit_code == 1, r.output
        first = next(ln for ln in r.output.splitlines() if ": error:" in ln)
        assert first.startswith(f"kernels/demo_custom.cpp:{at + 2}:") and "the build failed" in r.output, r.output
    finally:
        kernel.write_text(good)
