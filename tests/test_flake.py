"""flake.nix must at least parse (nix-instantiate from Debian's nix-bin, installed by `make setup`)."""

import shutil
import subprocess

import pytest


@pytest.mark.skipif(shutil.which("nix-instantiate") is None,
                    reason="nix-instantiate not installed (make setup installs nix-bin)")
def test_flake_parses(root):
    proc = subprocess.run(["nix-instantiate", "--parse", str(root / "flake.nix")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for tool in ("swi-prolog", "pyswip", "typer", "jinja2", "cookiecutter", "pytest-benchmark", "ninja", "torch"):
        assert tool in proc.stdout, tool
