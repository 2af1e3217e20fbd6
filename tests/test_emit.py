"""The expression trees (grimoire/expr.py) and their emitters (grimoire/emit/cpp.py, grimoire/emit/python.py):
literals, parenthesisation, every function of the calculus, and the refusal of anything that is not a number,
an identifier or an operation of the calculus."""

from __future__ import annotations

import math

import pytest

from grimoire.emit import cpp, python
from grimoire.expr import (
    UNARY,
    BinOp,
    Body,
    Call,
    Clamp,
    Compare,
    Const,
    ExprError,
    If,
    Let,
    Logic,
    Name,
    Neg,
    Not,
    Num,
    Pow,
    Reduce,
    Tmp,
    Where,
    decode,
    decode_body,
    decode_cond,
    decode_host,
)

x, y, beta = Name("x"), Name("y"), Name("beta")


def op(name, *args):
    return {"op": name, "args": list(args)}


# --- decoding ------------------------------------------------------------------------------------------------


def test_decode_builds_typed_nodes():
    data = op("mul", "x", op("sigmoid", op("mul", "beta", "x")))
    assert decode(data) == BinOp("*", x, Call("sigmoid", BinOp("*", beta, x)))
    assert decode(op("where", op("le", "x", 0), 0, 1.5)) == Where(Compare("le", x, Num(0)), Num(0), Num(1.5))
    assert decode(op("max", "x", 2)) == Clamp("max", x, Num(2))
    assert decode(op("max", "x")) == Reduce("max", x)  # one argument: the row reduction
    assert decode(op("neg", op("tmp", 3))) == Neg(Tmp(3))
    assert decode_body({"lets": [[0, op("exp", "x")]], "result": op("add", op("tmp", 0), 1)}) == \
        Body((Let(Tmp(0), Call("exp", x)),), BinOp("+", Tmp(0), Num(1)))


@pytest.mark.parametrize("data", [
    "x y", "x'); import os; ('", "1x", "", "naïve", "a-b", "x\n", True, None, [1, 2], math.nan, math.inf,
    op("system", "x"), op("add", "x"), op("pow", "x", "y"), op("where", "x", 1, 2), {"op": "exp", "args": "x"},
    {"op": "exp", "args": ["x"], "extra": 1}, op("tmp", -1), op("tmp", "0"), op(True, "x"),
])
def test_decode_refuses_what_is_not_the_calculus(data):
    with pytest.raises(ExprError):
        decode(data)


@pytest.mark.parametrize("bad", ["x y", "x;", "std::system", "", "1x", "\u00e9"])
def test_no_non_identifier_reaches_code(bad):
    with pytest.raises(ExprError, match="not an identifier"):
        Name(bad)
    with pytest.raises(ExprError, match="not an identifier"):
        cpp.name(bad)
    with pytest.raises(ExprError, match="not an identifier"):
        python.name(bad)


def test_emitters_refuse_unknown_nodes_and_numbers():
    for emit in (cpp.expr, python.expr):
        with pytest.raises(ExprError):
            emit("x")  # a bare string is not a tree
        with pytest.raises(ExprError):
            emit(Compare("gt", x, y))  # a comparison is where()'s condition, never a value
    for number in (cpp.number, python.number):
        for bad in (math.nan, -math.inf, True, "1"):
            with pytest.raises(ExprError):
                number(bad)
    with pytest.raises(ExprError):
        python.expr(Reduce("sum", x))  # a row reduction has no elementwise reference
    with pytest.raises(ExprError):
        cpp.expr(Reduce("sum", x))


# --- C++ -----------------------------------------------------------------------------------------------------


def test_cpp_literals():
    assert cpp.expr(Num(1)) == "V(1)"
    assert cpp.expr(Num(-3)) == "V(-3)"
    assert cpp.expr(Num(0.5)) == "V(0.5)"
    assert cpp.expr(Num(2.0)) == "V(2)"
    assert cpp.expr(Num(0.7978845608028654)) == "V(0.79788456080286541)"  # a double's every digit
    assert cpp.expr(Num(3.141592653589793)) == "V(3.1415926535897931)"
    assert cpp.expr(Num(1e-5)) == "V(1.0000000000000001e-05)"
    assert cpp.expr(Tmp(2)) == "tmp_2"


def test_cpp_parenthesises_every_operation():
    assert cpp.expr(BinOp("*", x, Call("sigmoid", BinOp("*", beta, x)))) == "(x * grimoire::sigmoid((beta * x)))"
    assert cpp.expr(BinOp("-", x, BinOp("-", y, Num(1)))) == "(x - (y - V(1)))"
    assert cpp.expr(BinOp("/", BinOp("/", x, y), y)) == "((x / y) / y)"
    assert cpp.expr(Neg(BinOp("+", x, y))) == "(-(x + y))"
    assert cpp.expr(Neg(Neg(x))) == "(-(-x))"


