/*  Kind `custom`: bring your own kernel. The spec declares the op's interface (inputs, attrs,
    outputs and their shapes, dtypes, devices) and a PyTorch reference; the user writes the kernel
    bodies in kernels/<op>.cpp (and kernels/<op>.cu) against a generated header that fixes their
    signatures. Checks, output allocation, registration, fake kernel, autograd glue, module, tests
    and benchmark are generated.
*/

:- module(custom, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/checks)).

ecs:op_kind(custom, "your own kernel in kernels/<op>.cpp (and .cu); everything around it generated").

ecs:kind_component(custom, shape, many,
    "shape: Output = like(Input), or Output = [D, ...] with each D an integer or size(Input, Dim)").
ecs:kind_component(custom, rank, many, "rank: Input = N, the exact number of dims Input must have").
ecs:kind_component(custom, reference, one,
    "reference: the PyTorch expression the kernel computes, as a \"string\" over the inputs and attrs (a tuple for several outputs)").
ecs:kind_component(custom, sample, many,
    "sample: [Shape, ...], one shape (a list of sizes) per input, e.g. [[3, 5]]: the generated tests run on each").
ecs:kind_component(custom, bench_sample, many, "bench_sample: like sample, the input shapes of a benchmark").

ecs:kind_requires(custom, input).
ecs:kind_requires(custom, output).
ecs:kind_requires(custom, reference).
ecs:kind_requires(custom, sample).

ecs:kind_violation(custom, E-component(E, output, O)-Msg) :-
    component(E, output, O), \+ component(E, shape, O = _),
    op_inputs(E, [I|_]),
    format(string(Msg), "output '~w' of custom op '~w' has no shape: add component(~q, shape, ~q = like(~q)) or ~q = [size(~q, 0), ...].",
           [O, E, E, O, I, O, I]).
ecs:kind_violation(custom, E-component(E, shape, S)-Msg) :-
    component(E, shape, S), \+ shape_ok(E, S),
    op_outputs(E, Outs), op_inputs(E, Ins),
    format(string(Msg), "shape ~q of '~w' must read Output = like(Input) or Output = [D, ...], D an integer >= 0 or size(Input, Dim); outputs: ~w, inputs: ~w.",
           [S, E, Outs, Ins]).
ecs:kind_violation(custom, E-component(E, shape, O = S2)-Msg) :-
    component(E, shape, O = S2), findall(S, component(E, shape, O = S), [S1, _|_]), S1 \== S2,
    format(string(Msg), "output '~w' of '~w' has two shapes (~q and ~q): keep one.", [O, E, S1, S2]).
ecs:kind_violation(custom, E-component(E, rank, R)-Msg) :-
    component(E, rank, R), op_inputs(E, Ins),
    \+ ( R = (I = N), memberchk(I, Ins), integer(N), N >= 0 ),
    format(string(Msg), "rank ~q of '~w' must read Input = N with N an integer >= 0 (inputs: ~w).", [R, E, Ins]).
ecs:kind_violation(custom, E-component(E, reference, R)-Msg) :-
    component(E, reference, R), \+ string(R),
    format(string(Msg), "reference of '~w' must be a double-quoted string of PyTorch, e.g. \"torch.tanh(x) * alpha\"; got ~q.", [E, R]).
ecs:kind_violation(custom, E-component(E, K, S)-Msg) :-
    member(K, [sample, bench_sample]), component(E, K, S), op_inputs(E, Ins), length(Ins, N),
    \+ ( is_list(S), length(S, N), forall(member(D, S), shape_list(D)) ),
    format(string(Msg), "~w ~q of '~w' must list one shape per input (~w), each a list of sizes >= 0, e.g. ~q.",
           [K, S, E, Ins, [[3, 5]]]).
ecs:kind_violation(custom, E-component(E, K, S)-Msg) :-
    member(K, [sample, bench_sample]), component(E, K, S), op_inputs(E, Ins),
    is_list(S), length(S, N), length(Ins, N),
    nth1(P, Ins, I), nth1(P, S, Dims), shape_list(Dims), length(Dims, Have),
    (   component(E, rank, I = R), integer(R), Have =\= R
    ->  format(string(Msg), "~w ~q of '~w' gives ~w ~w dims, but its rank is ~w.", [K, S, E, I, Have, R])
    ;   min_dims(E, I, Need), Have < Need
    ->  format(string(Msg), "~w ~q of '~w' gives ~w ~w dims, but a shape reads size(~w, _) needing ~w.", [K, S, E, I, Have, I, Need])
    ).
