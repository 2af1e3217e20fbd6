"""The templates themselves: short, and their partials read by the templates that render files, never
rendered as files of their own.

A template only lays out text; a long one is a short template plus the partials (kinds/<kind>/partials/,
extension/partials/) it includes or imports. The templates of the kinds' tests/ folders and of
extension/tests/ are held to this by their own rewrite, not here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grimoire import knowledge, model, render

MAX_LINES = 250
_REFERENCE = re.compile(r"""(?:import|include|from|verbatim\()\s*["']([^"']+\.j2)["']""")


def _templates(root: Path) -> list[Path]:
    return sorted(p for p in (root / "templates").rglob("*.j2") if p.is_file())


def _held(path: Path, root: Path) -> bool:
    parts = path.relative_to(root / "templates").parts
    return not ((parts[0] == "kinds" and parts[2] == "tests") or parts[:2] == ("extension", "tests"))


def _partials(root: Path) -> list[str]:
    return [p.relative_to(root / "templates").as_posix() for p in _templates(root)
            if render.is_partial(p.relative_to(root / "templates").as_posix())]


def test_no_template_is_over_the_line_limit(root):
    long = {p.relative_to(root).as_posix(): n for p in _templates(root) if _held(p, root)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (move parts into the folder's partials/): {long}"


def test_the_limit_check_skips_the_tests_folders_only(root):
    rels = {p.relative_to(root / "templates").as_posix(): _held(p, root) for p in _templates(root)}
    skipped = {r for r, held in rels.items() if not held}
    assert skipped == {r for r in rels if re.match(r"(kinds/[^/]+/|extension/)tests/", r)} != set()
    assert rels["kinds/rowwise/csrc/[op]_cuda.cu.j2"] and rels["kinds/rowwise/partials/macros.j2"]


def test_every_partial_is_read_by_a_template(root):
    read = {m for p in _templates(root) for m in _REFERENCE.findall(p.read_text())}
    partials = _partials(root)
    assert partials, "no partials found: the folder convention changed?"
    assert not [p for p in partials if p not in read], "partials no template imports, includes or reads"


@pytest.fixture(scope="module")
def rendering():
    root = Path(__file__).resolve().parent.parent
    ext = model.build_model(knowledge.load(root / "semantics"))
    return render.render(ext, root / "templates")


def test_partials_render_no_file_but_are_in_the_manifest(rendering, root):
    assert not [p for p in rendering.paths() if "partials" in Path(p).parts or p.endswith(".j2")]
    manifest = json.loads(next(f.content for f in rendering.files if f.path == "manifest.json"))
    # They are what the output depends on all the same: editing one must show as a template change.
    assert not [p for p in _partials(root) if f"templates/{p}" not in manifest["templates"]]


def test_a_projects_partial_overlays_grimoires(tmp_project: Path, root):
    """A project's templates/ may replace one partial of a bundled kind: the kind's templates include
    the project's version, and the partial is still not rendered on its own."""
    ext = model.build_model(knowledge.load(root / "semantics"))
    own = tmp_project / "own_templates"
    partial = "kinds/rowwise/partials/macros.j2"
    (own / partial).parent.mkdir(parents=True)
    (own / partial).write_text((root / "templates" / partial).read_text().replace(
        "// Checks every input", "// Checks (the project's macros) every input", 1))
    assert "(the project's macros)" in (own / partial).read_text(), "the marker line moved: pick another"
    rendering = render.render(ext, [own, root / "templates"])
    marked = [f.path for f in rendering.files if "(the project's macros)" in f.content]
    assert marked and all(p.startswith("csrc/") for p in marked)
    assert not [p for p in rendering.paths() if "partials" in p]
