/*  Kind `flash_attention`: softmax(query @ key^T * scale [+ causal mask]) @ value over
    [batch, heads, seq, d], computed tile by tile with an online softmax, so no seq x seq matrix ever
    exists: memory grows linearly with the sequence. The forward also returns the row log-sum-exp,
    which the backward reads to recompute the probabilities tile by tile (FlashAttention-2's scheme).
    CPU: BLAS on tiles; CUDA: mma.sync tensor-core kernels (grimoire_flash.cuh) for float16/bfloat16,
    chunked cuBLAS matmuls (grimoire_attention_math.h) for float32/float64.
*/

:- module(flash_attention, []).
:- use_module(semantics(core/ecs)).

ecs:op_kind(flash_attention, "IO-aware attention: tiled, online softmax, O(seq) memory, causal masking; returns only the output").

ecs:kind_requires(flash_attention, input).
ecs:kind_requires(flash_attention, output).

ecs:kind_device(flash_attention, cpu).
ecs:kind_device(flash_attention, cuda).
ecs:kind_device_dtypes(flash_attention, cpu, [float32, float64]).
ecs:kind_device_dtypes(flash_attention, cuda, [float16, bfloat16, float32, float64]).

ecs:kind_violation(flash_attention, E-entity(E)-Msg) :-
    op_inputs(E, Ins), length(Ins, N), N =\= 3,
    format(string(Msg), "flash_attention op '~w' takes three inputs (query, key, value), got ~w.", [E, Ins]).
ecs:kind_violation(flash_attention, E-entity(E)-Msg) :-
    op_outputs(E, Outs), length(Outs, N), N =\= 1,
    format(string(Msg), "flash_attention op '~w' returns one output (the attention output; the weights are never formed), got ~w.", [E, Outs]).
ecs:kind_violation(flash_attention, E-component(E, attr, A)-Msg) :-
    component(E, attr, A), attr_parts(A, N, T, _),
    \+ ( N == scale, T == optional(float) ), \+ ( N == causal, T == bool ),
    format(string(Msg), "flash_attention op '~w' takes the attrs causal: bool = false and scale: optional(float) = none; got ~q.", [E, A]).
ecs:kind_violation(flash_attention, E-entity(E)-Msg) :-
    is_op(E), component(E, kind, flash_attention),
    member(N-T, [causal-"causal: bool = false", scale-"scale: optional(float) = none"]),
    \+ ( component(E, attr, A), attr_parts(A, N, _, _) ),
    format(string(Msg), "flash_attention op '~w' needs the attr ~w: add component(~q, attr, ~w).", [E, N, E, T]).
ecs:kind_violation(flash_attention, E-component(E, forward, F)-Msg) :-
    component(E, forward, F),
    format(string(Msg), "flash_attention op '~w' has its forward fixed by the kind; remove forward ~q.", [E, F]).

%% The forward returns (output, logsumexp); the backward takes the output's gradient and both.
ecs:kind_schema(flash_attention, E, S) :-
    op_inputs(E, [Q, K, V]), attr_args(E, default, AttrL),
    format(string(S), "~w(Tensor ~w, Tensor ~w, Tensor ~w, ~w) -> (Tensor, Tensor)", [E, Q, K, V, AttrL]).
ecs:kind_derived(flash_attention, E, backward_schema-S) :-
    op_inputs(E, [Q, K, V]), op_outputs(E, [O]), attr_args(E, required, AttrL),
    format(string(S), "~w_backward(Tensor grad_~w, Tensor ~w, Tensor ~w, Tensor ~w, Tensor ~w, Tensor logsumexp, ~w) -> (Tensor, Tensor, Tensor)",
           [E, O, Q, K, V, O, AttrL]).

%% The Python wrapper's parameters in the schema's order (causal, then scale), whatever the spec's.
ecs:kind_python_signature(flash_attention, E, Sig) :-
    op_inputs(E, Ins), op_attrs(E, As),
    findall(S, ( member(N, [causal, scale]), member(attr(N, T, D), As), python_param(N, T, D, S) ), AttrS),
    append(Ins, AttrS, Ps), atomic_list_concat(Ps, ', ', Sig).

%  attr_args(+Op, +Defaults, -Text): the attrs as schema arguments, with their defaults or (the backward's) without.
%  Always causal, then scale, whatever order the spec declares them in: the kernels' signatures and the
%  Python wrapper take them so; the spec gives their defaults.
attr_args(E, Defaults, AttrL) :-
    op_attrs(E, As),
    findall(X, ( member(N, [causal, scale]), member(attr(N, T, D0), As),
                 ( Defaults == default -> D = D0 ; D = required ), schema_attr(N, T, D, X) ), Xs),
    atomic_list_concat(Xs, ', ', AttrL).
