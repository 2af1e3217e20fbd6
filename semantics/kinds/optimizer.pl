/*  Kind `optimizer`: one in-place step of an optimizer over lists of tensors (SGD, Adam, ...).

    A spec names the parameter, its gradient and its state tensors, then writes the update as
    ordered per-element rules in the expression grammar (semantics/core/expr.pl):
        let:    Name = Expression      a per-element local
        update: Target = Expression    Target the param or a state, stored after the rules
    Per-tensor values that do not vary per element are `scalar`s: Name = Expression over the
    numeric attrs, `step` (the step count after this step's increment, 1 at the first step) and
    earlier scalars, computed once per tensor in double: on the host by the CPU kernel, on the device
    by the CUDA kernel (which reads the step there: no synchronisation, CUDA-graph safe). Constant
    subterms of the rules (1 - beta1, -lr, ...) are lifted out of the element loop the same way, so
    they round as torch's do.

    Variants: if(Condition, Then, Else) in a rule picks per call, from the attrs; a Condition is a
    bool attr, a comparison (> < >= =< =:= =\=) of numeric attrs and numbers, or \+ , ; -> of those.
    The kernel is specialised for every combination of the conditions (identical programs shared):
    a variant in which an update leaves a state unchanged does not read or write that state, and
    its list may be empty (amsgrad off, momentum 0).

    Each op becomes op(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] <state>s...,
    Tensor(z!)[] state_steps, attrs...) -> (): the steps are one-element float tensors per param,
    as torch.optim keeps them, incremented by the op. `optimizer_class` facts give the
    torch.optim.Optimizer subclasses written around it; `requires` facts the attrs they accept.
*/

:- module(optimizer, []).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/expr)).
:- use_module(semantics(core/checks)).

ecs:op_kind(optimizer, "in-place multi-tensor optimizer step: per-element rules over param, grad and states, host scalars per step").

ecs:kind_component(optimizer, param,           one, "param: the name of the parameter tensor the step updates in place, e.g. param").
ecs:kind_component(optimizer, grad,            one, "grad: the name of the parameter's gradient (read only), e.g. grad").
ecs:kind_component(optimizer, state,           many, "state: a per-parameter state tensor, zeros at first, same shape and dtype as the param, e.g. exp_avg").
ecs:kind_component(optimizer, scalar,          many, "scalar: Name = Expression over numeric attrs, step and earlier scalars, once per tensor on the host, e.g. bias_correction1 = 1 - pow(beta1, step)").
ecs:kind_component(optimizer, let,             many, "let: Name = Expression, a per-element local for the rules after it").
ecs:kind_component(optimizer, update,          many, "update: Target = Expression, Target the param or a state; rules run in the order written").
ecs:kind_component(optimizer, requires,        many, "requires: a condition the attrs must meet, e.g. lr >= 0 or (nesterov -> momentum > 0)").
ecs:kind_component(optimizer, optimizer_class, many, "optimizer_class: 'Name' or 'Name'(Settings) with Settings like betas = (beta1, beta2) (a tuple argument), weight_decay = 0.01 (another default) or decoupled_weight_decay := true (fixed)").
ecs:kind_component(optimizer, bench_attrs,     one, "bench_attrs: [Attr = Value, ...], the attrs the benchmark runs with").

ecs:kind_device(optimizer, cpu).
ecs:kind_device(optimizer, cuda).
ecs:kind_device_dtypes(optimizer, cpu, [float32, float64]).
ecs:kind_device_dtypes(optimizer, cuda, [float32, float64, float16, bfloat16]).

ecs:kind_requires(optimizer, param).
ecs:kind_requires(optimizer, grad).
ecs:kind_requires(optimizer, update).
% Two core checks do not apply (kind_waives/2 in ecs.pl): it has no nn.Module (its classes are
% optimizer_class facts), and it is exempt from the order of defaulted attrs.
ecs:kind_waives(optimizer, attrs_defaults_last).
ecs:kind_waives(optimizer, module_name).

% The names the generated code gives the step count and its list.
step_name(step).
step_name(state_step).
step_name(state_steps).
max_conditions(6).

% `grad` is reserved for the other kinds' generated code; this kind's code never uses it itself.
valid_name(N) :- valid_identifier(N), !.
valid_name(grad).

% ---------------------------------------------------------------------------------------------
% Queries
% ---------------------------------------------------------------------------------------------

