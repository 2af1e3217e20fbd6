/*  PLUnit tests of the gemm kind (gemm.pl): how a forward splits into layout, operands, bias and
    activation, the schemas and epilogue derived for the bundled gemm, linear and fused_linear_* ops, and,
    on ad-hoc specs, a choice attr, a matmul with a bias, and the violations of malformed forwards.
    Run by tests/test_plunit.py after every semantics file is consulted. */

:- begin_tests(gemm_specs).

test(matmul_parts, P == [matmul, a, b, '', [none], '']) :-
    parts(gemm, L, A, B, Bias, Acts, AA), P = [L, A, B, Bias, Acts, AA].
test(linear_parts, P == [linear, x, weight, bias, [none], '']) :-
    parts(linear, L, A, B, Bias, Acts, AA), P = [L, A, B, Bias, Acts, AA].
test(fused_relu_parts, P == [linear, x, weight, bias, [relu], '']) :-
    parts(fused_linear_relu, L, A, B, Bias, Acts, AA), P = [L, A, B, Bias, Acts, AA].
test(fused_gelu_applies_the_tanh_approximation, Acts == [gelu_tanh]) :- parts(fused_linear_gelu, _, _, _, _, Acts, _).
test(schema_without_bias, S == "gemm(Tensor a, Tensor b) -> Tensor") :- once(derived(gemm, schema, S)).
test(schema_bias_optional, S == "linear(Tensor x, Tensor weight, Tensor? bias=None) -> Tensor") :- once(derived(linear, schema, S)).
test(relu_keeps_no_preactivation, S == "fused_linear_relu(Tensor x, Tensor weight, Tensor? bias=None) -> Tensor") :-
    once(derived(fused_linear_relu, schema, S)).
test(gelu_returns_the_preactivation, S == "fused_linear_gelu(Tensor x, Tensor weight, Tensor? bias=None) -> (Tensor, Tensor)") :-
    once(derived(fused_linear_gelu, schema, S)).
test(python_signature_bias_none, S == 'x, weight, bias: Optional[Tensor] = None') :- once(derived(linear, python_signature, S)).
test(backward_two_operands, S == "gemm_backward(Tensor grad_c, Tensor a, Tensor b, Tensor saved, bool[2] output_mask) -> (Tensor, Tensor)") :-
    once(derived(gemm, backward_schema, S)).
test(backward_with_bias, S == "linear_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor? bias, Tensor saved, bool[3] output_mask) -> (Tensor, Tensor, Tensor)") :-
    once(derived(linear, backward_schema, S)).
test(epilogue_relu, [L, A, B, Bias, AA, NP, C, Ns] == [linear, x, weight, bias, '', false, null, [relu]]) :-
    once(derived(fused_linear_relu, epilogue, E)),
    _{layout: L, a: A, b: B, bias: Bias, act_attr: AA, needs_preact: NP, conv: C, activations: As} :< E,
    findall(N, ( member(J, As), get_dict(name, J, N) ), Ns).
test(epilogue_gelu_needs_preact, [NP, From, Lt] == [true, preact, "GELU"]) :-
    once(derived(fused_linear_gelu, epilogue, E)), NP = E.needs_preact, E.activations = [J], From = J.grad_from, Lt = J.cublaslt.
test(cpu_dtypes, Ds == [float32, float64]) :- kind_device_dtypes(gemm, cpu, Ds).
test(cuda_dtypes_from_the_spec, Ds == [float32, float64, float16, bfloat16]) :- op_device_dtypes(fused_linear_relu, cuda, Ds).

:- end_tests(gemm_specs).

%  Ad-hoc ops: a choice of activation without a bias, a matmul with a bias, and five malformed forwards.
:- begin_tests(gemm_adhoc, [setup(gemm_assert), cleanup(gemm_retract)]).

