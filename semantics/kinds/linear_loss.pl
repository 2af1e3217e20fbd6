/*  Kind `linear_loss`: a linear layer followed by a rowwise loss over its rows,
        loss = Loss(x @ weight^T + bias, Rest...),
    computed in chunks of rows so that the [N, V] product never exists at once:

        component(fused_linear_cross_entropy, loss, cross_entropy).

    The loss is a rowwise op of the same extension giving one value per row of one element input
    (cross_entropy's logits x). The op's inputs are that input, the weight [V, H], the loss's other
    inputs, and optionally a bias [V] (last, None allowed at call time); its attrs are the loss's.
    When the inputs need gradients and the loss is reduced ('mean' or 'sum'), the forward computes the
    gradients of x, weight and bias in the same pass over the chunks (the chunk's logits hold its own
    gradient, written by the loss's <loss>_loss_grad_into kernel), and the backward only scales them.
    With reduction 'none' the backward recomputes each chunk's product.
*/

:- module(linear_loss, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(kinds/rowwise), [element_output/1, element_inputs/2, column_inputs/2, index_inputs/2]).

ecs:op_kind(linear_loss, "a linear layer and a rowwise loss over its rows, in chunks of rows: loss(x @ weight^T + bias, ...)").

ecs:kind_component(linear_loss, loss, one,
    "loss: the rowwise loss of this extension applied to the rows of x @ weight^T + bias, e.g. cross_entropy").

ecs:kind_requires(linear_loss, input).
ecs:kind_requires(linear_loss, output).
ecs:kind_requires(linear_loss, loss).

ecs:kind_device(linear_loss, cpu).
ecs:kind_device(linear_loss, cuda).

%% parts(+Op, -Loss, -X, -Weight, -Rest, -Bias): the loss op, its element input, the weight, the loss's
%% other inputs, and the bias input ('' for none).
parts(E, L, X, W, Rest, Bias) :-
    component(E, loss, L), atom(L), loss_ok(L),
    op_inputs(L, [X|Rest]), op_inputs(E, [X, W|More]),
    (   More == Rest -> Bias = ''
    ;   append(Rest, [Bias], More)
    ).

%% loss_ok(+Loss): a rowwise loss with one value per row of its one element input and one index input
%% (the class targets), no column inputs.
loss_ok(L) :-
    component(L, kind, rowwise), component(L, loss_reduction, _),
    \+ element_output(L), element_inputs(L, [_]), column_inputs(L, []), index_inputs(L, [_]).

loss_help("a rowwise op with a loss_reduction attr, one value per row, one element input and one index input, e.g. cross_entropy").

ecs:kind_violation(linear_loss, E-component(E, loss, L)-Msg) :-
    component(E, loss, L), \+ ( atom(L), component(L, kind, rowwise) ),
    findall(R, ( component(R, kind, rowwise), component(R, loss_reduction, _) ), Rs),
    loss_help(H),
    format(string(Msg), "loss of '~w' must name ~w; got ~q (rowwise losses here: ~w).", [E, H, L, Rs]).
ecs:kind_violation(linear_loss, E-component(E, loss, L)-Msg) :-
    component(E, loss, L), atom(L), component(L, kind, rowwise), \+ loss_ok(L),
    loss_help(H),
    format(string(Msg), "loss '~w' of '~w' is not ~w.", [L, E, H]).
ecs:kind_violation(linear_loss, E-component(E, loss, L)-Msg) :-
    component(E, loss, L), atom(L), loss_ok(L), \+ parts(E, L, _, _, _, _),
    op_inputs(L, [X|Rest]), op_inputs(E, Ins),
    append([[X, weight], Rest], Plain), append(Plain, [bias], Biased),
    format(string(Msg), "inputs of '~w' must be ~w's element input, the weight, ~w's other inputs and optionally a bias, in that order, e.g. ~w or ~w; declared: ~w.",
           [E, L, L, Plain, Biased, Ins]).
ecs:kind_violation(linear_loss, E-component(E, loss, L)-Msg) :-
    component(E, loss, L), atom(L), loss_ok(L),
    op_attrs(E, As), op_attrs(L, LAs), As \== LAs,
    findall(S, ( member(attr(N, T, D), LAs), attr_text(N, T, D, S) ), Want),
    format(string(Msg), "attrs of '~w' must be those of its loss '~w', in order: ~w.", [E, L, Want]).
ecs:kind_violation(linear_loss, E-component(E, devices, Ds)-Msg) :-
    component(E, devices, Ds), component(E, loss, L), atom(L), component(L, devices, LDs),
    member(D, Ds), \+ memberchk(D, LDs),
    format(string(Msg), "'~w' runs on ~w, but its loss '~w' has no ~w kernel (devices ~w): add ~w to the loss's devices or remove it here.",
           [E, D, L, D, LDs, D]).
