/*  Kind `elementwise`: an n-ary pointwise expression with scalar attrs.
    Torch broadcasting and type promotion; the backward is derived by differentiating the
    forward expression (semantics/core/expr.pl) unless a gradient component overrides it.
*/

:- module(elementwise, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/expr)).

ecs:op_kind(elementwise, "n-ary pointwise expression with scalar attrs, broadcasting, derived backward").

ecs:kind_requires(elementwise, input).
ecs:kind_requires(elementwise, output).
ecs:kind_requires(elementwise, forward).

ecs:kind_component(elementwise, variant, many,
    "variant: out, an out= form writing the result into a caller's tensor of the result's shape and dtype (extension-cpp's myadd_out): op(..., out=t), and the op <op>_out(..., *, Tensor(a!) out) -> (); or inplace, op_(x, ...) writing the result into the first input (of the result's shape and dtype), through the same op").

variant(out).
variant(inplace).

ecs:kind_violation(elementwise, E-component(E, variant, V)-Msg) :-
    component(E, variant, V), \+ variant(V),
    format(string(Msg), "variant ~q of '~w' is not one grimoire knows: write component(~q, variant, out) for an out= form, or inplace for op_(x, ...).", [V, E, E]).
ecs:kind_violation(elementwise, E-component(E, variant, V)-Msg) :-
    component(E, variant, V), variant(V), atom(E), atom_concat(E, '_out', O), entity(O),
    format(string(Msg), "the out= form of '~w' is the op '~w', which is taken by another op: rename one of them.", [E, O]).
ecs:kind_violation(elementwise, E-component(E, variant, inplace)-Msg) :-
    component(E, variant, inplace), atom(E), atom_concat(E, '_', O), entity(O),
    format(string(Msg), "the in-place form of '~w' is '~w', which is taken by another op: rename one of them.", [E, O]).

ecs:kind_violation(elementwise, E-component(E, output, O)-Msg) :-
    op_outputs(E, [_, O|_]),
    format(string(Msg), "elementwise op '~w' has one output; remove output ~q.", [E, O]).
ecs:kind_violation(elementwise, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), \+ F = (_ = _),
    format(string(Msg), "forward of '~w' must read Output = Expression, e.g. y = x * sigmoid(x); got ~q.", [E, F]).
ecs:kind_violation(elementwise, E-component(E, forward, (O = X))-Msg) :-
    component(E, forward, (O = X)), op_outputs(E, Outs), \+ memberchk(O, Outs),
    format(string(Msg), "forward of '~w' assigns ~q, which is not an output (outputs: ~w).", [E, O, Outs]).
ecs:kind_violation(elementwise, E-component(E, forward, (O = X))-Msg) :-
    component(E, forward, (O = X)), vars(E, Vars),
    expr_problem(X, Vars, P),
    format(string(Msg), "forward of '~w': ~w.", [E, P]).
ecs:kind_violation(elementwise, E-component(E, gradient, G)-Msg) :-
    component(E, gradient, G),
    (   G = (I = X)
    ->  op_inputs(E, Ins), op_outputs(E, [Out|_]), atom_concat(grad_, Out, GO),
        vars(E, Vars),
        (   \+ memberchk(I, Ins) -> format(string(Msg), "gradient of '~w' names ~q, which is not an input (inputs: ~w).", [E, I, Ins])
        ;   expr_problem(X, [GO|Vars], P) -> format(string(Msg), "gradient of '~w' for ~w: ~w.", [E, I, P])
        )
    ;   format(string(Msg), "gradient of '~w' must read Input = Expression (grad_<output> is the incoming gradient); got ~q.", [E, G])
    ).

vars(E, Vars) :- op_inputs(E, Ins), op_attr_names(E, As), append(Ins, As, Vars).

forward_expr(E, X) :- component(E, forward, (_ = X0)), normalize(X0, X).

% Expressions reach the model as terms (expr_data/2, body_data/2); grimoire/emit/ writes their C++ and Python.
ecs:kind_derived(elementwise, E, forward-B) :-
    forward_expr(E, X), simplify(X, S), body_data(S, B).
ecs:kind_derived(elementwise, E, reference-D) :-
    component(E, forward, (_ = X)), normalize(X, N), expr_data(N, D).
ecs:kind_derived(elementwise, E, gradients-Gs) :-
    op_outputs(E, [Out|_]), atom_concat(grad_, Out, GO),
    op_differentiable(E, Ds),
    % One gradient per differentiable input, or none at all: a gradient that does not derive or render
    % fails the op's model (a spec error), never a backward that leaves that input's gradient out.
    maplist(gradient_json(E, GO), Ds, Gs).

gradient_json(E, GO, I, _{input: I, body: B, expr: Printed, derived: Derived}) :-
    once(input_gradient(E, I, GO, G, Derived)),
    body_data(G, B), format(string(Printed), "~w", [G]).

%% input_gradient(+Op, +Input, +GradOut, -Expr, -Derived): the spec's override or the derivative.
input_gradient(E, I, _, G, false) :- component(E, gradient, (I = X)), !, normalize(X, N), simplify(N, G).
input_gradient(E, I, GO, G, true) :- forward_expr(E, X), gradient(X, I, GO, G).

%% The backward op: grad_<output> and every input, the attrs; one gradient per differentiable input.
%% The out= form's schema: the op's arguments, then the written tensor, keyword-only; no result (a mutated
%  argument returned again is not functionalizable under torch.compile; the Python wrapper returns it).
ecs:kind_derived(elementwise, E, out_schema-S) :-
    (   component(E, variant, V), variant(V)
    ->  op_schema_args(E, Args),
        format(string(S), "~w_out(~w, *, Tensor(a!) out) -> ()", [E, Args])
    ;   S = ""
    ).
ecs:kind_derived(elementwise, E, variants-Vs) :-
    findall(V, ( component(E, variant, V), variant(V) ), Vs0), sort(Vs0, Vs).
ecs:kind_derived(elementwise, E, backward_schema-S) :-
    op_outputs(E, [Out|_]), op_inputs(E, Ins), op_attrs(E, As), op_differentiable(E, Ds), Ds \== [],
    findall(A, (member(I, [grad_(Out)|Ins]), tensor_arg(I, A)), InS),
    findall(A, (member(attr(N, T, D), As), schema_attr(N, T, D, A)), AttrS),
    append(InS, AttrS, Args), atomic_list_concat(Args, ', ', ArgL),
    schema_returns(Ds, Ret),
    format(string(S), "~w_backward(~w) -> ~w", [E, ArgL, Ret]).


%% Backends: TensorIterator loops on both (cpu_kernel_vec; gpu_kernel, computing half types in float).
ecs:kind_device(elementwise, cpu).
ecs:kind_device(elementwise, cuda).
