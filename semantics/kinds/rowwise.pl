/*  Kind `rowwise`: an expression over the rows of the last dimension, with row reductions
    written inline: sum(E), mean(E), max(E), min(E) reduce E over the row.

        component(softmax, forward, y = exp(x - max(x)) / sum(exp(x - max(x)))).

    Besides the element inputs (shape [..., n]) an op may take column inputs (shape [n], e.g. a
    layer norm's weight) and index inputs (int64, shape [...], one column index per row, e.g. a
    class target). `n` is the row length and `col` the column of an element. A forward that
    reads no element of the row yields one value per row (sum, mean, a per-row loss).

    The planner below turns such expressions into passes over a row: the reductions are pulled
    out as statistics (each computed once, in as few passes as their dependencies allow), and
    row-invariant subterms are hoisted out of the element loops. The backward is derived by
    reverse mode over that plan: the adjoint of each sum/mean statistic is itself a row
    reduction, so the backward is an expression of the same language and is planned the same way.
    max/min statistics are shifts for numerical stability: no gradient flows through them (the
    generated gradcheck and reference tests catch an op whose output depends on them).
*/

% Exported for the kinds built on this one (linear_loss).
:- module(rowwise, [element_output/1, element_inputs/2, column_inputs/2, index_inputs/2]).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/expr)).

ecs:op_kind(rowwise, "expression over rows of the last dim with inline row reductions (sum, mean, max, min), derived backward").

ecs:kind_requires(rowwise, input).
ecs:kind_requires(rowwise, output).
ecs:kind_requires(rowwise, forward).

row_reduction(sum). row_reduction(mean). row_reduction(max). row_reduction(min).
ecs:kind_reduction(rowwise, R) :- row_reduction(R).

% ---------------------------------------------------------------------------------------------
% Roles of the names an expression may use
% ---------------------------------------------------------------------------------------------

column_inputs(E, Cs) :- findall(C, component(E, column_input, C), Cs).
index_inputs(E, Is) :- findall(I, component(E, index_input, I), Is).
element_inputs(E, Xs) :-
    op_inputs(E, Ins), column_inputs(E, Cs), index_inputs(E, Is),
    append(Cs, Is, NotElement), subtract(Ins, NotElement, Xs).

%% names(+Op, -ElementNames, -RowScalarNames): what varies along a row, and what is fixed per row.
names(E, Elem, Row) :-
    element_inputs(E, Xs), column_inputs(E, Cs), index_inputs(E, Is), scalar_attrs(E, As),
    append([Xs, Cs, [col]], Elem),
    append([Is, As, [n]], Row).

%% The attrs an expression may read: numbers and bools (a choice attr steers the kernel instead).
scalar_attrs(E, As) :- op_attrs(E, All), findall(N, ( member(attr(N, T, _), All), memberchk(T, [float, int, bool]) ), As).

output(E, O) :- op_outputs(E, [O|_]).
grad_name(E, G) :- output(E, O), atom_concat(grad_, O, G).

% ---------------------------------------------------------------------------------------------
% The forward expression, closed: named stats substituted in, normalized, simplified
% ---------------------------------------------------------------------------------------------

forward(E, F) :-
    component(E, forward, (_ = X0)),
    findall(S-D, component(E, stat, (S = D)), Stats),
    expand_stats(X0, Stats, X1), normalize(X1, X2), simplify(X2, F).

%% expand_stats(+Expr, +NamedStats, -Expr1): every stat name replaced by its (expanded) definition.
expand_stats(X, Stats, Y) :- atom(X), memberchk(X-D, Stats), !, expand_stats(D, Stats, Y).
expand_stats(X, _, X) :- \+ compound(X), !.
expand_stats(X, Stats, Y) :- X =.. [F|As], expand_stats_all(As, Stats, Bs), Y =.. [F|Bs].
expand_stats_all([], _, []).
expand_stats_all([A|As], Stats, [B|Bs]) :- expand_stats(A, Stats, B), expand_stats_all(As, Stats, Bs).

%% element_output(+Op): the forward reads elements outside any reduction (one value per element).
element_output(E) :-
    forward(E, F), names(E, Elem, _),
    extract([F], [], _, [Y]),
    sub_term(T, Y), atom(T), memberchk(T, Elem), !.

% ---------------------------------------------------------------------------------------------
% Extraction: inline reductions become statistics stat(Name, Reduction, Body)
% ---------------------------------------------------------------------------------------------

%% extract(+Exprs, +Stats0, -Stats, -Exprs1): reductions (innermost first) replaced by names;
%  a reduction written twice is computed once.
extract(Xs, S0, S, Ys) :- foldl(extract_one, Xs, Ys, S0, S).

extract_one(X, Y, S0, S) :- extract_term(X, Y, S0, S).

extract_term(X, X, S, S) :- \+ compound(X), !.
extract_term(X, Name, S0, S) :-
    X =.. [R, A], row_reduction(R), !,
    extract_term(A, A1, S0, S1),
    (   member(stat(Name, R, B), S1), B == A1
    ->  S = S1
    ;   stat_name(X, S1, Name),
        append(S1, [stat(Name, R, A1)], S)
    ).

extract_term(X, Y, S0, S) :- X =.. [F|As], foldl(extract_term, As, Bs, S0, S), Y =.. [F|Bs].

%% stat_name(+Reduction, +Stats, -Name): the spec's name for the reduction where one of its stats
%  defines exactly it (mu = mean(x)), else tmp_s<K>: the generated code reads as the spec does.
stat_name(X, Stats, Name) :-
    nb_current(rw_stat_names, Named), member(T-Name, Named), T == X, \+ memberchk(stat(Name, _, _), Stats), !.
stat_name(_, Stats, Name) :- length(Stats, K), format(atom(Name), "tmp_s~w", [K]).

%% with_stat_names(+Op, :Goal): Goal with extraction naming the reductions the op's stats define. Each
%  stat's definition is closed as the forward is (stats expanded, normalized, simplified), so that it
%  is the very term extraction meets in the forward and in the gradients derived from it.
with_stat_names(E, Goal) :-
    findall(S-D, component(E, stat, (S = D)), Stats),
    findall(T-S, ( member(S-D, Stats), expand_stats(D, Stats, X1), normalize(X1, X2), simplify(X2, T),
                   compound(T), T =.. [R, _], row_reduction(R) ), Named),
    setup_call_cleanup(nb_setval(rw_stat_names, Named), once(Goal), nb_setval(rw_stat_names, [])).