@pytest.mark.parametrize("fn", sorted(UNARY))
def test_cpp_unary_functions(fn):
    assert cpp.expr(Call(fn, x)) == f"grimoire::{fn}(x)"


def test_cpp_powers():
    assert cpp.expr(Pow(x, Num(2))) == "grimoire::square(x)"
    assert cpp.expr(Pow(x, Num(3))) == "grimoire::ipow<3>(x)"
    assert cpp.expr(Pow(x, Num(8))) == "grimoire::ipow<8>(x)"
    assert cpp.expr(Pow(x, Num(9))) == "grimoire::pow(x, V(9))"
    assert cpp.expr(Pow(x, Num(-1))) == "(V(1) / x)"
    assert cpp.expr(Pow(x, Num(0.5))) == "grimoire::sqrt(x)"
    assert cpp.expr(Pow(x, Num(-0.5))) == "grimoire::rsqrt(x)"
    assert cpp.expr(Pow(x, Num(2.0))) == "grimoire::pow(x, V(2))"  # only an integer 2 squares, as Prolog's 2
    assert cpp.expr(Pow(x, Num(1.5))) == "grimoire::pow(x, V(1.5))"


def test_cpp_clamps_and_where():
    assert cpp.expr(Clamp("max", x, Num(0))) == "grimoire::maximum(x, V(0))"
    assert cpp.expr(Clamp("min", x, Num(6.0))) == "grimoire::minimum(x, V(6))"
    assert cpp.expr(Where(Compare("gt", x, Num(0)), x, Num(0.5))) == \
        "grimoire::where(grimoire::gt(x, V(0)), x, V(0.5))"
    for c in ("gt", "lt", "ge", "le", "eq", "ne"):
        assert cpp.expr(Where(Compare(c, Name("t"), Name("c")), x, Num(0))) == \
            f"grimoire::where(grimoire::{c}(t, c), x, V(0))"


def test_cpp_body_lets():
    b = Body((Let(Tmp(0), Call("sigmoid", x)),), BinOp("*", Tmp(0), BinOp("-", Num(1), Tmp(0))))
    assert cpp.body(b) == (("const V tmp_0 = grimoire::sigmoid(x);",), "(tmp_0 * (V(1) - tmp_0))")


def test_cpp_rowlevel_scalars_get_their_suffix():
    b = Body((Let(Tmp(0), Call("sqrt", Name("var"))),), BinOp("/", Name("n"), Tmp(0)))
    assert cpp.expr(BinOp("+", Name("n"), x), frozenset({"n"})) == "(n_s + x)"
    assert cpp.rowlevel(b, frozenset({"var", "n"})) == \
        "[&] { const V tmp_0 = grimoire::sqrt(var_s); return static_cast<opmath_t>((n_s / tmp_0)); }()"
    assert cpp.rowlevel(Body((), Name("n")), frozenset({"n"})) == "[&] {  return static_cast<opmath_t>(n_s); }()"


# --- Python --------------------------------------------------------------------------------------------------


def test_python_literals():
    assert python.expr(Num(2)) == "2"
    assert python.expr(Num(0.5)) == "0.5"
    assert python.expr(Num(1.0)) == "1.0"
    assert python.expr(Num(1e-5)) == "1.0e-5"
    assert python.expr(Num(1e15)) == "1.0e+15"
    assert python.expr(Num(123456789012345.0)) == "123456789012345.0"
    assert python.expr(Num(-2.5e-10)) == "-2.5e-10"
    assert python.expr(Num(3.141592653589793)) == "3.141592653589793"


def test_python_numbers_are_spelt_as_prolog_writes_them():
    prolog = pytest.importorskip("pyswip").Prolog
    for v in (1e-5, 2.5e-7, 1e-4, 0.001, 0.1, 1.0, -0.0, 100000.0, 123456789012345.0, 1e15, 1234567890123456.0,
              1e16, 1e22, 1.5e300, 5e-324, 1.7976931348623157e308, -2.5e-10, 0.7978845608028654):
        rows = list(prolog.query(f"X is {v!r}, format(string(S), '~w', [X])"))
        written = rows[0]["S"]
        assert python.number(v) == (written.decode() if isinstance(written, bytes) else str(written)), v
        assert float(python.number(v)) == v  # and Python reads it back as the same double


