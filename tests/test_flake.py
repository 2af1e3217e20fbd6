"""flake.nix must at least parse (nix-instantiate from Debian's nix-bin, installed by `make setup`)."""

import shutil
import subprocess

import pytest


@pytest.mark.skipif(shutil.which("nix-instantiate") is None,
                    reason="nix-instantiate not installed (make setup installs nix-bin)")
def test_flake_parses(root):
    proc = subprocess.run(["nix-instantiate", "--parse", str(root / "flake.nix")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for tool in ("swi-prolog", "pyswip", "typer", "jinja2", "cookiecutter", "pytest-benchmark", "ninja", "torch",
                 "hypothesis"):
        assert tool in proc.stdout, tool
    # grimoire as a package and an app (its own command, not an alias), a CPU and a CUDA dev shell
    for output in ("packages.default", "apps.default", "devShells.default", "devShells.cuda"):
        assert output in (root / "flake.nix").read_text(), output
    assert "torch-grimoire" in proc.stdout and "cudatoolkit" in proc.stdout
    assert "alias grimoire" not in proc.stdout