gemm_spec(tst_gemm_choice, [input-x, input-w, output-y, attr-(act: choice([none, silu]) = none), forward-(y = act(linear(x, w)))]).
gemm_spec(tst_gemm_mm_bias, [input-a, input-b, input-c, output-y, forward-(y = tanh(matmul(a, b) + c)), differentiable-[a]]).
gemm_spec(tst_gemm_self, [input-a, output-c, forward-(c = matmul(a, a))]).
gemm_spec(tst_gemm_order, [input-weight, input-x, output-y, forward-(y = linear(x, weight))]).
gemm_spec(tst_gemm_bad_choice, [input-x, input-w, output-y, attr-(act: choice([relu, softplus]) = relu), forward-(y = act(linear(x, w)))]).
gemm_spec(tst_gemm_attr, [input-x, input-w, output-y, attr-(alpha: float = 1.0), forward-(y = linear(x, w))]).
gemm_spec(tst_gemm_none, [input-x, input-w, output-y, forward-(y = none(linear(x, w)))]).
gemm_assert :- forall(gemm_spec(E, Cs), ( assertz(user:entity(E)), assertz(user:component(E, kind, gemm)),
                                           forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
gemm_retract :- forall(gemm_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).
blamed(E, Ws) :- findall(W, kind_violation(gemm, E-W-_), Ws).

test(choice_parts, P == [linear, x, w, '', [none, silu], act]) :-
    parts(tst_gemm_choice, L, A, B, Bias, Acts, AA), P = [L, A, B, Bias, Acts, AA].
test(choice_schema, S == "tst_gemm_choice(Tensor x, Tensor w, str act=\"none\") -> (Tensor, Tensor)") :-
    once(derived(tst_gemm_choice, schema, S)).
test(choice_backward_attr_required, S == "tst_gemm_choice_backward(Tensor grad_y, Tensor x, Tensor w, Tensor saved, str act, bool[2] output_mask) -> (Tensor, Tensor)") :-
    once(derived(tst_gemm_choice, backward_schema, S)).
test(choice_python_signature, S == 'x, w, act: str = "none"') :- once(derived(tst_gemm_choice, python_signature, S)).
test(choice_is_valid, Ws == []) :- blamed(tst_gemm_choice, Ws).
test(matmul_bias_parts, P == [matmul, a, b, c, [tanh], '']) :-
    parts(tst_gemm_mm_bias, L, A, B, Bias, Acts, AA), P = [L, A, B, Bias, Acts, AA].
test(mask_covers_every_operand_whatever_is_differentiable, S == "tst_gemm_mm_bias_backward(Tensor grad_y, Tensor a, Tensor b, Tensor? c, Tensor saved, bool[3] output_mask) -> (Tensor, Tensor, Tensor)") :-
    once(derived(tst_gemm_mm_bias, backward_schema, S)).
test(self_product, Ws == [component(tst_gemm_self, forward, c = matmul(a, a)), component(tst_gemm_self, forward, c = matmul(a, a))]) :-
    blamed(tst_gemm_self, Ws).
test(self_product_message) :-
    once(( kind_violation(gemm, tst_gemm_self-_-M), sub_string(M, _, _, _, "multiplies a by itself") )).
test(inputs_out_of_order) :-
    findall(M, kind_violation(gemm, tst_gemm_order-_-M), [M]),
    once(sub_string(M, _, _, _, "in order: [x,weight] (declared: [weight,x])")).
test(choice_of_a_non_activation, Ws == [component(tst_gemm_bad_choice, forward, y = act(linear(x, w))),
                                        component(tst_gemm_bad_choice, attr, act: choice([relu, softplus]) = relu)]) :-
    blamed(tst_gemm_bad_choice, Ws).
test(choice_of_a_non_activation_has_no_parts, fail) :- parts(tst_gemm_bad_choice, _, _, _, _, _, _).
test(attr_other_than_the_choice, Ws == [component(tst_gemm_attr, attr, alpha: float = 1.0)]) :- blamed(tst_gemm_attr, Ws).
test(none_is_not_called, Ws == [component(tst_gemm_none, forward, y = none(linear(x, w)))]) :- blamed(tst_gemm_none, Ws).

:- end_tests(gemm_adhoc).