% ---------------------------------------------------------------------------------------------
% Hoisting: maximal row-invariant compound subterms of element expressions become row lets
% ---------------------------------------------------------------------------------------------

%% hoist(+Elem, +Expr, -Expr1, +Lets0, -Lets): Lets = [let(Name, Expr), ...].
hoist(_, X, X, L, L) :- \+ compound(X), !.
hoist(Elem, A / B, Y, L0, L) :-         % divide by a row scalar: multiply by its reciprocal
    varies(Elem, A), \+ varies(Elem, B), !,
    hoist(Elem, A, A1, L0, L1), hoist(Elem, 1 / B, R, L1, L), Y = A1 * R.
hoist(Elem, X, Name, L0, L) :-
    \+ varies(Elem, X), hoistable(X), !,
    (   member(let(Name, B), L0), B == X
    ->  L = L0
    ;   length(L0, K), format(atom(Name), "tmp_r~w", [K]), append(L0, [let(Name, X)], L)
    ).
hoist(Elem, X, Y, L0, L) :- X =.. [F|As], foldl(hoist(Elem), As, Bs, L0, L), Y =.. [F|Bs].

varies(Elem, X) :- sub_term(T, X), atom(T), memberchk(T, Elem), !.
hoistable(X) :- compound(X), \+ ( X = -(A), \+ compound(A) ).

% ---------------------------------------------------------------------------------------------
% Planning: statistics grouped into passes by dependency level
% ---------------------------------------------------------------------------------------------

%% plan(+Elem, +Outputs, -Plan)
%  Outputs: [out(Target, Where, Expr)], Where = element (one value per element) or row.
%  Plan = plan(Pre, Passes, Final, RowOuts):
%    Pre     row lets needing no statistic,
%    Passes  [pass(Stats, LetsAfter)] in order,
%    Final   [out(Target, Expr)] computed in one last element pass,
%    RowOuts [out(Target, Expr)] computed per row at the end.
plan(Elem, Outs, Plan) :- plan(Elem, Outs, false, Plan).

