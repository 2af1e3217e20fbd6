/*  PLUnit tests of the elementwise kind (elementwise.pl): the gradients derived from the bundled specs'
    forwards, the C++ and Python forms of a forward, the out=/in-place schema and the backward schema, and,
    on an ad-hoc spec, a gradient override and a differentiable subset. Run by tests/test_plunit.py after
    every semantics file is consulted. */

:- begin_tests(elementwise_gradients).

test(gelu, [G, D] == [grad_y * (0.5 * (1 + erf(0.7071067811865476 * x))
                                + 0.5 * x * (0.7978845608028654 * exp(-(0.7071067811865476 * x * (0.7071067811865476 * x))))),
                      true]) :-
    input_gradient(gelu, x, grad_y, G, D).
test(relu_passes_nan, G == grad_y * where(x =< 0, 0, 1)) :- input_gradient(relu, x, grad_y, G, _).
test(sigmoid, G == grad_y * (sigmoid(x) * (1 - sigmoid(x)))) :- input_gradient(sigmoid, x, grad_y, G, _).
test(tanh, G == grad_y * (1 - tanh(x) * tanh(x))) :- input_gradient(tanh, x, grad_y, G, _).
test(parametric_swish_chain_rule, G == grad_y * (sigmoid(beta * x) + x * (sigmoid(beta * x) * (1 - sigmoid(beta * x)) * beta))) :-
    input_gradient(parametric_swish, x, grad_y, G, _).
test(softplus_linear_above_threshold, G == grad_y * where(x * beta > threshold, 1, exp(beta * x) * beta / (1 + exp(beta * x)) / beta)) :-
    input_gradient(softplus, x, grad_y, G, _).
test(add_scales_the_second_operand, [GX, GY] == [grad_z, grad_z * alpha]) :-
    input_gradient(add, x, grad_z, GX, _), input_gradient(add, y, grad_z, GY, _).
test(sub_negates, GY == -(grad_z * alpha)) :- input_gradient(sub, y, grad_z, GY, _).
test(mul_swaps_operands, [GX, GY] == [grad_z * y, grad_z * x]) :-
    input_gradient(mul, x, grad_z, GX, _), input_gradient(mul, y, grad_z, GY, _).
test(div_denominator_without_a_square, GY == -(grad_z * (x / y / y))) :- input_gradient(div, y, grad_z, GY, _).
test(one_gradient_per_input_in_order, Is == [x, y]) :-
    once(derived(div, gradients, Gs)), findall(I, ( member(G, Gs), I = G.input ), Is).
test(bundled_gradients_are_derived, Ds == []) :-
    findall(E-I, ( component(E, kind, elementwise), once(derived(E, gradients, Gs)), member(G, Gs),
                   get_dict(derived, G, false), get_dict(input, G, I) ), Ds).
% The gradient's body as data (expr.pl's body_data/2; grimoire/emit/cpp.py writes its C++): sigmoid(x) once.
test(gradient_json_shares_subterms, [Ls, R] =@= [[[0, _{op: sigmoid, args: ["x"]}]],
        _{op: mul, args: ["grad_y", _{op: mul, args: [_{op: tmp, args: [0]}, _{op: sub, args: [1, _{op: tmp, args: [0]}]}]}]}]) :-
    once(derived(sigmoid, gradients, [G])), Ls = G.body.lets, R = G.body.result.

:- end_tests(elementwise_gradients).

:- begin_tests(forward_expr).

test(vars_are_inputs_then_attrs, Vs == [x, beta, threshold]) :- vars(softplus, Vs).
test(forward_is_data, R =@= _{op: add, args: ["x", _{op: mul, args: ["alpha", "y"]}]}) :-
    once(derived(add, forward, F)), R = F.result.
test(reference_is_the_normalized_forward, P =@= _{op: pow, args: ["x", 3]}) :-
    once(derived(gelu_tanh, reference, D)), once(( sub_term(P, D), is_dict(P), get_dict(op, P, pow) )).

:- end_tests(forward_expr).

:- begin_tests(elementwise_schemas).

test(out_schema, S == "add_out(Tensor x, Tensor y, float alpha=1.0, *, Tensor(a!) out) -> ()") :- once(derived(add, out_schema, S)).
test(no_variant_no_out_schema, S == "") :- once(derived(mul, out_schema, S)).
test(variants_sorted, Vs == [inplace, out]) :- once(derived(add, variants, Vs)).
test(no_variants, Vs == []) :- once(derived(mul, variants, Vs)).
test(backward_two_inputs, S == "add_backward(Tensor grad_z, Tensor x, Tensor y, float alpha=1.0) -> (Tensor, Tensor)") :-
    once(derived(add, backward_schema, S)).
test(backward_one_input, S == "gelu_backward(Tensor grad_y, Tensor x) -> Tensor") :- once(derived(gelu, backward_schema, S)).
test(devices, Ds == [cpu, cuda]) :- findall(D, kind_device(elementwise, D), Ds).

:- end_tests(elementwise_schemas).

%  Ad-hoc ops: tst_ew differentiates x and w only, overrides w's gradient (and y's, which is ignored: y is not
%  differentiable) and has only the in-place variant; tst_ew_const differentiates nothing.
:- begin_tests(elementwise_adhoc, [setup(ew_assert), cleanup(ew_retract)]).

ew_spec(tst_ew, [kind-elementwise, input-x, input-y, input-w, attr-(k: float = 2.0), attr-(mode: choice([a, b]) = a),
                 output-r, forward-(r = x * y + k * w), differentiable-[x, w],
                 gradient-(w = grad_r * k * 0.5), gradient-(y = grad_r), variant-inplace]).
ew_spec(tst_ew_const, [kind-elementwise, input-x, output-r, forward-(r = 2 * x), differentiable-[]]).
ew_assert :- forall(ew_spec(E, Cs), ( assertz(user:entity(E)), forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
ew_retract :- forall(ew_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).

test(gradients_only_for_differentiable_inputs, Is == [x, w]) :-
    once(derived(tst_ew, gradients, Gs)), findall(I, ( member(G, Gs), I = G.input ), Is).
test(override_is_used_simplified, [G, D] == [0.5 * (grad_r * k), false]) :- input_gradient(tst_ew, w, grad_r, G, D).
test(override_flagged_not_derived, [Ds, E] == [[true, false], "0.5*(grad_r*k)"]) :-
    once(derived(tst_ew, gradients, Gs)), findall(D, ( member(G, Gs), D = G.derived ), Ds), Gs = [_, W], E = W.expr.
test(backward_takes_every_input_returns_differentiable, S == "tst_ew_backward(Tensor grad_r, Tensor x, Tensor y, Tensor w, float k=2.0, str mode=\"a\") -> (Tensor, Tensor)") :-
    once(derived(tst_ew, backward_schema, S)).
test(inplace_alone_still_has_the_out_op, S == "tst_ew_out(Tensor x, Tensor y, Tensor w, float k=2.0, str mode=\"a\", *, Tensor(a!) out) -> ()") :-
    once(derived(tst_ew, out_schema, S)).
test(nothing_differentiable_no_gradients, Gs == []) :- once(derived(tst_ew_const, gradients, Gs)).
test(nothing_differentiable_no_backward, fail) :- derived(tst_ew_const, backward_schema, _).

:- end_tests(elementwise_adhoc).