ecs:kind_violation(linear_loss, E-component(E, attr, A)-Msg) :-
    component(E, attr, A), attr_parts(A, chunk_rows, _, _),
    format(string(Msg), "'chunk_rows' is the linear_loss kind's own argument (rows per chunk): '~w' cannot take an attr of that name.", [E]).
ecs:kind_violation(linear_loss, E-component(E, output, O)-Msg) :-
    op_outputs(E, [_, O|_]),
    format(string(Msg), "linear_loss op '~w' has one output, the loss; remove output ~q.", [E, O]).
ecs:kind_violation(linear_loss, E-component(E, K, V)-Msg) :-
    member(K, [forward, gradient, stat, index_input, column_input, loss_reduction, loss_count]),
    component(E, K, V),
    format(string(Msg), "linear_loss op '~w' takes no ~w: its loss '~w' defines the rows' computation.",
           [E, K, V]).
ecs:kind_violation(linear_loss, E-component(E, differentiable, Ds)-Msg) :-
    component(E, differentiable, Ds),
    format(string(Msg), "linear_loss op '~w' takes no differentiable list: gradients flow to x, the weight and the bias; got ~q.", [E, Ds]).

attr_text(N, T, default(D), S) :- !, format(string(S), "~w: ~q = ~q", [N, T, D]).
attr_text(N, T, required, S) :- format(string(S), "~w: ~q", [N, T]).

%% The schema: the product's operands, the loss's other inputs, the optional bias, the attrs, and the
%% kind's own chunk_rows (None: the chunk's logits about as large as x; more rows are faster and hold more).
schema_args(E, ArgL, Required) :-
    parts(E, _, X, W, Rest, Bias), op_attrs(E, As),
    findall(S, ( member(I, [X, W|Rest]), format(string(S), "Tensor ~w", [I]) ), TS),
    (   Bias == '' -> BS = []
    ;   Required == true -> format(string(B), "Tensor? ~w", [Bias]), BS = [B]
    ;   format(string(B), "Tensor? ~w=None", [Bias]), BS = [B]
    ),
    (   Required == true
    ->  findall(S, ( member(attr(N, T, _), As), schema_attr(N, T, required, S) ), AS),
        CS = ["SymInt? chunk_rows"]
    ;   findall(S, ( member(attr(N, T, D), As), schema_attr(N, T, D, S) ), AS),
        CS = ["SymInt? chunk_rows=None"]
    ),
    append([TS, BS, AS, CS], Args), atomic_list_concat(Args, ', ', ArgL).

ecs:kind_schema(linear_loss, E, Schema) :-
    schema_args(E, ArgL, false), format(string(Schema), "~w(~w) -> Tensor", [E, ArgL]).

ecs:kind_python_signature(linear_loss, E, Sig) :-
    parts(E, _, X, W, Rest, Bias), op_attrs(E, As),
    ( Bias == '' -> PB = [] ; format(string(SB), "~w: Optional[Tensor] = None", [Bias]), PB = [SB] ),
    findall(S, ( member(attr(N, T, D), As), python_param(N, T, D, S) ), AttrS),
    append([[X, W|Rest], PB, AttrS, ["chunk_rows: Optional[int] = None"]], Ps), atomic_list_concat(Ps, ', ', Sig).

%% <op>_backward: the upstream gradient (one per row for 'none'), the inputs, the attrs and which of the
%% gradients of x, weight and bias are wanted; the chunks' products are recomputed.
ecs:kind_derived(linear_loss, E, backward_schema-S) :-
    parts(E, _, _, _, _, Bias), schema_args(E, ArgL, true), op_outputs(E, [O]),
    ( Bias == '' -> N = 2 ; N = 3 ),
    length(Ts, N), maplist(=("Tensor"), Ts), atomic_list_concat(Ts, ', ', RetL),
    format(string(S), "~w_backward(Tensor grad_~w, ~w, bool[~w] output_mask) -> (~w)", [E, O, ArgL, N, RetL]).
%% <op>_forward_grad: the loss and the gradients of x, weight and bias wanted (output_mask) for an upstream
%% gradient of 1, computed in the forward's pass over the chunks.
ecs:kind_derived(linear_loss, E, forward_grad_schema-S) :-
    parts(E, _, _, _, _, Bias), schema_args(E, ArgL, true),
    ( Bias == '' -> N = 2, RetL = "Tensor, Tensor, Tensor" ; N = 3, RetL = "Tensor, Tensor, Tensor, Tensor" ),
    format(string(S), "~w_forward_grad(~w, bool[~w] output_mask) -> (~w)", [E, ArgL, N, RetL]).
ecs:kind_derived(linear_loss, E, linear_loss-_{loss: L, x: X, weight: W, rest: Rest, bias: Bias}) :-
    parts(E, L, X, W, Rest, Bias).

%% Gradients flow to x, the weight and the bias; the loss's other inputs are its index inputs.
ecs:kind_differentiable(linear_loss, E, Ds) :-
    parts(E, _, X, W, _, Bias), ( Bias == '' -> Ds = [X, W] ; Ds = [X, W, Bias] ).
