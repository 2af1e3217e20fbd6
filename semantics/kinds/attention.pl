/*  Kind `attention`: softmax(query @ key^T * scale) @ value over [batch, (heads,) seq, d],
    returning the output and the attention weights. The matmuls go through ATen (BLAS on CPU);
    the scale + softmax between them and its backward are fused row passes.
*/

:- module(attention, []).
:- use_module(semantics(core/ecs)).

ecs:op_kind(attention, "fused scaled-dot-product attention returning (output, attention_weights)").

ecs:kind_requires(attention, input).
ecs:kind_requires(attention, output).

ecs:kind_violation(attention, E-entity(E)-Msg) :-
    op_inputs(E, Ins), length(Ins, N), N =\= 3,
    format(string(Msg), "attention op '~w' takes three inputs (query, key, value), got ~w.", [E, Ins]).
ecs:kind_violation(attention, E-entity(E)-Msg) :-
    op_outputs(E, Outs), length(Outs, N), N =\= 2,
    format(string(Msg), "attention op '~w' returns two outputs (output, attention_weights), got ~w.", [E, Outs]).
ecs:kind_violation(attention, E-component(E, attr, A)-Msg) :-
    component(E, attr, A), attr_parts(A, N, T, _),
    \+ ( N == scale, T == optional(float) ),
    format(string(Msg), "attention op '~w' takes one attr, scale: optional(float) = none; got ~q.", [E, A]).
%  The kernels, the wrapper, the module and the tests all take the scale (None: 1/sqrt(d)), as flash_attention's do.
ecs:kind_violation(attention, E-entity(E)-Msg) :-
    \+ ( component(E, attr, A), attr_parts(A, scale, _, _) ),
    format(string(Msg), "attention op '~w' needs the attr scale: add component(~q, attr, scale: optional(float) = none) (none: 1/sqrt(d)).", [E, E]).
ecs:kind_violation(attention, E-component(E, forward, F)-Msg) :-
    component(E, forward, F),
    format(string(Msg), "attention op '~w' has its forward fixed by the kind; remove forward ~q.", [E, F]).

%% The backward op takes the gradients of both outputs (either may be absent) and the saved weights.
ecs:kind_derived(attention, E, backward_schema-S) :-
    op_inputs(E, [Q, K, V]), op_outputs(E, [O, W]),
    format(string(S), "~w_backward(Tensor? grad_~w, Tensor? grad_~w, Tensor ~w, Tensor ~w, Tensor ~w, Tensor ~w, float? scale) -> (Tensor, Tensor, Tensor)",
           [E, O, W, Q, K, V, W]).

%% Backends: BLAS + a vectorized row pass on CPU (no half types there); on CUDA cuBLAS + one fused
%% warp-shuffle softmax row kernel each way, float accumulation for half types.
ecs:kind_device(attention, cpu).
ecs:kind_device(attention, cuda).
ecs:kind_device_dtypes(attention, cpu, [float32, float64]).