param(E, P) :- component(E, param, P), !.
grad(E, G) :- component(E, grad, G), !.
states(E, Ss) :- findall(S, component(E, state, S), Ss).
tensors(E, [P, G|Ss]) :- param(E, P), grad(E, G), states(E, Ss).
bool_attrs(E, Bs) :- findall(N, (component(E, attr, A), attr_parts(A, N, bool, _)), Bs).
num_attrs(E, Ns) :- findall(N, (component(E, attr, A), attr_parts(A, N, T, _), memberchk(T, [float, int])), Ns).
scalars(E, Ss) :- findall(N-X, component(E, scalar, (N = X)), Ss).
scalar_names(E, Ns) :- findall(N, component(E, scalar, (N = _)), Ns).
%% rules(+E, -Rules): the let and update facts in the order written, as rule(Kind, Name, Expr).
rules(E, Rs) :- findall(rule(K, N, X), (component(E, K, R), memberchk(K, [let, update]), R = (N = X)), Rs).
uniform_names(E, Us) :- num_attrs(E, As), scalar_names(E, Ss), append(As, Ss, Us).

%% conditions(+E, -Conds): the distinct conditions of the rules' if/3, in order of appearance.
conditions(E, Cs) :-
    rules(E, Rs),
    findall(C, (member(rule(_, _, X), Rs), sub_term(T, X), compound(T), T = if(C, _, _)), Cs0),
    list_to_set(Cs0, Cs).

% ---------------------------------------------------------------------------------------------
% Checks
% ---------------------------------------------------------------------------------------------

ecs:kind_violation(optimizer, E-component(E, K, V)-Msg) :-
    member(K, [input, output, forward, gradient, differentiable]), component(E, K, V),
    format(string(Msg), "optimizer op '~w' takes no '~w' component: write param, grad, state, scalar, let and update facts.", [E, K]).

ecs:kind_violation(optimizer, E-component(E, K, N)-Msg) :-
    member(K, [param, grad, state]), component(E, K, N), \+ valid_name(N),
    format(string(Msg), "~w name ~q of '~w' is not usable: write a lower_snake_case identifier that is not a keyword nor reserved.", [K, N, E]).

ecs:kind_violation(optimizer, E-component(E, attr, A)-Msg) :-
    component(E, attr, A), attr_parts(A, N, T, _), \+ memberchk(T, [float, int, bool]),
    format(string(Msg), "attr '~w' of optimizer op '~w' has type ~q; optimizer attrs are float, int or bool.", [N, E, T]).

ecs:kind_violation(optimizer, E-component(E, K, D)-Msg) :-
    member(K, [scalar, let, update]), component(E, K, D), \+ ( D = (N = _), atom(N) ),
    format(string(Msg), "~w of '~w' must read Name = Expression, got ~q.", [K, E, D]).

ecs:kind_violation(optimizer, E-component(E, K, (N = X))-Msg) :-
    member(K, [scalar, let]), component(E, K, (N = X)), atom(N), \+ valid_name(N),
    format(string(Msg), "~w name ~q of '~w' is not usable: write a lower_snake_case identifier that is not a keyword nor reserved.", [K, N, E]).

% Every name is defined once: tensors, attrs, scalars and lets share one namespace, the lists
% take the plural (exp_avg -> exp_avgs), and step / state_step belong to the generated code.
ecs:kind_violation(optimizer, E-Where-Msg) :-
    defined_name(E, N, Where),
    (   step_name(N)
    ->  format(string(Msg), "name '~w' in '~w' is reserved for the step count: choose another.", [N, E])
    ;   findall(W, defined_name(E, N, W), [_, Again|_]), Where == Again   % blame the repeat only
    ->  format(string(Msg), "name '~w' is defined twice in '~w' (as a tensor, attr, scalar or let): rename one.", [N, E])
    ;   tensors(E, Ts), member(T, Ts), atom_concat(T, s, N)
    ->  format(string(Msg), "name '~w' in '~w' clashes with the list of '~w' tensors: rename it.", [N, E, T])
    ).

defined_name(E, N, component(E, K, N)) :- member(K, [param, grad, state]), component(E, K, N), atom(N).
defined_name(E, N, component(E, attr, A)) :- component(E, attr, A), attr_parts(A, N, _, _).
defined_name(E, N, component(E, K, (N = X))) :- member(K, [scalar, let]), component(E, K, (N = X)), atom(N).

ecs:kind_violation(optimizer, E-component(E, update, (N = X))-Msg) :-
    component(E, update, (N = X)), atom(N), param(E, P), states(E, Ss), \+ memberchk(N, [P|Ss]),
    format(string(Msg), "update of '~w' assigns ~q, which is neither the param (~w) nor a state (~w); write let(~w = ...) for a local.", [E, N, P, Ss, N]).

