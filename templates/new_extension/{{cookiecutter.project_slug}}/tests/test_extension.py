"""This project's own tests, beside each op's generated tests in {{ cookiecutter.package }}/tests/."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "{{ cookiecutter.package }}"
GRIMOIRE = shutil.which("grimoire", path=str(Path(sys.executable).parent)) or shutil.which("grimoire")


@pytest.mark.skipif(GRIMOIRE is None, reason="the grimoire generator is not installed here (make setup installs it)")
def test_generated_package_matches_the_specs():
    """{{ cookiecutter.package }}/ is exactly what the specs give: run `grimoire generate` after editing one."""
    proc = subprocess.run([GRIMOIRE, "generate", "--check", "--root", str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_op_of_the_specs_is_exported():
    import {{ cookiecutter.package }} as package

    ops = json.loads((ROOT / PACKAGE / "manifest.json").read_text())["ops"]
    assert ops and sorted(package.OPS) == sorted(ops)
    for name in ops:
        assert callable(getattr(package, name))
        assert getattr(torch.ops.{{ cookiecutter.package }}, name).default._schema.name == f"{PACKAGE}::{name}"