def test_python_parenthesises_every_operation():
    assert python.expr(BinOp("*", x, Call("sigmoid", BinOp("*", beta, x)))) == "(x * torch.sigmoid((beta * x)))"
    assert python.expr(Neg(BinOp("-", x, y))) == "(-(x - y))"


@pytest.mark.parametrize("fn", sorted(UNARY))
def test_python_unary_functions(fn):
    expected = "torch.nn.functional.softplus" if fn == "softplus" else f"torch.{fn}"
    assert python.expr(Call(fn, x)) == f"{expected}(x)"


def test_python_pow_clamp_where():
    assert python.expr(Pow(x, Num(2))) == "torch.pow(x, 2)"
    assert python.expr(Pow(x, Num(1e-5))) == "torch.pow(x, 1.0e-5)"
    assert python.expr(Clamp("max", x, Num(0))) == "torch.clamp_min(x, 0)"
    assert python.expr(Clamp("min", x, Num(6.0))) == "torch.clamp_max(x, 6.0)"
    assert python.expr(Where(Compare("ne", Name("t"), Name("c")), x, Num(0))) == "torch.where(t != c, x, 0)"
    ops = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!="}
    for c, spelt in ops.items():
        assert python.expr(Where(Compare(c, x, y), x, y)) == f"torch.where(x {spelt} y, x, y)"


def test_python_row_references():
    # max/min through the op module's _row_extreme: torch.amax raises on an empty row
    assert python.row_expr(BinOp("-", x, Reduce("max", x))) == "(x - _row_extreme(x, largest=True))"
    assert python.row_expr(Reduce("min", x)) == "_row_extreme(x, largest=False)"
    for fn, torch_fn in {"sum": "torch.sum", "mean": "torch.mean"}.items():
        assert python.row_expr(Reduce(fn, x)) == f"{torch_fn}(x, -1, keepdim=True)"
    assert python.row_expr(Where(Compare("eq", Name("eps"), Num(0)), x, y)) == \
        "torch.where(torch.as_tensor(eps == 0, device=col.device), x, y)"


def test_unary_functions_are_the_calculus_s(root):
    """The emitters' function tables and semantics/core/expr.pl's unary_fn/2 name the same functions."""
    from grimoire import knowledge

    vocab = knowledge.vocabulary(root / "semantics")
    assert set(vocab["grammar"]["unary"]) == UNARY == set(python.TORCH)


def test_host_functions_are_the_optimizer_s(root):
    """optimizer.pl's host_fn/1 (what a host scalar may call, checked at the spec's file:line) and the Python
    emitter's MATH table (how the host's Python spells them) name the same functions: one added to either
    alone would fail at model build instead of at the spec."""
    import re

    text = (root / "semantics" / "kinds" / "optimizer.pl").read_text()
    assert set(re.findall(r"\bhost_fn\((\w+)\)\.", text)) == set(python.MATH)


# --- the bundled ops' expressions, through the model (these were PLUnit assertions on Prolog's text) ---------


@pytest.fixture(scope="module")
def bundled():
    from pathlib import Path

    from grimoire import knowledge, model

    return model.build_model(knowledge.load(Path(__file__).resolve().parent.parent / "semantics"))


def test_elementwise_forward_and_reference(bundled):
    assert bundled.op("add").forward.result == "(x + (alpha * y))"
    assert bundled.op("gelu_tanh").forward.result == (
        "((V(0.5) * x) * (V(1) + grimoire::tanh((V(0.79788456080286541) * (x + (V(0.044714999999999998) * "
        "grimoire::ipow<3>(x)))))))")
    assert bundled.op("softplus").reference_py == \
        "torch.where((x * beta) > threshold, x, (torch.log1p(torch.exp((beta * x))) / beta))"
    assert bundled.op("gelu_tanh").reference_py == \
        "((0.5 * x) * (1 + torch.tanh((0.7978845608028654 * (x + (0.044715 * torch.pow(x, 3)))))))"


def test_elementwise_gradient_shares_subterms(bundled):
    (g,) = bundled.op("sigmoid").gradients
    assert g.body.lets == ("const V tmp_0 = grimoire::sigmoid(x);",)
    assert g.body.result == "(grad_y * (tmp_0 * (V(1) - tmp_0)))"


def test_body_inlined_undoes_the_elimination():
    b = decode_body({"lets": [[0, op("exp", "x")], [1, op("add", op("tmp", 0), 1)]],
                     "result": op("mul", op("tmp", 1), op("where", op("gt", op("tmp", 0), 0), op("tmp", 1), 2))})
    assert python.expr(b.inlined()) == \
        "((torch.exp(x) + 1) * torch.where(torch.exp(x) > 0, (torch.exp(x) + 1), 2))"