ecs:kind_violation(optimizer, E-entity(E)-Msg) :-
    param(E, P), \+ component(E, update, (P = _)),
    format(string(Msg), "optimizer op '~w' never updates its param '~w': add component(~q, update, ~w = ...).", [E, P, E, P]).

ecs:kind_violation(optimizer, E-component(E, state, S)-Msg) :-
    component(E, state, S), \+ component(E, update, (S = _)),
    format(string(Msg), "state '~w' of '~w' is never updated: add an update rule for it or remove it.", [S, E]).

ecs:kind_violation(optimizer, E-component(E, grad, G)-Msg) :-
    component(E, grad, G), component(E, update, (G = _)),
    format(string(Msg), "the grad '~w' of '~w' is read only: assign a let instead.", [G, E]).

% Scalars: host expressions over numeric attrs, step and the scalars written before.
ecs:kind_violation(optimizer, E-component(E, scalar, (N = X))-Msg) :-
    component(E, scalar, (N = X)), atom(N),
    num_attrs(E, As), bool_attrs(E, Bs), scalars_before(E, N, Before),
    append([[step], As, Before], Known),
    host_problem(X, Known, Bs, P),
    format(string(Msg), "scalar ~w of '~w': ~w.", [N, E, P]).

scalars_before(E, N, Before) :-
    scalar_names(E, All), append(Before, [N|_], All), !.

% Rules: element expressions over the tensors, numeric attrs, scalars and the lets before them;
% the conditions of if/3 over the attrs only (they choose the kernel for the whole call).
ecs:kind_violation(optimizer, E-component(E, K, (N = X))-Msg) :-
    member(K, [let, update]), component(E, K, (N = X)), atom(N),
    rule_known(E, K, N, X, Known),
    num_attrs(E, As), bool_attrs(E, Bs),
    rule_problem(X, Known, As, Bs, P),
    format(string(Msg), "~w ~w of '~w': ~w.", [K, N, E, P]).

rule_known(E, K, N, X, Known) :-
    tensors(E, Ts), uniform_names(E, Us),
    rules(E, Rs), nth0(I, Rs, R), R == rule(K, N, X), !,
    length(Prefix, I), append(Prefix, _, Rs),
    findall(L, member(rule(let, L, _), Prefix), Lets),
    append([Ts, Us, Lets], Known).

rule_problem(X, _, _, _, P) :- var(X), !, P = "an unbound Prolog variable (names must start lower-case: write x, not X)".
rule_problem(X, _, Nums, Bools, P) :-
    sub_term(T, X), compound(T), T = if(C, _, _), cond_problem(C, Nums, Bools, P0), !,
    format(string(P), "condition ~q: ~w", [C, P0]).
rule_problem(X, Known, _, _, P) :-
    findall(C, (sub_term(T, X), compound(T), T = if(C, _, _)), Cs0), list_to_set(Cs0, Cs),
    length(Cs, K), bit_lists(K, BitLists), member(Bits, BitLists),
    specialize(X, Cs, Bits, S), expr_problem(S, Known, P), !.

ecs:kind_violation(optimizer, E-entity(E)-Msg) :-
    conditions(E, Cs), length(Cs, K), max_conditions(Max), K > Max,
    format(string(Msg), "optimizer op '~w' has ~w distinct if/3 conditions; at most ~w (each doubles the kernels).", [E, K, Max]).

ecs:kind_violation(optimizer, E-component(E, requires, C)-Msg) :-
    component(E, requires, C), num_attrs(E, As), bool_attrs(E, Bs),
    cond_problem(C, As, Bs, P),
    format(string(Msg), "requires of '~w': ~w.", [E, P]).

ecs:kind_violation(optimizer, E-component(E, optimizer_class, T)-Msg) :-
    component(E, optimizer_class, T), class_problem(E, T, P),
    format(string(Msg), "optimizer_class of '~w': ~w.", [E, P]).

ecs:kind_violation(optimizer, E-component(E, bench_attrs, L)-Msg) :-
    component(E, bench_attrs, L),
    (   \+ is_list(L) -> P = "write a list [Attr = Value, ...]"
    ;   member(S, L), setting_problem(E, S, [default], P) -> true
    ),
    format(string(Msg), "bench_attrs of '~w': ~w.", [E, P]).