ecs:kind_violation(custom, E-component(E, K, V)-Msg) :-
    member(K, [forward, gradient]), component(E, K, V),
    format(string(Msg), "custom op '~w' takes no ~w: its kernel is yours (kernels/~w.cpp) and its PyTorch reference is component(~q, reference, \"...\").",
           [E, K, E, E]).
ecs:kind_violation(custom, E-entity(E)-Msg) :-
    ( E == registration ; sub_atom(E, _, _, 0, '_cpu') ; sub_atom(E, _, _, 0, '_cuda') ),
    format(string(Msg), "custom op name '~w' would clash with the generated sources (registration.cpp, <op>_cpu.cpp, <op>_cuda.cu): choose another name.", [E]).

ecs:kind_violation(custom, E-component(E, shape, O = Dims)-Msg) :-
    component(E, shape, O = Dims), is_list(Dims), member(size(I, X), Dims), integer(X),
    component(E, rank, I = R), integer(R), \+ ( X < R, X >= -R ),
    format(string(Msg), "shape of ~w in '~w' reads size(~w, ~w), but ~w has rank ~w.", [O, E, I, X, I, R]).

shape_list(D) :- is_list(D), forall(member(X, D), (integer(X), X >= 0)).

shape_ok(E, O = like(I)) :- !, op_outputs(E, Outs), memberchk(O, Outs), op_inputs(E, Ins), memberchk(I, Ins).
shape_ok(E, O = Dims) :-
    op_outputs(E, Outs), memberchk(O, Outs), is_list(Dims), op_inputs(E, Ins),
    forall(member(D, Dims), ( integer(D), D >= 0 ; D = size(I, X), memberchk(I, Ins), integer(X) )).

%% min_dims(+Op, +Input, -N): the fewest dims Input can have for every size(Input, Dim) in the shapes.
min_dims(E, I, N) :-
    findall(M, ( component(E, shape, _ = Dims), is_list(Dims), member(size(I, X), Dims), integer(X),
                 ( X >= 0 -> M is X + 1 ; M is -X ) ), Ms),
    max_list([0|Ms], N).

ecs:kind_derived(custom, E, reference_py-R) :- component(E, reference, R).
ecs:kind_derived(custom, E, custom-_{shapes: Shapes, ranks: Ranks, min_dims: Mins, samples: Samples,
                                 bench_samples: Bench, reference_line: Line}) :-
    op_outputs(E, Outs), op_inputs(E, Ins),
    findall(_{output: O, like: L, dims: Ds},
            ( member(O, Outs), component(E, shape, O = S), shape_json(S, L, Ds) ), Shapes),
    findall(_{input: I, rank: R}, ( member(I, Ins), component(E, rank, I = R) ), Ranks),
    findall(_{input: I, dims: N}, ( member(I, Ins), \+ component(E, rank, I = _), min_dims(E, I, N), N > 0 ), Mins),
    findall(S, component(E, sample, S), Samples),
    findall(S, component(E, bench_sample, S), Bench),
    ( component(E, reference, R), locate(component(E, reference, R), _, Line) -> true ; Line = 0 ).

shape_json(like(I), I, []) :- !.
shape_json(Dims, null, Ds) :- maplist(dim_json, Dims, Ds).
dim_json(size(I, X), _{input: I, dim: X, size: null}) :- !.
dim_json(N, _{input: null, dim: 0, size: N}).

%% The backward op: the gradient of every output, the inputs, the outputs, the attrs; one gradient
%% per differentiable input.
ecs:kind_derived(custom, E, backward_schema-S) :-
    op_differentiable(E, Ds), Ds \== [],
    op_outputs(E, Outs), op_inputs(E, Ins), op_attrs(E, As),
    findall(A, ( member(O, Outs), format(string(A), "Tensor grad_~w", [O]) ), GradS),
    findall(A, ( member(T, Ins), format(string(A), "Tensor ~w", [T]) ), InS),
    findall(A, ( member(T, Outs), format(string(A), "Tensor ~w", [T]) ), OutS),
    findall(A, ( member(attr(N, T, D), As), schema_attr(N, T, D, A) ), AttrS),
    append([GradS, InS, OutS, AttrS], Args), atomic_list_concat(Args, ', ', ArgL),
    schema_returns(Ds, Ret),
    format(string(S), "~w_backward(~w) -> ~w", [E, ArgL, Ret]).

% The user's kernels/<op>.cpp, and kernels/<op>.cu where the spec lists cuda.
ecs:kind_device(custom, cpu).
ecs:kind_device(custom, cuda).