def test_rowwise_reference_count_and_row_code(bundled):
    softmax = bundled.op("softmax")
    assert softmax.reference_py == ("(torch.exp((x - _row_extreme(x, largest=True))) / "
                                    "torch.sum(torch.exp((x - _row_extreme(x, largest=True))), -1, keepdim=True))")
    assert softmax.reference_takes_extremes
    assert softmax.forward_plan.final.results == ("(grimoire::exp((x - tmp_s0)) * tmp_r0)",)  # element code: no _s
    ce = bundled.op("cross_entropy")
    assert ce.loss.count_py == "torch.where(target == ignore_index, 0, 1)"
    assert ce.loss.count_cpp == ("[&] {  return static_cast<opmath_t>(grimoire::where(grimoire::eq(target_s, "
                                 "ignore_index_s), V(0), V(1))); }()")
    (loss,) = ce.forward_plan.row_outputs
    assert loss.code.startswith("[&] { const V tmp_0 = (label_smoothing_s / n_s); return static_cast<opmath_t>(")
    (let,) = [x for p in bundled.op("layer_norm").forward_plan.passes for x in p.lets_after]
    assert (let.name, let.code) == \
        ("tmp_r0", "[&] {  return static_cast<opmath_t>(grimoire::rsqrt((var_s + eps_s))); }()")  # the spec's var


# --- the optimizer's host values and conditions (these were PLUnit assertions on optimizer.pl's text) --------


def test_host_if_and_pow():
    keep = decode_host(op("if", op("eq", "step", 1), 0, "momentum"))  # expr_data of if(step =:= 1, 0, momentum)
    assert keep == If(Compare("eq", Name("step"), Num(1)), Num(0), Name("momentum"))
    assert cpp.host(keep) == "((step == V(1)) ? V(0) : momentum)"
    assert python.host(keep) == "(0 if (step == 1) else momentum)"
    bc = decode_host(op("sub", 1, op("pow", "beta1", "step")))  # a power by the step: host scalars only
    assert cpp.host(bc) == "(V(1) - grimoire::pow(beta1, step))"
    assert python.host(bc) == "(1 - (beta1 ** step))"
    with pytest.raises(ExprError):
        decode(op("pow", "beta1", "step"))  # an element power is by a number
    with pytest.raises(ExprError):
        decode(op("if", "a", 1, 2))  # if/3 picks a kernel in element rules, it is never an element value
    with pytest.raises(ExprError):
        cpp.expr(bc.right)  # nor is a power by an expression C++ of the element loop


def test_host_functions_are_every_unary_one():
    """A lifted element term may call any function of the calculus: each has a float spelling on the host."""
    for fn in UNARY:
        assert python.host(Call(fn, Name("b"))).count("b") >= 1
    assert set(python.MATH) < UNARY


def test_host_pi_and_functions():
    assert decode(op("const", "pi")) == Const("pi")
    with pytest.raises(ExprError):
        decode(op("const", "e"))
    assert cpp.host(Const("pi")) == cpp.expr(Const("pi")) == "V(3.1415926535897931)"
    assert python.host(Const("pi")) == "math.pi"  # the element reference writes its value
    assert python.expr(Const("pi")) == "3.141592653589793"
    assert cpp.host(Call("sqrt", Name("b"))) == "grimoire::sqrt(b)"
    assert python.host(Call("sqrt", Name("b"))) == "math.sqrt(b)"
    assert python.host(Call("abs", Name("b"))) == "abs(b)"
    # Lifted element terms: what math lacks, computed on floats.
    assert python.host(Call("sigmoid", Name("b"))) == "(1.0 / (1.0 + math.exp(-b)))"
    assert python.host(Call("relu", Name("b"))) == "max(b, 0.0)"
    assert python.host(Call("softplus", Name("b"))) == "math.log1p(math.exp(b))"
    assert python.host(Call("sign", Name("b"))) == "float((b > 0) - (b < 0))"
    assert python.host(Call("rsqrt", Name("b"))) == "(1.0 / math.sqrt(b))"
    assert python.host(Clamp("max", Name("b"), Num(0.5))) == "max(b, 0.5)"
    assert python.host(Where(Compare("eq", Name("e"), Num(0)), Num(1), Name("e"))) == "(1 if (e == 0) else e)"
    assert python.host(Neg(Name("lr"))) == "(-lr)"


