"""Fixtures for the generator's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def tmp_project(tmp_path: Path) -> Path:
    """A copy of this project's specs and templates in a temporary folder, with nothing generated yet."""
    shutil.copytree(ROOT / "semantics", tmp_path / "semantics")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path