%% cond_problem(+Cond, +NumericNames, +BoolNames, -Problem)
cond_problem(C, _, _, P) :- var(C), !, P = "an unbound Prolog variable (names start lower-case)".
cond_problem(C, _, Bools, P) :- atom(C), !, \+ memberchk(C, Bools),
    atomic_list_concat(Bools, ', ', BL),
    format(string(P), "'~w' is not a bool attr (bool attrs: ~w)", [C, BL]).
cond_problem(\+ A, Ns, Bs, P) :- !, cond_problem(A, Ns, Bs, P).
cond_problem((A, B), Ns, Bs, P) :- !, ( cond_problem(A, Ns, Bs, P) -> true ; cond_problem(B, Ns, Bs, P) ).
cond_problem((A ; B), Ns, Bs, P) :- !, ( cond_problem(A, Ns, Bs, P) -> true ; cond_problem(B, Ns, Bs, P) ).
cond_problem((A -> B), Ns, Bs, P) :- !, ( cond_problem(A, Ns, Bs, P) -> true ; cond_problem(B, Ns, Bs, P) ).
cond_problem(C, Ns, Bs, P) :- C =.. [Op, L, R], cond_cmp(Op, _), !,
    ( host_problem(L, Ns, Bs, P) -> true ; host_problem(R, Ns, Bs, P) ).
cond_problem(C, _, _, P) :-
    format(string(P), "~q is not a condition: write a bool attr, a comparison (> < >= =< =:= =\\=) of numbers and numeric attrs, or \\+, (A, B), (A ; B), (A -> B) of conditions", [C]).

%% cond_cmp(PrologOp, Text): the comparisons a condition may make, as error messages write them.
cond_cmp(>, '>').  cond_cmp(<, '<').  cond_cmp(>=, '>=').
cond_cmp(=<, '<='). cond_cmp(=:=, '=='). cond_cmp(=\=, '!=').

%% host_problem(+Expr, +Known, +Bools, -Problem): host (double) expressions of scalars and conditions.
host_problem(E, _, _, P) :- var(E), !, P = "an unbound Prolog variable (names start lower-case: write x, not X)".
host_problem(E, _, _, _) :- number(E), !, fail.
host_problem(E, Known, _, P) :- atom(E), !, \+ memberchk(E, Known), E \== pi,
    atomic_list_concat(Known, ', ', KL),
    format(string(P), "unknown name '~w' (known here: ~w, pi)", [E, KL]).
host_problem(if(C, A, B), Ns, Bs, P) :- !,
    (   cond_problem(C, Ns, Bs, P0) -> format(string(P), "condition ~q: ~w", [C, P0])
    ;   host_problem(A, Ns, Bs, P) -> true
    ;   host_problem(B, Ns, Bs, P)
    ).
host_problem(E, Ns, Bs, P) :- E =.. [Op, A, B], host_binop(Op), !,
    ( host_problem(A, Ns, Bs, P) -> true ; host_problem(B, Ns, Bs, P) ).
host_problem(-A, Ns, Bs, P) :- !, host_problem(A, Ns, Bs, P).
host_problem(E, Ns, Bs, P) :- E =.. [F, A], host_fn(F), !, host_problem(A, Ns, Bs, P).
host_problem(E, _, _, P) :-
    functor(E, F, N), findall(U, host_fn(U), Us), atomic_list_concat(Us, ', ', UL),
    format(string(P), "~w/~w is not a host expression (+ - * / pow ** if ~w)", [F, N, UL]).

host_binop(+). host_binop(-). host_binop(*). host_binop(/). host_binop(pow). host_binop(**). host_binop(^).

