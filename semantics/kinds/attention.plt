/*  PLUnit tests of the attention kind (attention.pl): the backward schema derived for the bundled
    fused_attention and for an ad-hoc op with other names, and the violations of an op with the wrong
    inputs, outputs, attrs or a forward of its own. Run by tests/test_plunit.py after every semantics
    file is consulted. */

:- begin_tests(attention_specs).

test(backward_takes_both_gradients_optional, S == "fused_attention_backward(Tensor? grad_output, Tensor? grad_attention_weights, Tensor query, Tensor key, Tensor value, Tensor attention_weights, float? scale) -> (Tensor, Tensor, Tensor)") :-
    once(derived(fused_attention, backward_schema, S)).
test(returns_output_and_weights, S == "fused_attention(Tensor query, Tensor key, Tensor value, float? scale=None) -> (Tensor, Tensor)") :-
    once(derived(fused_attention, schema, S)).
test(gradients_flow_to_all_three, Ds == [query, key, value]) :- op_differentiable(fused_attention, Ds).
test(cpu_has_no_half_types, Ds == [float32, float64]) :- kind_device_dtypes(attention, cpu, Ds).
test(cuda_takes_every_dtype, fail) :- kind_device_dtypes(attention, cuda, _).

:- end_tests(attention_specs).

%  Ad-hoc ops: a valid one with its own names, one with two inputs, one output and a float scale,
%  one without a scale, and one with a forward.
:- begin_tests(attention_adhoc, [setup(attn_assert), cleanup(attn_retract)]).

attn_spec(tst_attn, [input-q, input-k, input-v, output-out, output-probs, attr-(scale: optional(float) = none)]).
attn_spec(tst_attn_shape, [input-q, input-k, output-out, attr-(scale: float = 1.0)]).
attn_spec(tst_attn_noscale, [input-q, input-k, input-v, output-out, output-probs]).
attn_spec(tst_attn_forward, [input-q, input-k, input-v, output-out, output-probs, attr-(scale: optional(float) = none),
                             forward-(out = q)]).
attn_assert :- forall(attn_spec(E, Cs), ( assertz(user:entity(E)), assertz(user:component(E, kind, attention)),
                                          forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
attn_retract :- forall(attn_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).
blamed(E, Ws) :- findall(W, kind_violation(attention, E-W-_), Ws).

test(backward_names_from_the_spec, S == "tst_attn_backward(Tensor? grad_out, Tensor? grad_probs, Tensor q, Tensor k, Tensor v, Tensor probs, float? scale) -> (Tensor, Tensor, Tensor)") :-
    once(derived(tst_attn, backward_schema, S)).
test(valid, Ws == []) :- blamed(tst_attn, Ws).
test(wrong_arity_and_scale_type, Ws == [entity(tst_attn_shape), entity(tst_attn_shape), component(tst_attn_shape, attr, scale: float = 1.0)]) :-
    blamed(tst_attn_shape, Ws).
test(no_backward_without_three_inputs, fail) :- derived(tst_attn_shape, backward_schema, _).
test(scale_required) :-
    findall(M, kind_violation(attention, tst_attn_noscale-entity(tst_attn_noscale)-M), [M]),
    once(sub_string(M, _, _, _, "needs the attr scale")).
test(forward_refused, Ws == [component(tst_attn_forward, forward, out = q)]) :- blamed(tst_attn_forward, Ws).

:- end_tests(attention_adhoc).
