/*  Kind `conv`: a 2-d convolution with a fused bias + activation epilogue, e.g.
        component(conv2d_bias_act, forward, y = act(conv2d(x, weight) + bias)).
    conv2d(X, W) is torch's conv2d of X [N, C, H, W] by W [C_out, C / groups, kH, kW]; its stride, padding,
    dilation and groups are the op's int attrs of those names (1, 0, 1, 1 when absent). The activation is
    fixed (relu(...)) or a choice attr (act(...)), as in the gemm kind (semantics/core/activation.pl).
    The convolution is ATen's (cuDNN on CUDA, oneDNN on the CPU) without its bias; ONE pass then adds the
    bias per channel and applies the activation, in place unless the backward needs the pre-activation.
    The backward fuses the epilogue's gradient into one pass and hands it to ATen's convolution_backward.
*/

:- module(conv, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/activation)).

ecs:op_kind(conv, "2-d convolution with a fused bias + activation epilogue: y = act(conv2d(x, weight) + bias)").

ecs:kind_requires(conv, input).
ecs:kind_requires(conv, output).
ecs:kind_requires(conv, forward).

ecs:kind_device(conv, cpu).
ecs:kind_device(conv, cuda).
ecs:kind_device_dtypes(conv, cpu, [float32, float64]).

geometry([stride-1, padding-0, dilation-1, groups-1]).

%% parts(+Op, -X, -W, -Bias, -Acts, -ActAttr)
parts(E, X, W, Bias, Acts, ActAttr) :-
    epilogue_forward(E, _, conv2d(X, W), Bias, Acts, ActAttr).

ecs:kind_violation(conv, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), \+ parts(E, _, _, _, _, _),
    findall(A, activation(A, _, _, _), As), atomic_list_concat(As, ', ', AL),
    format(string(Msg), "forward of conv op '~w' must read y = relu(conv2d(x, weight) + bias), y = conv2d(x, weight) + bias or y = act(conv2d(x, weight) + bias) with act a choice attr of activations (~w); got ~q.", [E, AL, F]).
ecs:kind_violation(conv, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), parts(E, X, W, Bias, _, _),
    op_inputs(E, Ins), exclude(==(''), [X, W, Bias], Used), Used \== Ins,
    format(string(Msg), "conv op '~w' must declare exactly the inputs its forward reads, in order: ~w (declared: ~w).", [E, Used, Ins]).
ecs:kind_violation(conv, E-component(E, output, O)-Msg) :-
    op_outputs(E, [_, O|_]),
    format(string(Msg), "conv op '~w' has one output; remove output ~q.", [E, O]).
ecs:kind_violation(conv, E-component(E, attr, At)-Msg) :-
    component(E, attr, At), attr_parts(At, N, T, _),
    \+ ( geometry(G), memberchk(N-_, G), T == int ), \+ parts(E, _, _, _, _, N),
    format(string(Msg), "conv op '~w' takes the int attrs stride, padding, dilation, groups and the choice of activation its forward names; remove or retype ~q.", [E, At]).

ecs:kind_schema(conv, E, Schema) :-
    parts(E, X, W, Bias, Acts, _), op_attrs(E, As),
    format(string(SX), "Tensor ~w", [X]), format(string(SW), "Tensor ~w", [W]), epilogue_bias_arg(Bias, SB),
    findall(S, (member(attr(N, T, D), As), schema_attr(N, T, D, S)), AttrS),
    append([[SX, SW], SB, AttrS], Args), atomic_list_concat(Args, ', ', ArgL),
    ( epilogue_needs_preact(Acts) -> Ret = "(Tensor, Tensor)" ; Ret = "Tensor" ),
    format(string(Schema), "~w(~w) -> ~w", [E, ArgL, Ret]).

ecs:kind_python_signature(conv, E, Sig) :-
    parts(E, X, W, Bias, _, _), op_attrs(E, As),
    ( Bias == '' -> PB = [] ; format(string(SB0), "~w: Optional[Tensor] = None", [Bias]), PB = [SB0] ),
    findall(S, (member(attr(N, T, D), As), python_param(N, T, D, S)), AttrS),
    append([[X, W], PB, AttrS], Ps), atomic_list_concat(Ps, ', ', Sig).

ecs:kind_derived(conv, E, backward_schema-S) :-
    op_differentiable(E, Ds), Ds \== [],
    parts(E, X, W, Bias, _, _), op_outputs(E, [O]), op_attrs(E, As),
    format(string(G), "Tensor grad_~w", [O]),
    format(string(SX), "Tensor ~w", [X]), format(string(SW), "Tensor ~w", [W]),
    ( Bias == '' -> SB = [], N = 2 ; format(string(B), "Tensor? ~w", [Bias]), SB = [B], N = 3 ),
    findall(A, (member(attr(Nm, T, _), As), schema_attr(Nm, T, required, A)), AttrS),
    format(string(Mask), "bool[~w] output_mask", [N]),
    append([[G, SX, SW], SB, ["Tensor saved"], AttrS, [Mask]], Args), atomic_list_concat(Args, ', ', ArgL),
    length(Ts, N), maplist(=("Tensor"), Ts), atomic_list_concat(Ts, ', ', RetL),
    format(string(S), "~w_backward(~w) -> (~w)", [E, ArgL, RetL]).

ecs:kind_derived(conv, E, epilogue-_{layout: conv2d, a: X, b: W, bias: Bias, activations: AJ, act_attr: AA,
                                  needs_preact: NP, conv: C}) :-
    parts(E, X, W, Bias, Acts, AA),
    maplist(activation_json, Acts, AJ),
    ( epilogue_needs_preact(Acts) -> NP = true ; NP = false ),
    geometry(G), op_attr_names(E, Names),
    findall(K-V, ( member(K-Default, G), ( memberchk(K, Names) -> V = K ; format(string(V), "~w", [Default]) ) ), Pairs),
    dict_pairs(C, _, Pairs).