%% plan(+Elem, +Outputs, +Fold, -Plan): Fold = true folds each sum(exp(B - M)) whose shift M is
%  max(B) into M's pass as an online reduction (see online/3): the GPU kernels' plan, where a pass
%  over a row that does not fit in registers costs a read of it. The CPU kernels do not take that one
%  (a vector lane's running rescale would cost them a second exp an element) but Fold = moments, which
%  folds each mean or sum of (B - M)^2 with M = mean(B) into M's pass (see moments/3).
plan(Elem, Outs, Online, plan(Pre, Passes, Final, RowOuts)) :-
    findall(X, member(out(_, _, X), Outs), Xs),
    extract(Xs, [], Stats0, Ys),
    pairs_keys_values(Pairs, Outs, Ys),
    % hoist in stat bodies, then in element outputs; row outputs are row-level already
    foldl(hoist_stat(Elem), Stats0, Stats1, [], L1),
    (   Online == true -> maplist(online(Stats1), Stats1, Stats2)
    ;   Online == moments -> maplist(moments(Stats1), Stats1, Stats2)
    ;   Stats2 = Stats1
    ),
    factor_stats(Elem, Stats2, Stats, L1, L2),
    foldl(hoist_out(Elem), Pairs, Outs1, L2, Lets),
    relocate(Elem, Stats0-Ys, Lets, Stats, StatsAt),
    levels(StatsAt, Lets, Levels),
    ( Levels == [] -> Max = -1 ; max_member(Max, Levels) ),
    findall(let(N, B), ( member(let(N, B), Lets), let_level(N, StatsAt, Lets, -1) ), Pre),
    numlist0(Max, Ls),
    findall(pass(PS, PL),
            ( member(L, Ls),
              findall(stat(N, R, B), ( member(stat(N, R, B), Stats), stat_level(N, StatsAt, Lets, L) ), PS),
              PS \== [],
              findall(let(N, B), ( member(let(N, B), Lets), let_level(N, StatsAt, Lets, L) ), PL) ),
            Passes),
    findall(out(T, X), member(out(T, element, X), Outs1), Final),
    findall(out(T, X), member(out(T, row, X), Outs1), RowOuts).

%% online(+Stats, +Stat, -Stat1): sum(exp(B - M)) with M = max(B) becomes stat(S, sum_exp(M), B), the
%  sum of exp(B - M) kept while M is found: a thread rescales its partial sum when its running max
%  grows, and partials combine as (m, s) pairs. Its body B no longer reads M, so the level rules put
%  it in M's pass: softmax and cross-entropy reduce their row in one pass instead of two.
online(Stats, stat(S, sum, exp(B - M)), stat(S, sum_exp(M), B)) :-
    atom(M), member(stat(M, max, B2), Stats), B2 == B, !.
online(_, St, St).

%% moments(+Stats, +Stat, -Stat1): mean((B - M)^2) with M = mean(B) becomes stat(S, var(M), B), and
%  sum((B - M)^2) stat(S, m2(M), B): the squared deviations are summed as the mean is found (Welford's
%  update; partials combine by Chan's rule), so a variance needs no pass of its own. Its body B no
%  longer reads M: layer_norm's forward reads its row twice, not three times. A row of equal terms
%  keeps its mean exactly and a variance of 0, as the two passes give them.
moments(Stats, stat(S, R, Sq), stat(S, Mom, B)) :-
    memberchk(R-F, [mean-var, sum-m2]), square(Sq, B - M),
    atom(M), member(stat(M, mean, B2), Stats), B2 == B, !,
    Mom =.. [F, M].
moments(_, St, St).

square(pow(D, Two), D) :- number(Two), Two =:= 2.
square(D ** Two, D) :- number(Two), Two =:= 2.
square(D1 * D2, D1) :- D1 == D2.

%% factor_stats(+Elem, +Stats0, -Stats, +Lets0, -Lets): a sum or mean reduces only the factors of
%  its body that vary along the row; the row-invariant ones scale the result, sum(C * B) = C * sum(B).
%  Where C reads a statistic (a norm's 1/sqrt(var + eps) in its backward) the unscaled sum no longer
%  waits for it and joins an earlier pass: rms_norm's backward reads its rows twice, not three times.
%  Only where C reads a statistic: moving numbers or attrs out saves no pass. The unscaled sum is
%  <S>_unscaled (or an equal statistic already there), and S itself becomes
%  recheck(R, C * <S>_unscaled): C * sum(B) overflows where the terms C * b do not (a row of values near the dtype's largest, C tiny), so a row whose
%  scaled value is not finite takes S's own pass over the row, planned after the statistics C reads
%  and skipped on every other row.
factor_stats(Elem, S0, S, L0, L) :-
    (   nth0(K, S0, stat(N, R, B), Rest), memberchk(R, [sum, mean]),
        body_factors(Elem, B, Inv, Var), Var \== [],
        member(F, Inv), member(stat(D, _, _), S0), needs(F, D, L0)
    ->  product(Inv, C0), product(Var, B1),
        hoist(Elem, C0, C, L0, L1),
        (   member(stat(M, R, B2), Rest), B2 == B1
        ->  S1 = S0
        ;   atom_concat(N, '_unscaled', M), append(S0, [stat(M, R, B1)], S1)
        ),
        nth0(K, S1, _, Rest1), nth0(K, S2, stat(N, recheck(R, C * M), B), Rest1),
        factor_stats(Elem, S2, S, L1, L)
    ;   S = S0, L = L0
    ).

%% body_factors(+Elem, +Body, -Invariant, -Varying): the factors of a product (through * and a
%  division by a row scalar), split by whether they read an element.
body_factors(Elem, B, Inv, Var) :-
    factors(Elem, B, Fs),
    partition(varies(Elem), Fs, Var, Inv).

factors(Elem, A * B, Fs) :- !, factors(Elem, A, Fa), factors(Elem, B, Fb), append(Fa, Fb, Fs).
factors(Elem, A / B, Fs) :- \+ varies(Elem, B), !, factors(Elem, A, Fa), append(Fa, [1 / B], Fs).
factors(Elem, -(A), [-1|Fs]) :- compound(A), !, factors(Elem, A, Fs).
factors(_, X, [X]).

product([F|Fs], P) :- foldl(times, Fs, F, P).
times(G, A, A * G).

numlist0(Max, []) :- Max < 0, !.
numlist0(Max, Ls) :- numlist(0, Max, Ls).

hoist_stat(Elem, stat(N, R, B), stat(N, R, B1), L0, L) :- hoist(Elem, B, B1, L0, L).
hoist_out(Elem, out(T, element, _)-Y, out(T, element, Y1), L0, L) :- !, hoist(Elem, Y, Y1, L0, L).
hoist_out(_, out(T, row, _)-Y, out(T, row, Y), L, L).

levels(Stats, Lets, Levels) :-
    findall(Lv, ( member(stat(N, _, _), Stats), stat_level(N, Stats, Lets, Lv) ), Levels).

%% relocate(+Elem, +Extracted, +Lets, +Stats, -StatsAt): Stats with at(Name, Level) entries for the sums
%  and means that move to a later pass. A statistic goes in the first pass its dependencies allow, but
%  where it alone reads a tensor there and a later pass (before any statistic that needs it) reads
%  that tensor anyway, it moves there: the earlier pass stops reading the tensor. layer_norm's backward
%  sums grad_y * weight in its variance's pass, which reads grad_y, not in its mean's, which reads x
%  alone. Not in plans with a where() (a pass may be skipped by its attrs: a statistic moved in would
%  make it run).
relocate(_, Extracted, _, Stats, Stats) :- sub_term(W, Extracted), compound(W), W = where(_, _, _), !.
relocate(Elem, _, Lets, Stats, StatsAt) :-
    foldl(relocate_one(Elem, Stats, Lets), Stats, Stats, StatsAt).

relocate_one(Elem, Stats, Lets, stat(N, R, B), At0, At) :-
    memberchk(R, [sum, mean]),
    stat_level(N, At0, Lets, L0),
    reads(Elem, B, Own),
    pass_reads(Elem, Stats, At0, Lets, N, L0, Others),
    \+ subset(Own, Others),
    findall(Bd, ( member(stat(T, RT, BT), Stats), T \== N, stat_term(RT, BT, XT), needs(XT, N, Lets),
                  stat_level(T, At0, Lets, LT), Bd is 2 * (LT div 2) - 2 ), Bds),
    min_list([1000000|Bds], Bound),
    findall(L, ( member(stat(M, RM, _), Stats), M \== N, RM \= recheck(_, _),
                 stat_level(M, At0, Lets, L), L > L0, L =< Bound ), Ls0),
    sort(Ls0, Ls),
    member(L, Ls), pass_reads(Elem, Stats, At0, Lets, N, L, There), subset(Own, There), !,
    At = [at(N, L)|At0].
relocate_one(_, _, _, _, At, At).

%% stat_term(+Reduction, +Body, -Term): what a statistic reads: its body, and a recheck's scaled value.
stat_term(recheck(_, X), B, B + X) :- !.
stat_term(_, B, B).

%% reads(+Elem, +X, -Names): the element inputs (and column inputs) X reads.
reads(Elem, X, Rs) :- findall(V, ( member(V, Elem), V \== col, sub_term(T, X), T == V ), Rs0), sort(Rs0, Rs).

%% pass_reads(+Elem, +Stats, +At, +Lets, +Except, +Level, -Names): what the pass of Level reads for
%  its statistics other than Except.
pass_reads(Elem, Stats, At, Lets, Except, L, Rs) :-
    findall(V, ( member(stat(M, RM, BM), Stats), M \== Except, stat_level(M, At, Lets, L),
                 stat_term(RM, BM, XM), reads(Elem, XM, RMs), member(V, RMs) ), Rs0),
    sort(Rs0, Rs).

%% needs(+X, +N, +Lets): X reads N, itself or through a row let.
needs(X, N, _) :- sub_term(T, X), T == N, !.
needs(X, N, Lets) :- member(let(L, B), Lets), sub_term(T, X), T == L, needs(B, N, Lets), !.

%% A statistic's pass: one after the latest statistic its body (or a row let in it) needs. Levels
%  count in twos: a recheck statistic's pass (odd) comes right after the plain pass of its level.
%  An at(Name, Level) entry (relocate/5) places it later.
stat_level(N, Stats, _, L) :- memberchk(at(N, L0), Stats), !, L = L0.
stat_level(N, Stats, Lets, L) :-
    memberchk(stat(N, R, B), Stats),
    stat_term(R, B, T),
    findall(DL, ( mentions(T, D), D \== N, dep_level(D, Stats, Lets, DL) ), DLs),
    max_list([-1|DLs], M), L0 is 2 * (M div 2 + 1),
    ( R = recheck(_, _) -> L is L0 + 1 ; L = L0 ).
%% A row let's pass: computed right after the latest statistic it needs (-1: before any pass).
let_level(N, Stats, Lets, L) :-
    memberchk(let(N, B), Lets),
    findall(DL, ( mentions(B, D), dep_level(D, Stats, Lets, DL) ), DLs),
    max_list([-1|DLs], L).
dep_level(D, Stats, Lets, L) :- memberchk(stat(D, _, _), Stats), !, stat_level(D, Stats, Lets, L).
dep_level(D, Stats, Lets, L) :- memberchk(let(D, _), Lets), !, let_level(D, Stats, Lets, L).

mentions(X, A) :- setof(T, (sub_term(T, X), atom(T)), Ts), member(A, Ts).

% ---------------------------------------------------------------------------------------------
% The derived backward: reverse mode over the forward's statistics
% ---------------------------------------------------------------------------------------------

%% input_gradient(+Op, +Input, -Expr): d loss / d Input as an element expression with inline reductions.
input_gradient(E, I, G) :- component(E, gradient, (I = X)), !, normalize(X, N), simplify(N, G).
input_gradient(E, I, G) :-
    forward(E, F), grad_name(E, Gr),
    extract([F], [], Stats, [Y]),
    ( element_output(E) -> Where = element ; Where = row ),
    adjoints(Stats, Y, Gr, Where, Adj),
    % direct term plus each sum/mean statistic's adjoint times d(body)/dInput
    d(Y, I, DY0), simplify(Gr * DY0, Direct),
    findall(T, ( member(stat(S, R, B), Stats), memberchk(S-A, Adj), A \== 0,
                 scale(R, C), d(B, I, DB0), simplify(DB0, DB), DB \== 0,
                 T = A * C * DB ), Terms),
    add_all(Terms, Direct, G0),
    inline_stats(G0, Stats, G1), simplify(G1, G).

scale(sum, 1).
scale(mean, 1 / n).

%% adjoints(+Stats, +Y, +Grad, +Where, -Adj): Stat-Adjoint for every statistic, last first.
adjoints(Stats, Y, Gr, Where, Adj) :-
    reverse(Stats, Rev),
    foldl(adjoint(Stats, Y, Gr, Where), Rev, [], Adj).

adjoint(_, _, _, _, stat(S, R, _), Acc, [S-0|Acc]) :- memberchk(R, [max, min]), !.
adjoint(Stats, Y, Gr, Where, stat(S, _, _), Acc, [S-A|Acc]) :-
    d(Y, S, DY0), simplify(Gr * DY0, DY),
    ( Where == element -> row_sum(DY, Own) ; Own = DY ),
    % later statistics l whose bodies read S: adj_l * c_l * sum(d body_l / d S)
    findall(T, ( member(stat(L, RL, BL), Stats), memberchk(L-AL, Acc), AL \== 0,
                 d(BL, S, DB0), simplify(DB0, DB), DB \== 0, \+ centered(DB, S, Stats),
                 scale(RL, C), row_sum(DB, SumDB), T = AL * C * SumDB ), Terms),
    add_all(Terms, Own, A0), simplify(A0, A).

%% centered(+D, +S, +Stats): D is a constant multiple of X - S, S being the statistic mean(X), so
%  D sums to zero over the row (deviations from a mean cancel). layer_norm's variance reads the mean
%  that way: the chain rule's sum(-2 * (x - mu)) term is exactly 0, and dropping it saves the
%  backward a statistic (and the rounding it would add).
centered(D, S, Stats) :- memberchk(stat(S, mean, X), Stats), multiple_of(D, X - S).

multiple_of(D, T) :- D == T, !.
multiple_of(-D, T) :- !, multiple_of(D, T).
multiple_of(C * D, T) :- number(C), !, multiple_of(D, T).
multiple_of(D * C, T) :- number(C), multiple_of(D, T).

%% add_all(+Terms, +X, -Sum): X + T1 + T2 + ...
add_all([], X, X).
add_all([T|Ts], X, S) :- add_all(Ts, X + T, S).

row_sum(0, 0) :- !.
row_sum(X, sum(X)).

%% inline_stats(+Expr, +Stats, -Closed): statistic names replaced by their inline reductions again,
%  so the backward is planned from scratch (statistics shared with the forward are recomputed).
inline_stats(X, Stats, Y) :- atom(X), memberchk(stat(X, R, B), Stats), !, inline_stats(B, Stats, B1), Y =.. [R, B1].
inline_stats(X, _, X) :- \+ compound(X), !.
inline_stats(X, Stats, Y) :- X =.. [F|As], inline_stats_all(As, Stats, Bs), Y =.. [F|Bs].
inline_stats_all([], _, []).
inline_stats_all([A|As], Stats, [B|Bs]) :- inline_stats(A, Stats, B), inline_stats_all(As, Stats, Bs).

% ---------------------------------------------------------------------------------------------
% Checks
% ---------------------------------------------------------------------------------------------

% The generated function takes dim= (the dim the row runs along, as torch's functions do).
ecs:kind_violation(rowwise, E-component(E, input, dim)-Msg) :-
    component(E, input, dim),
    format(string(Msg), "rowwise op '~w': dim is the generated function's own argument (the dim the row runs along); rename the input.", [E]).
ecs:kind_violation(rowwise, E-component(E, attr, A)-Msg) :-
    component(E, attr, A), ( A = (dim : _ = _) ; A = (dim : _) ), !,
    format(string(Msg), "rowwise op '~w': dim is the generated function's own argument (the dim the row runs along); rename the attr.", [E]).
ecs:kind_violation(rowwise, E-component(E, output, O)-Msg) :-
    op_outputs(E, [_, O|_]),
    format(string(Msg), "rowwise op '~w' has one output; remove output ~q.", [E, O]).
ecs:kind_violation(rowwise, E-component(E, forward, F)-Msg) :-
    component(E, forward, F), \+ F = (_ = _),
    format(string(Msg), "forward of '~w' must read Output = Expression, e.g. y = exp(x - max(x)) / sum(exp(x - max(x))); got ~q.", [E, F]).
ecs:kind_violation(rowwise, E-component(E, forward, (O = X))-Msg) :-
    component(E, forward, (O = X)), op_outputs(E, Outs), \+ memberchk(O, Outs),
    format(string(Msg), "forward of '~w' assigns ~q, which is not an output (outputs: ~w).", [E, O, Outs]).
ecs:kind_violation(rowwise, E-component(E, forward, (O = X))-Msg) :-
    component(E, forward, (O = X)), known(E, Known),
    findall(S, component(E, stat, (S = _)), Ss), append(Known, Ss, Vars),
    problem(X, Vars, P),
    format(string(Msg), "forward of '~w': ~w.", [E, P]).
ecs:kind_violation(rowwise, E-component(E, stat, S)-Msg) :-
    component(E, stat, S),
    (   S = (N = X), atom(N)
    ->  known(E, Known), stats_before(E, N, Before), append(Known, Before, Vars),
        (   \+ valid_identifier(N) -> format(string(Msg), "stat name ~q of '~w' is not usable: write a lower_snake_case identifier.", [N, E])
        ;   memberchk(N, Known) -> format(string(Msg), "stat name '~w' of '~w' is already an input, attr or builtin (n, col).", [N, E])
        ;   problem(X, Vars, P) -> format(string(Msg), "stat ~w of '~w': ~w (a stat may use the stats written before it).", [N, E, P])
        )
    ;   format(string(Msg), "stat of '~w' must read Name = Expression, e.g. mu = mean(x); got ~q.", [E, S])
    ).
ecs:kind_violation(rowwise, E-component(E, K, I)-Msg) :-
    member(K, [column_input, index_input]), component(E, K, I), op_inputs(E, Ins), \+ memberchk(I, Ins),
    format(string(Msg), "~w ~q of '~w' is not an input (inputs: ~w): declare it with component(~q, input, ~q) too.", [K, I, E, Ins, E, I]).
ecs:kind_violation(rowwise, E-entity(E)-Msg) :-
    element_inputs(E, []),
    format(string(Msg), "rowwise op '~w' needs an element input (shape [..., n]); every input is a column or index input.", [E]).
ecs:kind_violation(rowwise, E-component(E, K, N)-Msg) :-
    member(K, [input, attr]), component(E, K, C), ( K == attr -> attr_parts(C, N, _, _) ; N = C ),
    memberchk(N, [n, col]),
    format(string(Msg), "'~w' is a builtin of rowwise ops (n: the row length, col: the column); rename ~w '~w' of '~w'.", [N, K, N, E]).
ecs:kind_violation(rowwise, E-component(E, column_init, CI)-Msg) :-
    component(E, column_init, CI), column_inputs(E, Cs),
    \+ ( CI = C: I, memberchk(C, Cs), memberchk(I, [ones, zeros]) ),
    format(string(Msg), "column_init of '~w' must read ColumnInput: ones or ColumnInput: zeros (column inputs: ~w); got ~q.", [E, Cs, CI]).
ecs:kind_violation(rowwise, E-component(E, index_ignore, A)-Msg) :-
    component(E, index_ignore, A), \+ ( op_attrs(E, As), memberchk(attr(A, int, _), As) ),
    format(string(Msg), "index_ignore of '~w' must name an int attr, e.g. ignore_index: int = -100; got ~q.", [E, A]).
ecs:kind_violation(rowwise, E-component(E, loss_reduction, A)-Msg) :-
    component(E, loss_reduction, A),
    \+ ( op_attrs(E, As), memberchk(attr(A, choice(Cs), _), As), msort(Cs, [mean, none, sum]) ),
    format(string(Msg), "loss_reduction of '~w' must name an attr of type choice([none, mean, sum]); got ~q.", [E, A]).
ecs:kind_violation(rowwise, E-component(E, loss_count, X)-Msg) :-
    component(E, loss_count, X),
    (   \+ component(E, loss_reduction, _)
    ->  format(string(Msg), "loss_count of '~w' needs a loss_reduction attr to divide by it.", [E])
    ;   names(E, _, Row), expr_problem(X, Row, P)
    ->  format(string(Msg), "loss_count of '~w' must be a per-row expression over index inputs, attrs and n: ~w.", [E, P])
    ).
ecs:kind_violation(rowwise, E-component(E, gradient, G)-Msg) :-
    component(E, gradient, G),
    (   G = (I = X)
    ->  op_differentiable(E, Ds), grad_name(E, Gr), output(E, O), known(E, Known),
        (   \+ memberchk(I, Ds) -> format(string(Msg), "gradient of '~w' names ~q, which is not a differentiable input (~w).", [E, I, Ds])
        ;   column_inputs(E, Cs), memberchk(I, Cs) -> format(string(Msg), "gradient of '~w' for column input ~q cannot be given; column gradients are derived.", [E, I])
        ;   problem(X, [Gr, O|Known], P) -> format(string(Msg), "gradient of '~w' for ~w: ~w.", [E, I, P])
        )
    ;   format(string(Msg), "gradient of '~w' must read Input = Expression (~w is the incoming gradient, the output may be read too); got ~q.", [E, G, G])
    ).
ecs:kind_violation(rowwise, E-component(E, differentiable, Ds)-Msg) :-
    component(E, differentiable, Ds), is_list(Ds), index_inputs(E, Is), member(I, Ds), memberchk(I, Is),
    format(string(Msg), "index input '~w' of '~w' cannot be differentiable.", [I, E]).
ecs:kind_violation(rowwise, E-entity(E)-Msg) :-
    component(E, gradient, _), op_differentiable(E, Ds), member(I, Ds),
    \+ component(E, gradient, (I = _)), \+ ( column_inputs(E, Cs), memberchk(I, Cs) ),
    format(string(Msg), "'~w' gives gradients for some inputs but not ~w: give every element input's gradient, or none.", [E, I]).

known(E, Known) :- names(E, Elem, Row), append(Elem, Row, Known).
stats_before(E, N, Before) :-
    findall(S, component(E, stat, (S = _)), All), append(Before, [N|_], All), !.

%% problem(+Expr, +Vars, -Problem): like expr_problem/3, with the row reductions allowed.
problem(X, Vars, P) :-
    catch(extract([X], [], Stats, [Y]), _, fail),
    findall(N, member(stat(N, _, _), Stats), Ns), append(Vars, Ns, All),
    (   member(stat(_, _, B), Stats), expr_problem(B, All, P) -> true
    ;   expr_problem(Y, All, P)
    ), !.

% ---------------------------------------------------------------------------------------------
% Derived components: the plans as data for the templates
% ---------------------------------------------------------------------------------------------

ecs:kind_derived(rowwise, E, row_roles-_{element: Xs, column: Cs, index: Is, ignore: Ig, output_is_element: OE,
                                     scalar_attrs: As, column_init: Init}) :-
    element_inputs(E, Xs), column_inputs(E, Cs), index_inputs(E, Is), scalar_attrs(E, As),
    findall(C-I, ( member(C, Cs), ( component(E, column_init, C: I) -> true ; I = ones ) ), Pairs),
    dict_pairs(Init, _, Pairs),
    ( component(E, index_ignore, Ig) -> true ; Ig = "" ),
    ( element_output(E) -> OE = true ; OE = false ).
ecs:kind_derived(rowwise, E, loss-L) :-
    (   component(E, loss_reduction, A)
    ->  names(E, _, Row),
        (   component(E, loss_count, C0)
        ->  normalize(C0, C1), simplify(C1, C), rowlevel_data(Row, C, CD)
        ;   CD = null
        ),
        L = _{attr: A, count: CD}
    ;   L = null
    ).
ecs:kind_derived(rowwise, E, reference-D) :-
    forward(E, F), expr_data(F, D).
ecs:kind_derived(rowwise, E, forward_plan-P) :- with_stat_names(E, forward_plan(E, false, P)).
ecs:kind_derived(rowwise, E, online_forward_plan-P) :- with_stat_names(E, forward_plan(E, true, P)).
ecs:kind_derived(rowwise, E, backward_plan-P) :- with_stat_names(E, backward_plan(E, false, P)).
ecs:kind_derived(rowwise, E, online_backward_plan-P) :- with_stat_names(E, backward_plan(E, true, P)).
ecs:kind_derived(rowwise, E, cpu_forward_plan-P) :- with_stat_names(E, forward_plan(E, moments, P)).
ecs:kind_derived(rowwise, E, cpu_backward_plan-P) :- with_stat_names(E, backward_plan(E, moments, P)).
ecs:kind_derived(rowwise, E, peer_form-F) :- ( peer_form(E, F0) -> F = F0 ; F = null ).
% The names the spec gives its statistics: they reach the generated code (grimoire/names.py checks them).
ecs:kind_derived(rowwise, E, value_names-Ns) :- findall(_{role: stat, name: N}, component(E, stat, (N = _)), Ns).

forward_plan(E, Online, P) :-
    forward(E, F), names(E, Elem, Row), output(E, O),
    ( element_output(E) -> W = element ; W = row ),
    plan(Elem, [out(O, W, F)], Online, Plan),
    plan_json(Plan, Elem, Row, P0),
    guarded(E, Plan, P0, P).
backward_plan(E, Online, P) :-
    op_differentiable(E, Ds), Ds \== [],
    names(E, Elem0, Row0), grad_name(E, Gr), output(E, O),
    column_inputs(E, Cs),
    % maplist: every differentiable input gets its gradient, or the plan fails (see plan_json).
    maplist(gradient_out(E, Cs), Ds, Outs),
    (   element_output(E) -> Elem1 = [Gr|Elem0], Row = Row0 ; Elem1 = Elem0, Row = [Gr|Row0] ),
    ( reads_output(E) -> Elem = [O|Elem1] ; Elem = Elem1 ),
    plan(Elem, Outs, Online, Plan),
    plan_json(Plan, Elem, Row, P0),
    guarded(E, Plan, P0, P).

%% peer_form(+Op, -Form): how the op's torch peer takes its arguments, which the Python wrapper and the
%  package's functional module take alike (grimoire/kinds/rowwise.py):
%    callee             the dotted torch function;
%    dim_after_inputs   the inputs, then the row dim -1, by position ('torch.sum'(x, -1, keepdim = keepdim));
%    normalized_shape   a norm as torch.nn.functional calls one: the element input, a one-element list
%                       (its normalized_shape), the column inputs, then attrs in the op's order, by
%                       position or by name;
%    keywords           the inputs by position, every other argument an attr by name (a loss).
peer_form(E, _{callee: F, dim_after_inputs: DA, normalized_shape: NS, keywords: KW}) :-
    component(E, peer, Call), peer_call(E, Call), !,
    compound_name_arguments(Call, F, Args),
    partition([A]>>(A = (_ = _)), Args, Kws, Pos),
    op_inputs(E, Ins), op_attr_names(E, As),
    findall(K, member(K = _, Kws), Ks),
    truth(subset(Ks, As), ByName),
    truth(append(Ins, [-1], Pos), DA),
    truth(( ByName == true, norm_args(E, Pos, As) ), NS),
    truth(( ByName == true, Pos == Ins ), KW).

norm_args(E, [X, [_]|Rest], As) :-
    element_inputs(E, [X0]), X == X0, index_inputs(E, []), column_inputs(E, Cs), Cs \== [],
    append(Cs1, Attrs, Rest), Cs1 == Cs, append(Attrs, _, As).

truth(G, B) :- ( \+ \+ call(G) -> B = true ; B = false ).

%% guarded(+Op, +Plan, +Json, -Json1): each pass's `guard`: the condition over the op's scalar attrs and n
%  under which its statistics are read at all (null: always). A statistic that only an output reads, and
%  there only in a branch of where(C, ...) whose condition C reads nothing but attrs and n, is needed
%  only where C (or not C) holds: cross_entropy's sum(x_max - x) feeds its smoothing term, which
%  where(label_smoothing == 0, 0, ...) leaves out, so without smoothing the kernels skip that pass over
%  the row. The condition is the same for every row of a call, so every thread skips alike. A pass whose
%  body the output reuses (cached) is never skipped.
guarded(E, plan(Pre, Passes, Final, RowOuts), J0, J) :-
    scalar_attrs(E, As), Uniform = [n|As],
    findall(X, ( member(out(_, X), Final) ; member(out(_, X), RowOuts) ), Outs),
    findall(B, ( member(let(_, B), Pre) ; member(pass(Ss, Ls), Passes), ( member(let(_, B), Ls) ; member(stat(_, _, B), Ss) ) ), Inner),
    findall(M, ( member(pass(Ss, _), Passes), member(stat(_, Folded, _), Ss),
                 compound(Folded), Folded =.. [F, M], memberchk(F, [sum_exp, var, m2]) ), Shifts),
    length(Passes, NP), NP1 is NP - 1,
    ( J0.cached == null -> Cached = -1 ; Cached = J0.cached.pass ),
    findall(D, ( between(0, NP1, I), nth0(I, Passes, pass(Ss, _)),
                 (   I \== Cached, \+ memberchk(stat(_, recheck(_, _), _), Ss),
                     maplist(stat_guard(Outs, Inner, Shifts, Uniform), Ss, Gs), \+ memberchk(true, Gs)
                 ->  disjunction(Gs, G), expr_data(G, D)
                 ;   D = null ) ),
            Ds),
    maplist(put_guard, J0.passes, Ds, Passes1),
    J = J0.put(passes, Passes1).

put_guard(P, D, P1) :- P1 = P.put(guard, D).

%% stat_guard(+Outs, +Inner, +Shifts, +Uniform, +Stat, -Guard): true, or the condition under which an
%  output reads the statistic.
stat_guard(Outs, Inner, Shifts, Uniform, stat(S, _, _), G) :-
    (   ( memberchk(S, Shifts) ; member(B, Inner), mentions(B, S) )
    ->  G = true
    ;   findall(C, ( member(X, Outs), occurrence(S, X, Uniform, [], C) ), Cs),
        (   ( Cs == [] ; memberchk([], Cs) )
        ->  G = true
        ;   maplist(conjunction, Cs, Gs), disjunction(Gs, G)
        )
    ).

%% occurrence(+S, +X, +Uniform, +Ctx, -Ctx1): each place S occurs in X, with the uniform conditions of
%  the where() branches around it.
occurrence(S, X, _, Ctx, Ctx) :- X == S, !.
occurrence(S, where(C, A, B), U, Ctx, Ctx1) :- uniform(C, U), !,
    ( occurrence(S, A, U, [C|Ctx], Ctx1) ; occurrence(S, B, U, [\+ C|Ctx], Ctx1) ).
occurrence(S, X, U, Ctx, Ctx1) :- compound(X), X =.. [_|As], member(A, As), occurrence(S, A, U, Ctx, Ctx1).

uniform(C, U) :- C =.. [Op, L, R], memberchk(Op, [==, \==, =:=, =\=, <, >, =<, >=]), !, uniform_side(L, U), uniform_side(R, U).
uniform(C, U) :- atom(C), memberchk(C, U).
uniform_side(X, _) :- number(X), !.
uniform_side(X, U) :- atom(X), !, memberchk(X, U).
uniform_side(X, U) :- compound(X), X =.. [F|As], memberchk(F, [+, -, *, /]), maplist([A]>>uniform_side(A, U), As).

conjunction([C], C) :- !.
conjunction([C|Cs], (C, R)) :- conjunction(Cs, R).
disjunction([G], G) :- !.
disjunction([G|Gs], (G ; R)) :- disjunction(Gs, R).
ecs:kind_derived(rowwise, E, gradients_text-Ts) :-
    op_differentiable(E, Ds),
    maplist(gradient_text(E), Ds, Ts).
gradient_out(E, Cs, I, out(T, element, G)) :- once(input_gradient(E, I, G)), grad_target(I, Cs, T).
gradient_text(E, I, _{input: I, expr: S, derived: Dv}) :-
    once(input_gradient(E, I, G)), format(string(S), "~w", [G]),
    ( component(E, gradient, (I = _)) -> Dv = false ; Dv = true ).
ecs:kind_derived(rowwise, E, reads_output-R) :- ( reads_output(E) -> R = true ; R = false ).
ecs:kind_derived(rowwise, E, backward_schema-S) :-
    op_differentiable(E, Ds), Ds \== [],
    output(E, O), op_inputs(E, Ins), op_attrs(E, As),
    ( reads_output(E) -> Saved = [O] ; Saved = [] ),
    append([[grad_(O)], Ins, Saved], TIns),
    findall(A, (member(I, TIns), tensor_arg(I, A)), InS),
    findall(A, (member(attr(N, T, D), As), schema_attr(N, T, D, A)), AttrS),
    append(InS, AttrS, Args), atomic_list_concat(Args, ', ', ArgL),
    schema_returns(Ds, Ret),
    format(string(S), "~w_backward(~w) -> ~w", [E, ArgL, Ret]).

grad_target(I, Cs, column(I)) :- memberchk(I, Cs), !.
grad_target(I, _, element(I)).

%% reads_output(+Op): a given gradient reads the forward's output (saved for backward).
reads_output(E) :-
    output(E, O), component(E, gradient, (_ = X)), sub_term(T, X), T == O, !.

% ---------------------------------------------------------------------------------------------
% The plans as data (grimoire/kinds/rowwise.py types them, grimoire/emit/ writes their code)
% ---------------------------------------------------------------------------------------------

%% plan_json(+Plan, +Elem, +Row, -Dict): the pieces of the row kernel, as expression data.
%  Element code is a generic lambda over V (opmath scalar or Vectorized); a row scalar R is
%  available there as `const V R(R_s)`. Row-level code runs on opmath scalars named R_s.
plan_json(plan(Pre, Passes, Final, RowOuts), Elem, Row, _{pre: PreJ, passes: PassesJ, final: FinalJ, row_outputs: RowJ,
                                                              cached: CachedJ}) :-
    findall(N, member(let(N, _), Pre), PreNames),
    lets_json(Pre, Row, PreJ),
    passes_json(Passes, Elem, Row, PreNames, PassesJ),
    findall(N, ( member(pass(Ss, Ls), Passes), ( member(stat(N, _, _), Ss) ; member(let(N, _), Ls) ) ), Done),
    append([Row, PreNames, Done], Scalars),
    (   Final == [] -> FinalJ = null
    ;   findall(X, member(out(_, X), Final), Xs), findall(T, member(out(T, _), Final), Ts),
        maplist(target_json, Ts, TsJ),
        element_json(Xs, Elem, Scalars, Body), FinalJ = Body.put(targets, TsJ)
    ),
    % maplist: an output whose expression does not render fails the plan (a spec error naming the op),
    % never a kernel that silently leaves the output unwritten.
    maplist(row_output_json(Scalars), RowOuts, RowJ),
    cached_json(Passes, Final, Elem, Scalars, CachedJ).

row_output_json(Scalars, out(T, X), _{target: T, value: D}) :- rowlevel_data(Scalars, X, D).

%% cached_json(+Passes, +Final, +Elem, +Scalars, -Json): when the one element output is built
%  from the body of a statistic of the last pass (softmax: exp(x - max) / sum(exp(x - max))),
%  that pass can store the body into the output and the last pass read it back instead of
%  computing it again. The template does so where the output holds opmath values exactly.
cached_json(Passes, [out(T, X)], Elem, Scalars, _{pass: PI, index: SI, final: Body}) :-
    last(Passes, pass(Ss, _)), length(Passes, NP), PI is NP - 1,
    nth0(SI, Ss, stat(_, R, B)), memberchk(R, [sum, mean]), compound(B),
    sub_term(Sub, X), Sub == B, !,
    replace(X, B, tmp_cached, X1),
    element_json([X1], [tmp_cached|Elem], Scalars, Body0),
    target_json(T, TJ), Body = Body0.put(targets, [TJ]).
cached_json(_, _, _, _, null).

target_json(element(I), _{kind: element, name: I}) :- !.
target_json(column(I), _{kind: column, name: I}) :- !.
target_json(T, _{kind: element, name: T}).

passes_json([], _, _, _, []).
passes_json([pass(Ss, Ls)|Ps], Elem, Row, Avail0, [J|Js]) :-
    append(Row, Avail0, Scalars),
    findall(B, member(stat(_, _, B), Ss), Bs),
    element_json(Bs, Elem, Scalars, Body),
    maplist(stat_json, Ss, StatsJ),
    findall(N, member(stat(N, _, _), Ss), SNs),
    append(Avail0, SNs, Avail1),
    findall(N, member(let(N, _), Ls), LNs),
    append(Row, Avail1, Scalars1),
    lets_json(Ls, Scalars1, LetsJ),
    append(Avail1, LNs, Avail2),
    findall(_{name: N, value: D}, ( member(stat(N, recheck(_, X), _), Ss), rowlevel_data(Scalars, X, D) ), Recheck),
    J = Body.put(_{stats: StatsJ, lets_after: LetsJ, recheck: Recheck}),
    passes_json(Ps, Elem, Row, Avail2, Js).

stat_json(stat(N, sum_exp(M), _), _{name: N, reduction: sum_exp, shift: M}) :- !.
stat_json(stat(N, var(M), _), _{name: N, reduction: var, shift: M}) :- !.
stat_json(stat(N, m2(M), _), _{name: N, reduction: m2, shift: M}) :- !.
stat_json(stat(N, recheck(R, _), _), _{name: N, reduction: R, shift: null}) :- !.
stat_json(stat(N, R, _), _{name: N, reduction: R, shift: null}).

%% element_json(+Exprs, +Elem, +Scalars, -Dict): one generic lambda computing all Exprs.
element_json(Xs, Elem, Scalars, _{params: Params, scalars: Used, lets: Lets, results: Rs}) :-
    T =.. [t|Xs],
    reads(Elem, T, Ps1),
    in_order(Elem, Ps1, Ps2),       % keep the declared order
    Params = [col|Ps2],
    findall(S, ( member(S, Scalars), sub_term(X, T), X == S ), U0), sort(U0, U1),
    in_order(Scalars, U1, Used),
    cse(T, LetPairs, Body), Body =.. [t|Bodies],
    lets_data(LetPairs, Lets),
    maplist(expr_data, Bodies, Rs).

%% in_order(+Ordered, +Subset, -Kept): the members of Subset, in the order of Ordered.
in_order(Ordered, Subset, Kept) :- findall(V, ( member(V, Ordered), memberchk(V, Subset) ), Kept).

let_json(Scalars, let(N, X), _{name: N, value: D}) :- rowlevel_data(Scalars, X, D).

%% lets_json(+Lets, +Scalars, -Json): each let may read the lets before it (a factored sum's scale).
lets_json([], _, []).
lets_json([let(N, X)|Ls], Scalars, [J|Js]) :-
    let_json(Scalars, let(N, X), J), append(Scalars, [N], Scalars1), lets_json(Ls, Scalars1, Js).

%% rowlevel_data(+Scalars, +Expr, -Data): a row-level expression on opmath scalars: its body (body_data/2) and
%  the row scalars it reads, which its C++ names R_s (grimoire/emit/cpp.py's rowlevel).
rowlevel_data(Scalars, X, _{body: B, scalars: Used}) :-
    findall(S, ( member(S, Scalars), atom(S), sub_term(Y, X), Y == S ), U0), sort(U0, U1),
    maplist(atom_string, U1, Used),
    body_data(X, B).

% Kernels: CPU (templates/kinds/rowwise/csrc/[op]_cpu.cpp.j2) and CUDA ([op]_cuda.cu.j2).
ecs:kind_device(rowwise, cpu).
ecs:kind_device(rowwise, cuda).
