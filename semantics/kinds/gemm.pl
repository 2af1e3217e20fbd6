/*  Kind `gemm`: a matrix product with a fused epilogue (bias, activation), e.g.
        component(fused_linear_relu, forward, y = relu(linear(x, weight) + bias)).
    linear(X, W) is X @ W^T with W [out, in] (a torch Linear weight; X may have leading dims);
    matmul(A, B) is A @ B of two matrices. The bias input is optional at call time (None).
    CPU: ATen's BLAS matmul, then one vectorized parallel pass adding the bias and applying the
    activation in place. CUDA: cuBLASLt with the matching epilogue (GELU_AUX_BIAS, ...: see
    activation_cublaslt in semantics/core/activation.pl), or
    the generated tensor-core kernel (grimoire_mma.cuh) when selected; other activations run as one
    pass after the matmul. The backward fuses the epilogue's gradient (derived from the activation's
    expression, semantics/core/activation.pl) into one pass over the incoming gradient.
*/

:- module(gemm, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/activation)).

ecs:op_kind(gemm, "matrix product with a fused bias + activation epilogue: y = act(linear(x, weight) + bias)").

ecs:kind_requires(gemm, input).
ecs:kind_requires(gemm, output).
ecs:kind_requires(gemm, forward).

ecs:kind_device(gemm, cpu).
ecs:kind_device(gemm, cuda).
ecs:kind_device_dtypes(gemm, cpu, [float32, float64]).

core(linear(A, B), linear, A, B).
core(matmul(A, B), matmul, A, B).

%% parts(+Op, -Layout, -A, -B, -Bias, -Acts, -ActAttr)
parts(E, Layout, A, B, Bias, Acts, ActAttr) :-
    epilogue_forward(E, _, Core, Bias, Acts, ActAttr), core(Core, Layout, A, B).

form_help("y = relu(linear(x, weight) + bias), y = linear(x, weight), c = matmul(a, b) or y = act(linear(x, weight) + bias) with act a choice([relu, gelu, ...]) attr; activations: ~w").

ecs:kind_violation(gemm, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), \+ parts(E, _, _, _, _, _, _),
    findall(A, activation(A, _, _, _), As), atomic_list_concat(As, ', ', AL),
    form_help(H), format(string(Help), H, [AL]),
    format(string(Msg), "forward of gemm op '~w' must read ~w; got ~q.", [E, Help, F]).
ecs:kind_violation(gemm, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), parts(E, _, A, B, Bias, _, _),
    op_inputs(E, Ins), exclude(==(''), [A, B, Bias], Used),
    Used \== Ins,
    format(string(Msg), "gemm op '~w' must declare exactly the inputs its forward reads, in order: ~w (declared: ~w).", [E, Used, Ins]).
ecs:kind_violation(gemm, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), parts(E, _, A, A, _, _, _),
    format(string(Msg), "forward of '~w' multiplies ~w by itself: give the two operands their own inputs.", [E, A]).
ecs:kind_violation(gemm, E-component(E, output, O)-Msg) :-
    op_outputs(E, [_, O|_]),
    format(string(Msg), "gemm op '~w' has one output; remove output ~q.", [E, O]).
ecs:kind_violation(gemm, E-component(E, forward, (O = F))-Msg) :-
    component(E, forward, (O = F)), op_outputs(E, Outs), \+ memberchk(O, Outs),
    format(string(Msg), "forward of '~w' assigns ~q, which is not an output (outputs: ~w).", [E, O, Outs]).
ecs:kind_violation(gemm, E-component(E, attr, At)-Msg) :-
    component(E, attr, At), attr_parts(At, N, _, _), \+ parts(E, _, _, _, _, _, N),
    format(string(Msg), "gemm op '~w' takes one attr only, the choice of activation its forward names (act: choice([none, relu, gelu]) = relu, used as y = act(...)); remove ~q.", [E, At]).

ecs:kind_schema(gemm, E, Schema) :-
    parts(E, _, A, B, Bias, Acts, _), op_outputs(E, [_]), op_attrs(E, As),
    format(string(SA), "Tensor ~w", [A]), format(string(SB), "Tensor ~w", [B]), epilogue_bias_arg(Bias, SBias),
    findall(X, (member(attr(N, T, D), As), schema_attr(N, T, D, X)), AttrS),
    append([[SA, SB], SBias, AttrS], Args), atomic_list_concat(Args, ', ', ArgL),
    ( epilogue_needs_preact(Acts) -> Ret = "(Tensor, Tensor)" ; Ret = "Tensor" ),
    format(string(Schema), "~w(~w) -> ~w", [E, ArgL, Ret]).

ecs:kind_python_signature(gemm, E, Sig) :-
    parts(E, _, A, B, Bias, _, _), op_attrs(E, As),
    ( Bias == '' -> PB = [] ; format(string(SB0), "~w: Optional[Tensor] = None", [Bias]), PB = [SB0] ),
    findall(S, (member(attr(N, T, D), As), python_param(N, T, D, S)), AttrS),
    append([[A, B], PB, AttrS], Ps), atomic_list_concat(Ps, ', ', Sig).

%% The backward: the incoming gradient, the operands, the bias, what the epilogue's gradient reads
%% (the output, or the pre-activation), the attrs and which gradients are wanted.
ecs:kind_derived(gemm, E, backward_schema-S) :-
    op_differentiable(E, Ds), Ds \== [],
    parts(E, _, A, B, Bias, _, _), op_outputs(E, [O]), op_attrs(E, As),
    format(string(G), "Tensor grad_~w", [O]),
    format(string(SA), "Tensor ~w", [A]), format(string(SB), "Tensor ~w", [B]),
    ( Bias == '' -> SBias = [], N = 2 ; format(string(X), "Tensor? ~w", [Bias]), SBias = [X], N = 3 ),
    findall(AttrArg, (member(attr(Nm, T, _), As), schema_attr(Nm, T, required, AttrArg)), AttrS),
    format(string(Mask), "bool[~w] output_mask", [N]),
    append([[G, SA, SB], SBias, ["Tensor saved"], AttrS, [Mask]], Args), atomic_list_concat(Args, ', ', ArgL),
    length(Ts, N), maplist(=("Tensor"), Ts), atomic_list_concat(Ts, ', ', RetL),
    format(string(S), "~w_backward(~w) -> (~w)", [E, ArgL, RetL]).

ecs:kind_derived(gemm, E, epilogue-_{layout: L, a: A, b: B, bias: Bias, activations: AJ, act_attr: AA,
                                  needs_preact: NP, conv: null}) :-
    parts(E, L, A, B, Bias, Acts, AA),
    maplist(activation_json, Acts, AJ),
    ( epilogue_needs_preact(Acts) -> NP = true ; NP = false ).
