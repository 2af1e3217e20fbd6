"""The templates themselves: short, and their partials read by the templates that render files, never
rendered as files of their own.

A template only lays out text; a long one is a short template plus the partials (kinds/<kind>/partials/,
extension/partials/) it includes or imports. Static source a template takes whole (verbatim(), e.g. the
checks a kind's tests share, as plain Python) is a file of partials/ without .j2: not a template, so not
held to the limit, but still read by a template and hashed into the manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from grimoire import knowledge, model, render

MAX_LINES = 250
_REFERENCE = re.compile(r"""(?:import|include|from|verbatim\()\s*["']([^"']+\.(?:j2|py))["']""")


def _templates(root: Path) -> list[Path]:
    return sorted(p for p in (root / "templates").rglob("*.j2") if p.is_file())


def _partials(root: Path) -> list[str]:
    return [p.relative_to(root / "templates").as_posix() for p in render.template_files(root / "templates")
            if render.is_partial(p.relative_to(root / "templates").as_posix())]


def test_no_template_is_over_the_line_limit(root):
    long = {p.relative_to(root).as_posix(): n for p in _templates(root)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (move parts into the folder's partials/): {long}"


def test_verbatim_takes_only_static_partials(root):
    # A .j2 name promises Jinja that verbatim() would not run: what it reads must be plain source.
    taken = {m for p in _templates(root) for m in re.findall(r"""verbatim\(\s*["']([^"']+)["']""", p.read_text())}
    assert taken, "no template uses verbatim(): the static partials moved?"
    assert not [t for t in taken if t.endswith(".j2")], taken


def test_static_partials_are_plain_source_read_whole(root):
    static = [p for p in _partials(root) if not p.endswith(".j2")]
    assert static, "no static partials: the kinds' shared test checks moved?"
    for p in static:
        text = (root / "templates" / p).read_text()
        assert "{{" not in text and "{%" not in text, f"{p} holds Jinja, which verbatim() would not run"


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


# What a template may not compute (the model computes it once, as a property): filters that choose, fold,
# count or project items, and a `{% set %}` that is more than an alias of what the model gives.
_COMPUTING_FILTERS = {"selectattr", "rejectattr", "select", "reject", "sum", "max", "min", "groupby", "unique",
                      "length", "count", "map"}
_ALIAS = (nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Call, nodes.Tuple)
_COMPARISONS = {"eq", "ne", "lt", "gt", "lteq", "gteq", "in", "notin"}


def _is_loop_layout(value: nodes.Node) -> bool:
    """loop.index0, loop.last and the like: where the text is in a loop, layout's own business."""
    return isinstance(value, nodes.Getattr) and isinstance(value.node, nodes.Name) and value.node.name == "loop"


def _is_model_value(value: nodes.Node) -> bool:
    """Something read off the model (an attribute, item, method value or filtered value), as against a
    literal, a bare name (a macro's parameter or a loop's item, which layout dispatches on) or loop.*."""
    return isinstance(value, (nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Filter)) and not _is_loop_layout(value)


def _is_layout_arithmetic(value: nodes.Node) -> bool:
    """Arithmetic over literals and loop.* alone ({{ loop.index0 * 32 }}, {{ 2 ** loop.index0 }}): where
    the text sits in a loop, not a fact of the model."""
    if isinstance(value, nodes.BinExpr):
        return _is_layout_arithmetic(value.left) and _is_layout_arithmetic(value.right)
    return isinstance(value, nodes.Const) or _is_loop_layout(value)


def _tested(tree: nodes.Template) -> set[int]:
    """The nodes inside a test ({% if %}, an inline if, a loop's if): where and/or choose layout."""
    tests = [n.test for n in tree.find_all((nodes.If, nodes.CondExpr, nodes.For)) if n.test is not None]
    return {id(x) for t in tests for x in (t, *t.find_all(nodes.Node))}


def _literal_test(n: nodes.Compare) -> bool:
    """A comparison of a model value with a literal (a.type == "float", "cuda" in op.devices): a derived
    fact the model should name as a boolean property."""
    operands = [n.expr, *(o.expr for o in n.ops)]
    return (any(o.op in _COMPARISONS for o in n.ops) and any(isinstance(v, nodes.Const) for v in operands)
            and any(_is_model_value(v) for v in operands))


def _names_test(n: nodes.Compare) -> bool:
    """A name tested against names (e == grad_name, p in R.column, a.name == op.loss.attr): a role or a
    relation the model should name (op.row_name(p).is_column, op.is_loss_reduction(a))."""
    operands = [n.expr, *(o.expr for o in n.ops)]
    return (any(o.op in {"eq", "ne", "in", "notin"} for o in n.ops)
            and not any(isinstance(v, nodes.Const) for v in operands))


def _is_alias(value: nodes.Node) -> bool:
    """A name, an attribute or item of one, a model method's value (op.attr("scale")), or a tuple of
    such: layout's shorthand, not a computation (a call's arguments are checked like any expression)."""
    if isinstance(value, nodes.Tuple):
        return all(_is_alias(v) for v in value.items)
    if isinstance(value, nodes.Call):
        return _is_alias(value.node)
    return isinstance(value, _ALIAS)


def _computations(text: str, name: str) -> list[str]:
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    tree = env.parse(text, name=name)
    found = [f"{name}:{n.lineno}: {{% set {n.target.name} %}}...{{% endset %}} builds text"
             for n in tree.find_all(nodes.AssignBlock)]
    found += [f"{name}:{n.lineno}: {{% set %}} computes (not a plain alias)"
              for n in tree.find_all(nodes.Assign) if not _is_alias(n.node)]
    found += [f"{name}:{n.lineno}: the filter {n.name!r} computes" for n in tree.find_all(nodes.Filter)
              if n.name in _COMPUTING_FILTERS]
    found += [f"{name}:{n.lineno}: a model value compared with a literal (make it a boolean property)"
              for n in tree.find_all(nodes.Compare) if _literal_test(n)]
    found += [f"{name}:{n.lineno}: names tested against names (the model names the role or relation)"
              for n in tree.find_all(nodes.Compare) if _names_test(n)]
    found += [f"{name}:{n.lineno}: text joined with ~ (write it out, or let the model name it)"
              for n in tree.find_all(nodes.Concat)]
    arithmetic = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)
    found += [f"{name}:{n.lineno}: arithmetic on model values (a count, an offset, a joined list) computes"
              for n in tree.find_all(arithmetic) if not _is_layout_arithmetic(n)]
    tested = _tested(tree)
    found += [f"{name}:{n.lineno}: and/or as a value (printed, passed or set) computes a fact"
              for n in tree.find_all((nodes.And, nodes.Or)) if id(n) not in tested]
    return found


def test_templates_compute_no_derived_facts(root):
    """Templates only lay text out: every derived fact (an argument list, a count, a choice of type) is a
    model property computed once. A `{% set %}` only aliases what the model gives; no `{% set %}` block
    builds text; no filter selects, rejects, folds, counts (length) or projects (map) items; no model value is
    compared with a literal (the model names the fact: a.is_float, not a.type == "float"), nor a name with
    names (op.row_name(p).is_column, not p in R.column); no text joined with ~; no arithmetic but
    on loop.* and literals; no and/or but in a test. Every template is held to it, the generated
    tests' too."""
    base = root / "templates"
    found = []
    for p in _templates(root):
        found += _computations(p.read_text(), p.relative_to(base).as_posix())
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text", [
    '{% set n = 3 if bias else 2 %}',
    '{% set linear = ep.layout == "linear" %}',
    '{% set args = [a, b] + op.attr_names | list %}',
    '{% set params %}int64_t n{% for i in xs %}, {{ i }}{% endfor %}{% endset %}',
    '{{ op.attrs | rejectattr("name", "equalto", red) | join(", ") }}',
    '{{ [a, b] | max }}',
    '{% if op.gradients | length == 1 %}one{% endif %}',
    '{{ 3 + o.states | length }}',
    '{{ op.attrs | map(attribute="name") | join(", ") }}',
    '{% if a.grad_from == "preact" %}z{% endif %}',
    '{% for t in body.targets if t.kind != "column" %}{% endfor %}',
    '{{ "true" if ep.fixed.name == "none" else "false" }}',
    '{% if "cuda" in op.devices %}cu{% endif %}',
    '{% if op.attr("p").default > 0 %}{% endif %}',
    '{{ (a.default or 1.0) * 0.5 + 0.25 }}',
    '{{ (op.inputs + op.attr_names) | join(", ") }}',
    '__shared__ float scratch[{{ 32 * fwd.widest_pass }}];',
    '{{ passes(fwd, R.element, fwd.cached and not op.loss) }}',
    '{{ a.cublaslt or "none" }}',
    '{% if sums_loss and e == grad_name %}{% endif %}',
    '{% for p in params if p in R.column %}{% endfor %}',
    '{{ "none" if a.name == op.loss.attr else a.name }}',
    '{% if op.dtypes_on("cuda") != op.dtypes %}{% endif %}',
    '{{ kernel("backward_" ~ g.input ~ "_kernel") }}',
    """{{ act if act else '"' ~ ep.activations[0].name ~ '"' }}""",
])
def test_a_computing_template_is_refused(text):
    assert _computations(text, "t.j2")


