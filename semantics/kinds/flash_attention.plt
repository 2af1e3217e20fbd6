/*  PLUnit tests of the flash_attention kind (flash_attention.pl): the forward and backward schemas
    (the attrs always causal, then scale), the dtypes per device, and, on ad-hoc specs, attrs declared
    in the other order with other defaults, and the violations of a malformed op. Run by
    tests/test_plunit.py after every semantics file is consulted. */

:- begin_tests(flash_attention_specs).

test(schema_returns_the_logsumexp, S == "flash_attention(Tensor query, Tensor key, Tensor value, bool causal=False, float? scale=None) -> (Tensor, Tensor)") :-
    once(derived(flash_attention, schema, S)).
test(backward_reads_output_and_logsumexp, S == "flash_attention_backward(Tensor grad_output, Tensor query, Tensor key, Tensor value, Tensor output, Tensor logsumexp, bool causal, float? scale) -> (Tensor, Tensor, Tensor)") :-
    once(derived(flash_attention, backward_schema, S)).
test(attr_args_with_defaults, L == 'bool causal=False, float? scale=None') :- attr_args(flash_attention, default, L).
test(attr_args_required, L == 'bool causal, float? scale') :- attr_args(flash_attention, required, L).
test(cuda_all_float_types, Ds == [float16, bfloat16, float32, float64]) :- kind_device_dtypes(flash_attention, cuda, Ds).
test(cpu_full_precision, [nondet, Ds == [float32, float64]]) :- kind_device_dtypes(flash_attention, cpu, Ds).
test(python_signature, S == 'query, key, value, causal: bool = False, scale: Optional[float] = None') :-
    once(derived(flash_attention, python_signature, S)).

:- end_tests(flash_attention_specs).

%  Ad-hoc ops: scale declared before causal, with defaults of their own; and one with two outputs, an
%  unknown attr, no causal and a forward.
:- begin_tests(flash_attention_adhoc, [setup(fa_assert), cleanup(fa_retract)]).

fa_spec(tst_fa, [input-q, input-k, input-v, output-o, attr-(scale: optional(float) = 0.125), attr-(causal: bool = true)]).
fa_spec(tst_fa_bad, [input-q, input-k, input-v, output-o, output-lse, attr-(scale: optional(float) = none),
                     attr-(dropout: float = 0.0), forward-(o = q)]).
fa_assert :- forall(fa_spec(E, Cs), ( assertz(user:entity(E)), assertz(user:component(E, kind, flash_attention)),
                                      forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
fa_retract :- forall(fa_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).

test(causal_first_whatever_the_order, S == "tst_fa(Tensor q, Tensor k, Tensor v, bool causal=True, float? scale=0.125) -> (Tensor, Tensor)") :-
    once(derived(tst_fa, schema, S)).
test(backward_names_from_the_spec, S == "tst_fa_backward(Tensor grad_o, Tensor q, Tensor k, Tensor v, Tensor o, Tensor logsumexp, bool causal, float? scale) -> (Tensor, Tensor, Tensor)") :-
    once(derived(tst_fa, backward_schema, S)).
% The generated wrapper (templates/kinds/flash_attention/ops/[op].py.j2) takes causal, then scale, as the schema does;
% so does the derived python_signature (shown by `grimoire info`), whatever order the spec declares them in.
test(python_signature_follows_the_schema_order, [S == 'q, k, v, causal: bool = True, scale: Optional[float] = 0.125']) :-
    once(derived(tst_fa, python_signature, S)).
test(valid, Ws == []) :- findall(W, kind_violation(flash_attention, tst_fa-W-_), Ws).
test(malformed, Ws == [entity(tst_fa_bad), component(tst_fa_bad, attr, dropout: float = 0.0), entity(tst_fa_bad),
                       component(tst_fa_bad, forward, o = q)]) :-
    findall(W, kind_violation(flash_attention, tst_fa_bad-W-_), Ws).
test(names_the_missing_attr) :-
    once(( kind_violation(flash_attention, tst_fa_bad-entity(tst_fa_bad)-M), sub_string(M, _, _, _, "needs the attr causal") )).
test(no_backward_with_two_outputs, fail) :- derived(tst_fa_bad, backward_schema, _).

:- end_tests(flash_attention_adhoc).
