/*  PLUnit tests of the epilogue activations (activation.pl): the activations and their output-form
    gradients (checked numerically against the derived ones), what activation_json hands the templates,
    and how a gemm or conv forward splits into core, bias and activation. Run by tests/test_plunit.py
    after every semantics file is consulted. */

:- begin_tests(activation_table).

%  ev(+Expr, +Env, -Value): Expr evaluated with Env's Name-Value bindings (the grammar the activations use).
ev(X, _, V) :- number(X), !, V = X.
ev(X, Env, V) :- atom(X), !, memberchk(X-V, Env).
ev(-A, Env, V) :- !, ev(A, Env, VA), V is -VA.
ev(sigmoid(A), Env, V) :- !, ev(A, Env, VA), V is 1 / (1 + exp(-VA)).
ev(relu(A), Env, V) :- !, ev(A, Env, VA), V is max(VA, 0.0).
ev(pow(A, N), Env, V) :- !, ev(A, Env, VA), V is VA ** N.
ev(A ** N, Env, V) :- !, ev(pow(A, N), Env, V).
ev(where(C, A, B), Env, V) :- !, C =.. [Cmp, L, R], ev(L, Env, VL), ev(R, Env, VR), T =.. [Cmp, VL, VR],
    ( call(T) -> ev(A, Env, V) ; ev(B, Env, V) ).
ev(E, Env, V) :- E =.. [F, A, B], !, ev(A, Env, VA), ev(B, Env, VB), T =.. [F, VA, VB], V is T.
ev(E, Env, V) :- E =.. [F, A], ev(A, Env, VA), T =.. [F, VA], V is T.

close_to(A, B) :- abs(A - B) =< 1.0e-12 * max(1.0, abs(B)).
points([-2.5, -0.3, 0.4, 1.9]).

test(names, As == [none, relu, gelu, gelu_tanh, silu, sigmoid, tanh]) :- findall(A, activation(A, _, _, _), As).
test(output_form_gradients, As == [none, relu, sigmoid, tanh]) :- findall(A, activation_output_gradient(A, _), As).
% Where the gradient is written over the output y, it must equal g * dAct/dz derived from the expression.
test(output_form_matches_derived, forall(activation_output_gradient(A, GY))) :-
    activation(A, X, _, _), normalize(X, N), gradient(N, z, g, GZ), points(Ps),
    forall(member(Z, Ps), ( ev(N, [z-Z], Y), ev(GY, [y-Y, g-1.7], V1), ev(GZ, [z-Z, g-1.7], V2), close_to(V1, V2) )).
% The epilogue computes the same function as the elementwise op of the same name.
test(agrees_with_elementwise_op, forall(member(A, [relu, gelu, gelu_tanh, silu, sigmoid, tanh]))) :-
    activation(A, X, _, _), component(A, forward, (_ = F)), points(Ps),
    forall(member(Z, Ps), ( ev(X, [z-Z], V1), ev(F, [x-Z], V2), close_to(V1, V2) )).
test(only_relu_has_a_kink, As == [relu]) :- findall(A, activation_kink(A, _), As).
test(cublaslt_epilogues, Ps == [none-"DEFAULT", gelu_tanh-"GELU"]) :- findall(A-E, activation_cublaslt(A, E), Ps).
test(is_activation, forall(member(A, [none, gelu_tanh]))) :- is_activation(A).
test(not_an_activation, [forall(member(A, [softplus, 'Relu', relu(z), _])), fail]) :- is_activation(A).

:- end_tests(activation_table).

:- begin_tests(activation_json).

% The bodies are data (body_data/2); tests/test_emit.py holds their C++ text.
test(relu_reads_the_output, [F, Lt, K] == [output, "", "{z} * ({y} > 0)"]) :-
    activation_json(relu, J), F = J.grad_from, Lt = J.cublaslt, K = J.backward_reference,
    J.grad =@= _{lets: [], result: _{op: where, args: [_{op: le, args: ["y", 0]}, 0, "g"]}}.
test(none_is_the_identity, Lt == "DEFAULT") :-
    activation_json(none, J), Lt = J.cublaslt,
    J.body =@= _{lets: [], result: "z"}, J.grad =@= _{lets: [], result: "g"}.
test(sigmoid_gradient_over_y, F == output) :-
    activation_json(sigmoid, J), F = J.grad_from.
test(silu_gradient_over_z_shares_the_sigmoid, [F, Ls] =@= [preact, [[0, _{op: sigmoid, args: ["z"]}]]]) :-
    activation_json(silu, J), F = J.grad_from, Ls = J.grad.lets.
test(gelu_tanh_is_cublaslt_gelu, [F, Lt, M] == [preact, "GELU", "torch.nn.GELU(approximate='tanh')"]) :-
    activation_json(gelu_tanh, J), F = J.grad_from, Lt = J.cublaslt, M = J.module.
test(gelu_has_no_cublaslt_epilogue, [F, Lt, R] == [preact, "", "torch.nn.functional.gelu({})"]) :-
    activation_json(gelu, J), F = J.grad_from, Lt = J.cublaslt, R = J.reference.
test(gelu_grad_text, T == "g*(0.5*(1+erf(0.7071067811865476*z))+0.5*z*(0.7978845608028654*exp(- (0.7071067811865476*z*(0.7071067811865476*z)))))") :-
    activation_json(gelu, J), T = J.grad_text.

:- end_tests(activation_json).

:- begin_tests(activation_epilogue).

test(fixed_activation_with_bias, [Out, Core, Bias, Acts, AA] == [y, linear(x, weight), bias, [relu], '']) :-
    once(epilogue_forward(fused_linear_relu, Out, Core, Bias, Acts, AA)).
test(plain_product, [Out, Core, Bias, Acts, AA] == [c, matmul(a, b), '', [none], '']) :-
    once(epilogue_forward(gemm, Out, Core, Bias, Acts, AA)).
test(bias_without_activation, [Core, Bias, Acts] == [linear(x, weight), bias, [none]]) :-
    once(epilogue_forward(linear, _, Core, Bias, Acts, _)).
test(choice_attr_lists_the_activations, [Core, Acts, AA] == [conv2d(x, weight), [relu, none, gelu, gelu_tanh, silu, sigmoid, tanh], act]) :-
    once(epilogue_forward(conv2d_bias_act, _, Core, _, Acts, AA)).
test(needs_preact_for_gelu) :- epilogue_needs_preact([relu, gelu]).
test(no_preact_for_output_form_gradients, fail) :- epilogue_needs_preact([none, relu, sigmoid, tanh]).
test(bias_arg, [A, B] == [[], ["Tensor? bias=None"]]) :- epilogue_bias_arg('', A), epilogue_bias_arg(bias, B).

:- end_tests(activation_epilogue).