%% host_fn(Name): functions a host expression may call (grimoire/emit/python.py's MATH spells them in Python).
host_fn(sqrt). host_fn(exp). host_fn(log). host_fn(log1p). host_fn(abs). host_fn(sin). host_fn(cos). host_fn(tanh).
host_fn(erf).

%% class_problem(+Op, +ClassTerm, -Problem)
class_problem(_, T, P) :- var(T), !, P = "an unbound Prolog variable; write 'Name' or 'Name'(Settings)".
class_problem(_, T, P) :- \+ atom(T), \+ compound(T), !, format(string(P), "~q is not 'Name' or 'Name'(Settings)", [T]).
class_problem(_, T, P) :- functor(T, Name, _), \+ valid_class_name(Name), !,
    format(string(P), "class name ~q must be CamelCase, e.g. 'Adam' (quoted)", [Name]).
class_problem(E, T, P) :- compound(T), T =.. [_|Settings], member(S, Settings), setting_problem(E, S, [default, fixed, tuple], P), !.
class_problem(_, T, P) :- compound(T), T =.. [_|Settings],
    findall(A, (member(_ = Tuple, Settings), Tuple = (_, _), comma_list(Tuple, As), member(A, As)), Grouped),
    msort(Grouped, Sorted), append(_, [A, A|_], Sorted), !,
    format(string(P), "attr '~w' is in two tuple arguments", [A]).
class_problem(E, T, P) :- component(E, optimizer_class, T2), T2 \== T, functor(T, N, _), functor(T2, N, _), !,
    format(string(P), "class '~w' is declared twice", [N]).

%% setting_problem(+Op, +Setting, +AllowedForms, -Problem)
setting_problem(_, S, _, P) :- var(S), !, P = "an unbound Prolog variable in the settings".
setting_problem(E, G = Tuple, Allowed, P) :- Tuple = (_, _), !,
    (   \+ memberchk(tuple, Allowed) -> format(string(P), "~q: a tuple argument belongs in an optimizer_class", [G = Tuple])
    ;   \+ valid_identifier(G) -> format(string(P), "tuple argument name ~q is not a lower_snake_case identifier", [G])
    ;   op_attr_names(E, Ns), memberchk(G, Ns) -> format(string(P), "tuple argument '~w' has the name of an attr", [G])
    ;   comma_list(Tuple, As), member(A, As), \+ ( atom(A), num_attrs(E, Nums), memberchk(A, Nums) )
    ->  format(string(P), "tuple argument '~w' groups ~q, which is not a numeric attr", [G, A])
    ).
setting_problem(E, N = V, _, P) :- !, attr_value_problem(E, N, V, P).
setting_problem(E, N := V, Allowed, P) :- !,
    (   \+ memberchk(fixed, Allowed) -> format(string(P), "~q: fixed values belong in an optimizer_class", [N := V])
    ;   attr_value_problem(E, N, V, P)
    ).
setting_problem(_, S, _, P) :-
    format(string(P), "setting ~q: write Attr = Default, Attr := FixedValue or Name = (Attr1, Attr2, ...)", [S]).

attr_value_problem(E, N, V, P) :-
    (   \+ ( component(E, attr, A), attr_parts(A, N, _, _) )
    ->  op_attr_names(E, Ns), atomic_list_concat(Ns, ', ', NL),
        format(string(P), "'~w' is not an attr (attrs: ~w)", [N, NL])
    ;   component(E, attr, A), attr_parts(A, N, T, _), \+ default_fits(T, V)
    ->  format(string(P), "value ~q of '~w' is not a ~w", [V, N, T])
    ).

% ---------------------------------------------------------------------------------------------
% Specialisation: one program per combination of the conditions
% ---------------------------------------------------------------------------------------------

%% bit_lists(+K, -Lists): every true/false list of length K, the first condition the lowest bit.
bit_lists(K, Lists) :-
    Max is (1 << K) - 1,
    findall(Bits, (between(0, Max, V), variant_bits(V, K, Bits)), Lists).
variant_bits(V, K, Bits) :-
    numlist_(0, K, Is),
    findall(B, (member(I, Is), ( V /\ (1 << I) =\= 0 -> B = true ; B = false )), Bits).
numlist_(Lo, Hi, Is) :- Hi1 is Hi - 1, ( Hi1 < Lo -> Is = [] ; numlist(Lo, Hi1, Is) ).

%% specialize(+Expr, +Conds, +Bits, -Expr1): if/3 resolved by the condition values.
specialize(E, _, _, E) :- \+ compound(E), !.
specialize(if(C, A, B), Cs, Bits, S) :- !,
    cond_value(C, Cs, Bits, V),
    ( V == true -> specialize(A, Cs, Bits, S) ; specialize(B, Cs, Bits, S) ).
specialize(E, Cs, Bits, S) :-
    E =.. [F|As], specialize_all(As, Cs, Bits, Bs), S =.. [F|Bs].
specialize_all([], _, _, []).
specialize_all([A|As], Cs, Bits, [B|Bs]) :- specialize(A, Cs, Bits, B), specialize_all(As, Cs, Bits, Bs).

cond_value(C, Cs, Bits, V) :- nth0(I, Cs, C0), C0 == C, !, nth0(I, Bits, V).

%% program(+E, +Bits, -Steps): the rules of one variant, simplified, with updates that leave
%  their target unchanged and lets nobody reads dropped.
program(E, Bits, Steps) :-
    conditions(E, Cs), rules(E, Rs),
    findall(rule(K, N, X3),
            ( member(rule(K, N, X), Rs), specialize(X, Cs, Bits, X1), normalize(X1, X2), simplify(X2, X3),
              \+ ( K == update, X3 == N ) ),
            Steps0),
    reverse(Steps0, Rev), live_steps(Rev, [], [], Steps).

live_steps([], _, Acc, Acc).
live_steps([rule(let, N, _)|T], Used, Acc, Out) :- \+ memberchk(N, Used), !, live_steps(T, Used, Acc, Out).
live_steps([rule(K, N, X)|T], Used, Acc, Out) :-
    names_in(X, Ns), append(Ns, Used, Used1), live_steps(T, Used1, [rule(K, N, X)|Acc], Out).

names_in(X, Ns) :- findall(A, (sub_term(A, X), atom(A)), Ns0), list_to_set(Ns0, Ns).

%% Uniform subterms (no tensor in them) are lifted to the host: maximal compound subterms whose
%  names are all numeric attrs or scalars.
uniform(E, _) :- number(E), !.
uniform(E, Us) :- atom(E), !, ( memberchk(E, Us) ; constant_name(E, _) ), !.
uniform(E, Us) :- compound(E), E =.. [_|As], forall(member(A, As), uniform(A, Us)).

lifted_terms(E, Us, [E]) :- compound(E), uniform(E, Us), !.
lifted_terms(E, Us, Ts) :- compound(E), !, E =.. [_|As], lifted_args(As, Us, Tss), append(Tss, Ts).
lifted_terms(_, _, []).
% (No yall lambdas in this file: their helper predicates do not survive unloading and reloading.)
lifted_args([], _, []).
lifted_args([A|As], Us, [T|Ts]) :- lifted_terms(A, Us, T), lifted_args(As, Us, Ts).

lift(E, Table, R) :- compound(E), nth0(I, Table, T), T == E, !, format(atom(R), "tmp_u~w", [I]).
lift(E, _, E) :- \+ compound(E), !.
lift(E, Table, R) :- E =.. [F|As], lift_args(As, Table, Bs), R =.. [F|Bs].
lift_args([], _, []).
lift_args([A|As], Table, [B|Bs]) :- lift(A, Table, B), lift_args(As, Table, Bs).

%% variants(+E, -Conds, -Programs, -VariantProgram, -Lifted)
%  Programs: the distinct programs (lists of rules over lifted names); VariantProgram: for each
%  combination of the conditions (bit i = condition i), the index of its program.
variants(E, Cs, Programs, VariantProgram, Lifted) :-
    conditions(E, Cs), length(Cs, K), bit_lists(K, BitLists),
    findall(P, (member(Bits, BitLists), feasible(Cs, Bits), program(E, Bits, P)), Raw),
    uniform_names(E, Us),
    findall(T, (member(P, Raw), member(rule(_, _, X), P), lifted_terms(X, Us, Ts), member(T, Ts)), Ts0),
    list_to_set(Ts0, Lifted),
    findall(L, (member(P, Raw), lift_program(P, Lifted, L)), LiftedRaw),
    list_to_set(LiftedRaw, Programs),
    findall(I, ( member(Bits, BitLists),
                 (   feasible(Cs, Bits)
                 ->  program(E, Bits, P), lift_program(P, Lifted, L), nth0(I, Programs, L0), L0 == L
                 ;   I = -1   % no attrs give this combination
                 ) ),
            VariantProgram).

%% feasible(+Conds, +Bits): some values of the bool attrs and comparisons the conditions are made
%  of give each condition its bit (comparisons count as independent, so this may keep a few too many).
feasible(Cs, Bits) :-
    findall(A, (member(C, Cs), cond_atom(C, A)), As0), list_to_set(As0, As),
    length(As, N), bit_lists(N, Assignments),
    member(Values, Assignments),
    forall(nth0(I, Cs, C), ( nth0(I, Bits, B), cond_eval(C, As, Values, B) )), !.

cond_atom(C, C) :- atom(C), !.
cond_atom(\+ A, X) :- !, cond_atom(A, X).
cond_atom((A, B), X) :- !, ( cond_atom(A, X) ; cond_atom(B, X) ).
cond_atom((A ; B), X) :- !, ( cond_atom(A, X) ; cond_atom(B, X) ).
cond_atom((A -> B), X) :- !, ( cond_atom(A, X) ; cond_atom(B, X) ).
cond_atom(C, C).

cond_eval(\+ A, As, Vs, V) :- !, cond_eval(A, As, Vs, V0), negate(V0, V).
cond_eval((A, B), As, Vs, V) :- !, cond_eval(A, As, Vs, VA), cond_eval(B, As, Vs, VB), ( VA == true, VB == true -> V = true ; V = false ).
cond_eval((A ; B), As, Vs, V) :- !, cond_eval(A, As, Vs, VA), cond_eval(B, As, Vs, VB), ( (VA == true ; VB == true) -> V = true ; V = false ).
cond_eval((A -> B), As, Vs, V) :- !, cond_eval(\+ A ; B, As, Vs, V).
cond_eval(C, As, Vs, V) :- nth0(I, As, A), A == C, !, nth0(I, Vs, V).
negate(true, false).
negate(false, true).

lift_program([], _, []).
lift_program([rule(K, N, X)|T], Table, [rule(K, N, Y)|T1]) :- lift(X, Table, Y), lift_program(T, Table, T1).

% ---------------------------------------------------------------------------------------------
% Conditions as people read them (code text is grimoire/emit/'s)
% ---------------------------------------------------------------------------------------------

%% text_cond(+C, -S): a condition as people read it, for error messages.
text_cond(C, S) :- atom(C), !, format(string(S), "~w", [C]).
text_cond(\+ A, S) :- !, text_cond(A, SA), format(string(S), "not ~w", [SA]).
text_cond((A, B), S) :- !, text_cond(A, SA), text_cond(B, SB), format(string(S), "~w and ~w", [SA, SB]).
text_cond((A ; B), S) :- !, text_cond(A, SA), text_cond(B, SB), format(string(S), "(~w or ~w)", [SA, SB]).
text_cond((A -> B), S) :- !, text_cond(A, SA), text_cond(B, SB), format(string(S), "if ~w then ~w", [SA, SB]).
text_cond(C, S) :- C =.. [Op, L, R], cond_cmp(Op, T), format(string(S), "~w ~w ~w", [L, T, R]).

% ---------------------------------------------------------------------------------------------
% Derived components
% ---------------------------------------------------------------------------------------------

list_name(T, L) :- atom_concat(T, s, L).

ecs:kind_schema(optimizer, E, Schema) :-
    param(E, P), grad(E, G), states(E, Ss),
    list_name(P, PL), list_name(G, GL),
    findall(Letter, (between(0, 25, I), C is 0'a + I, char_code(Letter, C)), Letters),
    length(Ss, NS), N1 is NS + 2, length(Used, N1), append(Used, _, Letters),
    Used = [LP|Rest], once(append(LS, [LStep], Rest)),
    format(string(A0), "Tensor(~w!)[] ~w", [LP, PL]),
    format(string(A1), "Tensor[] ~w", [GL]),
    findall(A, (nth0(I, Ss, S), nth0(I, LS, L), list_name(S, SL), format(string(A), "Tensor(~w!)[] ~w", [L, SL])), AS),
    format(string(AStep), "Tensor(~w!)[] state_steps", [LStep]),
    op_attrs(E, As),
    findall(X, (member(attr(N, T, D), As), schema_attr(N, T, D, X)), AttrS),
    append([[A0, A1], AS, [AStep], AttrS], Args), atomic_list_concat(Args, ', ', ArgL),
    format(string(Schema), "~w(~w) -> ()", [E, ArgL]).

ecs:kind_python_signature(optimizer, E, Sig) :-
    tensors(E, Ts), findall(L, (member(T, Ts), list_name(T, L)), Ls),
    op_attrs(E, As),
    findall(S, (member(attr(N, T, D), As), python_param(N, T, D, S)), AttrS),
    append([Ls, [state_steps], AttrS], Ps), atomic_list_concat(Ps, ', ', Sig).

ecs:kind_derived(optimizer, E, optimizer-_{param: P, grad: G, states: Ss, conditions: CondsJ, requires: ReqJ,
                                       host: HostJ, programs: ProgsJ, variant_programs: VP, classes: ClassesJ,
                                       bench_attrs: BenchJ}) :-
    param(E, P), grad(E, G), states(E, Ss),
    variants(E, Cs, Programs, VP, Lifted),
    maplist(cond_json, Cs, CondsJ),
    findall(J, (component(E, requires, R), cond_json(R, J)), ReqJ),
    % Gathered first, rendered with maplist: a piece that does not render fails the model instead of
    % vanishing from the generated step.
    findall(N = X, component(E, scalar, (N = X)), Scalars),
    maplist(host_scalar_json, Scalars, ScalarJ),
    findall(I-X, nth0(I, Lifted, X), LiftedIX),
    maplist(lifted_json, LiftedIX, LiftedJ),
    append(ScalarJ, LiftedJ, HostJ),
    tensors(E, Ts), uniform_names(E, Us0), findall(N, member(_{name: N, lifted: _, expr: _}, LiftedJ), LNs),
    append(Us0, LNs, Us),
    findall(I-Prog, nth0(I, Programs, Prog), Progs),
    maplist(indexed_program_json(Ts, Us), Progs, ProgsJ),
    findall(T, component(E, optimizer_class, T), Classes),
    maplist(class_json(E), Classes, ClassesJ),
    ( component(E, bench_attrs, BL) -> true ; BL = [] ),
    findall(_{name: N, py: PV}, (member(N = V, BL), py_value(V, PV)), BenchJ).

% Host values reach the model as terms (expr_data/2); grimoire/emit/ writes their C++ and Python. A spec scalar
% is a host expression (if/3, powers by the step); a lifted term is an element one, its C++ the element loop's.
host_scalar_json(N = X, _{name: N, lifted: false, expr: D}) :- expr_data(X, D).
lifted_json(I-X, _{name: N, lifted: true, expr: D}) :- format(atom(N), "tmp_u~w", [I]), expr_data(X, D).
indexed_program_json(Ts, Us, I-Prog, J) :- program_json(I, Prog, Ts, Us, J).

% A condition reaches the model as a term (expr_data/2); its text, for error messages, is made here.
cond_json(C, _{expr: D, text: TS, names: Ns}) :-
    expr_data(C, D), text_cond(C, TS), names_in(C, Ns).

%% program_json: the tensors it reads and writes (in the op's order), the uniform values it uses,
%  and its rules as data (rules_data/3).
program_json(I, Prog, Ts, Us, _{index: I, tensors: TJ, uniforms: UJ, rules: RJ}) :-
    findall(N, member(rule(update, N, _), Prog), Written0), list_to_set(Written0, Written),
    findall(N, (member(rule(_, _, X), Prog), names_in(X, Ns), member(N, Ns)), Read0), list_to_set(Read0, Read),
    findall(_{name: T, read: R, written: W},
            ( member(T, Ts), once(( memberchk(T, Read) ; memberchk(T, Written) )),
              ( memberchk(T, Read) -> R = true ; R = false ), ( memberchk(T, Written) -> W = true ; W = false ) ),
            TJ),
    findall(U, (member(U, Us), memberchk(U, Read)), UJ),
    rules_data(Prog, 0, RJ).

%% rules_data(+Rules, +First, -Data): each rule as _{kind, name, lets, result} after common-subexpression
%  elimination, the temporaries numbered across the whole program (from First) so they never collide.
rules_data([], _, []).
rules_data([rule(K, N, X)|T], I0, [_{kind: K, name: N, lets: LD, result: RD}|Rest]) :-
    cse(X, I0, Lets, Body), length(Lets, NL), I1 is I0 + NL,
    lets_data(Lets, LD), expr_data(Body, RD),
    rules_data(T, I1, Rest).

%% class_json: the constructor's arguments (attrs, or tuples of attrs) with defaults, and the fixed attrs.
class_json(E, T, _{name: Name, params: Params, fixed: Fixed}) :-
    ( atom(T) -> Name = T, Settings = [] ; T =.. [Name|Settings] ),
    op_attrs(E, As),
    findall(_{name: A, py: PV}, (member(A := V, Settings), py_value(V, PV)), Fixed),
    findall(J, (member(attr(A, _, D), As), \+ memberchk(A := _, Settings), class_param(A, D, As, Settings, J)), Params).

class_param(A, _, As, Settings, _{name: G, attrs: Group, py_default: PD}) :-
    member(G = Tuple, Settings), Tuple = (_, _), comma_list(Tuple, Group), memberchk(A, Group), !,
    Group = [A|_],
    findall(S, (member(X, Group), setting_default(X, As, Settings, S)), Ss),
    atomic_list_concat(Ss, ', ', SL), format(string(PD), "(~w)", [SL]).
class_param(A, _, As, Settings, _{name: A, attrs: [A], py_default: PD}) :-
    setting_default(A, As, Settings, PD).

setting_default(A, _, Settings, PD) :- member(A = V, Settings), \+ V = (_, _), !, py_value(V, PD).
setting_default(A, As, _, PD) :- member(attr(A, _, default(V)), As), !, py_value(V, PD).
setting_default(_, _, _, "None").

py_value(V, S) :- python_value(V, P), format(string(S), "~w", [P]).