def test_conditions():
    # expr_data of (nesterov -> momentum > 0, dampening =:= 0)
    c = decode_cond(op("implies", "nesterov", op("and", op("gt", "momentum", 0), op("eq", "dampening", 0))))
    assert c == Logic("implies", Name("nesterov"), Logic("and", Compare("gt", Name("momentum"), Num(0)),
                                                         Compare("eq", Name("dampening"), Num(0))))
    assert cpp.cond(c) == "(!nesterov || ((momentum > V(0)) && (dampening == V(0))))"
    assert python.cond(c) == "(not bool(nesterov) or ((momentum > 0) and (dampening == 0)))"
    n = decode_cond(op("or", op("not", "a"), op("ne", "b", 0)))
    assert n == Logic("or", Not(Name("a")), Compare("ne", Name("b"), Num(0)))
    assert cpp.cond(n) == "((!a) || (b != V(0)))"
    assert python.cond(n) == "((not bool(a)) or (b != 0))"
    assert python.cond(decode_cond(op("implies", "a", op("ne", "b", 0)))) == "(not bool(a) or (b != 0))"
    for bad in (1, op("add", "a", 1), op("not", 1), op("and", "a"), "a b"):
        with pytest.raises(ExprError):
            decode_cond(bad)


def test_optimizer_host_values(bundled):
    host = {h.name: h for h in bundled.op("sgd_step").optimizer.host}
    assert (host["keep"].cpp, host["keep"].py) == ("((step == V(1)) ? V(0) : momentum)",
                                                   "(0 if (step == 1) else momentum)")
    host = {h.name: h for h in bundled.op("adam_step").optimizer.host}
    assert (host["bias_correction2_sqrt"].cpp, host["bias_correction2_sqrt"].py) == \
        ("grimoire::sqrt(bias_correction2)", "math.sqrt(bias_correction2)")
    assert host["tmp_u0"].lifted and (host["tmp_u0"].cpp, host["tmp_u0"].py) == ("(V(1) - beta2)", "(1 - beta2)")


def test_optimizer_program_numbers_temporaries_across_rules():
    from grimoire.kinds.optimizer import _rule
    from grimoire.kinds.optimizer import Program

    # rules_data/3 of [rule(update, m, g * g + g * g), rule(let, p, m * m - m * m)]: tmp_1 is the second rule's.
    rules = (_rule({"kind": "update", "name": "m", "lets": [[0, op("mul", "g", "g")]],
                    "result": op("add", op("tmp", 0), op("tmp", 0))}, "t"),
             _rule({"kind": "let", "name": "p", "lets": [[1, op("mul", "m", "m")]],
                    "result": op("sub", op("tmp", 1), op("tmp", 1))}, "t"))
    p = Program(0, (), (), rules)
    assert p.cpp == ("const V tmp_0 = (g * g);", "m = (tmp_0 + tmp_0);",
                     "const V tmp_1 = (m * m);", "const V p = (tmp_1 - tmp_1);")
    assert p.py == ("m = ((g * g) + (g * g))", "p = ((m * m) - (m * m))")  # the reference has no temporaries


def test_optimizer_conditions_and_programs(bundled):
    o = bundled.op("adam_step").optimizer
    conds = {c.cpp: (c.py, c.text) for c in o.conditions}
    assert conds["((weight_decay != V(0)) && (!decoupled_weight_decay))"] == \
        ("((weight_decay != 0) and (not bool(decoupled_weight_decay)))",
         "weight_decay != 0 and not decoupled_weight_decay")
    lines = {line for p in o.programs for line in p.cpp}
    assert "exp_avg_sq = ((exp_avg_sq * beta2) + ((tmp_u0 * gd) * gd));" in lines  # 1 - beta2 lifted
    assert "const V denom = ((grimoire::sqrt(second) / bias_correction2_sqrt) + eps);" in lines
    assert "denom = ((torch.sqrt(second) / bias_correction2_sqrt) + eps)" in {x for p in o.programs for x in p.py}


def test_activation_bodies(bundled):
    """The epilogue activations' C++ (semantics/core/activation.pl hands their bodies as data)."""
    acts = {a.name: a for a in bundled.op("conv2d_bias_act").epilogue.activations}
    assert (acts["none"].body.lets, acts["none"].body.result, acts["none"].grad.result) == ((), "z", "g")
    assert acts["relu"].grad.result == "grimoire::where(grimoire::le(y, V(0)), V(0), g)"
    assert acts["sigmoid"].grad.result == "((g * y) * (V(1) - y))"
    assert acts["silu"].grad.lets == ("const V tmp_0 = grimoire::sigmoid(z);",)
    assert acts["silu"].grad.result == "(g * (tmp_0 + (z * (tmp_0 * (V(1) - tmp_0)))))"

