"""The knowledge stage: loading the real specs, derived components, perceive and spells."""

from pathlib import Path

import pytest

from grimoire import knowledge, model
from grimoire.diagnostics import SpecError


def test_real_specs_load(root):
    kn = knowledge.load(root / "semantics")
    names = sorted(op["name"] for op in kn.model["ops"])
    # One spec file per op, named for it.
    assert names == sorted(p.stem for p in (root / "semantics" / "ops").glob("*.pl"))
    assert {"fused_attention", "parametric_swish", "gelu_tanh", "add", "adam_step", "sgd_step"} <= set(names)
    assert any(s.path == "semantics/ops/parametric_swish.pl" for s in kn.sources)
    assert all(len(s.sha256) == 64 for s in kn.sources)


def test_load_order_puts_vocabulary_first(root):
    files = [f.relative_to(root / "semantics").parts[0] for f in knowledge.spec_files(root / "semantics")]
    assert files.index("kinds") > files.index("core")
    assert files[-1] == "ops"


def test_model_is_typed_and_frozen(root):
    ext = model.build_model(knowledge.load(root / "semantics"))
    swish = ext.op("parametric_swish")
    assert swish.schema == "parametric_swish(Tensor x, float beta=1.0) -> Tensor"
    assert swish.backward_schema == "parametric_swish_backward(Tensor grad_y, Tensor x, float beta=1.0) -> Tensor"
    assert swish.attrs[0].cpp_type == "double" and swish.attrs[0].default == 1.0
    assert swish.location.file == "semantics/ops/parametric_swish.pl"
    assert swish.gradients[0].derived
    attn = ext.op("fused_attention")
    assert attn.schema == ("fused_attention(Tensor query, Tensor key, Tensor value, float? scale=None) "
                           "-> (Tensor, Tensor)")
    assert attn.attrs[0].cpp_type == "std::optional<double>"
    with pytest.raises(Exception):
        swish.name = "other"  # frozen


def test_op_holds_its_kinds_record_in_one_field(root):
    """Op names no kind: a kind's fields live in its record (op.details), which Op answers for; another kind's
    op has none of them, and what shared templates ask of every op goes through the kinds' hooks."""
    from dataclasses import fields

    from grimoire.kinds import rowwise

    assert {"row_roles", "loss", "gradients", "custom", "optimizer", "epilogue"}.isdisjoint(f.name for f in fields(model.Op))
    ext = model.build_model(knowledge.load(root / "semantics"))
    ce, add = ext.op("cross_entropy"), ext.op("add")
    assert isinstance(ce.details, rowwise.RowwiseDetails) and ce.row_roles is ce.details.row_roles
    assert ce.index_inputs == ("target",) and ce.grad_in_forward and not add.grad_in_forward
    assert add.derived == {}
    for field in ("row_roles", "custom", "optimizer"):
        with pytest.raises(AttributeError):
            getattr(add, field)
    assert ext.user_kernel_ops == () and {op.name for op in ext.ops_of("optimizer")} == {"adam_step", "sgd_step"}


def test_model_rejects_leftover_keys(root):
    kn = knowledge.load(root / "semantics")
    kn.model["ops"][0]["surprise"] = 1
    with pytest.raises(model.ModelError, match="surprise"):
        model.build_model(kn)


def test_gradient_is_derived_by_prolog(root):
    ext = model.build_model(knowledge.load(root / "semantics"))
    g = ext.op("parametric_swish").gradients[0]
    # d/dx x*sigmoid(b x) = sigmoid(b x) + x * sigmoid(b x) * (1 - sigmoid(b x)) * b, sigmoid shared once.
    assert g.expr == "grad_y*(sigmoid(beta*x)+x*(sigmoid(beta*x)*(1-sigmoid(beta*x))*beta))"
    assert any("grimoire::sigmoid" in let for let in g.body.lets)
    assert g.body.result.count("sigmoid") == 0


def test_perceive_answers_queries(root):
    answer = knowledge.perceive(root / "semantics", "component(Op, kind, attention)")
    assert answer.bindings == (("Op = fused_attention",),)
    printed = knowledge.perceive(root / "semantics", "operation_info(parametric_swish)").printed
    assert "forward: y=x*sigmoid(beta*x)" in printed and "schema (derived)" in printed


def test_operation_info_prints_derived_structures_as_json(root):
    """A derived plan or peer list is data: JSON under its key, not a term with internal dict tags."""
    import json
    import re

    printed = knowledge.perceive(root / "semantics", "operation_info(layer_norm)").printed
    assert not re.search(r"_\d+\{", printed), printed  # no SWI-Prolog dict tag variables
    block = printed.split("row_roles (derived):\n", 1)[1]
    text = block[:block.index("\n", block.index("\n}") + 1)]
    assert json.loads(text)["column"] == ["weight", "bias"]


def test_perceive_reports_bad_queries(root):
    with pytest.raises(ValueError, match="Syntax error"):
        knowledge.perceive(root / "semantics", "component(")
    with pytest.raises(ValueError, match="Unknown procedure"):
        knowledge.perceive(root / "semantics", "no_such_thing(X)")


def test_spells_plan_their_prerequisites(root):
    assert knowledge.plan(root / "semantics", "conjure(run_tests)") == [("generate",), ("build",), ("test",)]
    assert knowledge.plan(root / "semantics", "conjure(generate)") == [("generate",)]
    assert knowledge.plan(root / "semantics", "conjure(new_op(my_op, custom))") == [("new_op", "my_op", "custom")]
    with pytest.raises(ValueError, match="unknown spell"):
        knowledge.plan(root / "semantics", "conjure(fly)")


def test_empty_semantics_is_an_error(tmp_path: Path):
    (tmp_path / "semantics").mkdir()
    with pytest.raises(SpecError, match="no .pl files"):
        knowledge.load(tmp_path / "semantics")