@pytest.mark.parametrize("text", [
    '{% set ep = op.epilogue %}{% set a, b = ep.a, ep.b %}',
    '{% set k = op.row_forward_kernel("cuda") %}{{ k.params }}',
    '{{ op.attr_names | join(", ") }}{{ ", kSum" if sums }}',
    '{% if op.single_gradient %}one{% endif %}{{ o.n_lists }}',
    '{% for t in body.targets if not t.is_column %}{{ ", " if not loop.last }}{% endfor %}',
    '{% if device == "cuda" %}{% endif %}{% for x in xs %}{{ "(" if loop.index0 == 0 }}{% endfor %}',
    '{% for s in p.stats %}{{ loop.index0 * 32 }}{{ 2 ** loop.index0 }}{{ ", " if not loop.last or op.attrs }}{% endfor %}',
    '{% if fwd.cached and not op.loss %}{% endif %}{{ row_scalars(R.index, not R.output_is_element) }}',
    '{% if op.row_name(p).is_column %}{% endif %}{% for p in body.among(R.column) %}{% endfor %}',
    '{% if R.index %}checked({{ expr }}){% else %}{{ expr }}{% endif %}{{ kernel(g.cpu_kernel) }}',
])
def test_an_alias_is_layout(text):
    assert not _computations(text, "t.j2")
