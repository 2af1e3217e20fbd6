/*  Expressions: the whitelisted term grammar of forward and gradient expressions,
    symbolic differentiation, simplification, common-subexpression elimination, and the
    expressions as data (expr_data/2): grimoire/emit/ writes their C++ and Python, not Prolog.

    Nothing outside the grammar reaches a template: expr_problem/3 names it first.
*/

:- module(expr, [
    % The grammar, as data.
    unary_fn/2, binop/1, cmp_op/1, cmp_canonical/2, constant_name/2, grammar_form/2, expr_problem/3,
    % The calculus.
    normalize/2, d/3, gradient/4, simplify/2, cse/3, cse/4, replace/4,
    % Expressions as data for grimoire/expr.py (code text is made in grimoire/emit/).
    expr_data/2, body_data/2, lets_data/2
]).

%% unary_fn(Name, TorchReference)
unary_fn(exp, 'torch.exp').
unary_fn(log, 'torch.log').
unary_fn(log1p, 'torch.log1p').
unary_fn(sqrt, 'torch.sqrt').
unary_fn(rsqrt, 'torch.rsqrt').
unary_fn(sin, 'torch.sin').
unary_fn(cos, 'torch.cos').
unary_fn(tanh, 'torch.tanh').
unary_fn(sigmoid, 'torch.sigmoid').
unary_fn(erf, 'torch.erf').
unary_fn(abs, 'torch.abs').
unary_fn(relu, 'torch.relu').
unary_fn(softplus, 'torch.nn.functional.softplus').
unary_fn(sign, 'torch.sign').

binop(+). binop(-). binop(*). binop(/).
cmp_op(>). cmp_op(<). cmp_op(>=). cmp_op(=<). cmp_op(=:=). cmp_op(=\=). cmp_op(==). cmp_op(\==).

% One spelling per comparison: == and \== read naturally, =:= and =\= are Prolog's arithmetic ones.
cmp_canonical(==, =:=) :- !.
cmp_canonical(\==, =\=) :- !.
cmp_canonical(Op, Op).

constant_name(pi, 3.141592653589793).

%% grammar_form(Form, Meaning): the forms expr_problem/3 accepts beyond names, numbers and unary_fn
%  calls, for the spec-language reference (grimoire vocab).
grammar_form("A + B, A - B, A * B, A / B, -A", "arithmetic; operands broadcast as torch's do").
grammar_form("pow(A, N), A ** N, A ^ N", "power with a number N").
grammar_form("max(A, C), min(A, C)", "elementwise maximum / minimum with a number C (NaN propagates, as torch.clamp)").
grammar_form("where(L op R, A, B)", "A where the comparison holds, else B; op is one of > < >= =< == \\==").
grammar_form("f(A)", "one of the unary functions below, as its torch reference computes it").

%% expr_problem(+Expr, +Vars, -Problem): Problem describes the first part of Expr outside the grammar.
expr_problem(E, _, P) :- var(E), !, P = "an unbound Prolog variable (names must start lower-case: write x, not X)".
expr_problem(E, _, _) :- number(E), !, fail.
expr_problem(E, _, P) :- string(E), !,
    format(string(P), "~q is a string, not a number or a name: write numbers without quotes, e.g. 2", [E]).
expr_problem(E, Vars, P) :- atom(E), !,
    \+ memberchk(E, Vars), \+ constant_name(E, _),
    atomic_list_concat(Vars, ', ', VL),
    format(string(P), "unknown name '~w' (known: ~w, pi)", [E, VL]).
expr_problem(E, _, P) :- compound(E), compound_name_arity(E, '.', 2), !, arg(1, E, A), arg(2, E, M),
    ( compound(M) -> compound_name_arguments(M, F, MArgs) ; F = M, MArgs = [] ),
    Call =.. [F, A|MArgs],
    format(string(P), "~q is a method call, which the grammar does not have: write the function, e.g. ~q", [E, Call]).
expr_problem(E, _, P) :- compound(E), compound_name_arity(E, F, 0), !,
    format(string(P), "~w() has no arguments: write ~w(x) or the name alone", [F, F]).
expr_problem(E, _, P) :- constant_problem(E, P), !.
expr_problem(E, Vars, P) :- E =.. [Op, A, B], binop(Op), !, ( expr_problem(A, Vars, P) -> true ; expr_problem(B, Vars, P) ).
expr_problem(-A, Vars, P) :- !, expr_problem(A, Vars, P).
expr_problem(pow(A, N), Vars, P) :- !, ( \+ number(N) -> format(string(P), "pow exponent ~q must be a number", [N]) ; expr_problem(A, Vars, P) ).
expr_problem(A ** N, Vars, P) :- !, expr_problem(pow(A, N), Vars, P).
expr_problem(A ^ N, Vars, P) :- !, expr_problem(pow(A, N), Vars, P).
expr_problem(max(A, C), Vars, P) :- !, ( \+ number(C) -> format(string(P), "max(_, C) needs a number C, got ~q", [C]) ; expr_problem(A, Vars, P) ).
expr_problem(min(A, C), Vars, P) :- !, ( \+ number(C) -> format(string(P), "min(_, C) needs a number C, got ~q", [C]) ; expr_problem(A, Vars, P) ).
expr_problem(where(C, A, B), Vars, P) :- !,
    (   C =.. [Op, L, R], cmp_op(Op)
    ->  ( expr_problem(L, Vars, P) -> true ; expr_problem(R, Vars, P) -> true
        ; expr_problem(A, Vars, P) -> true ; expr_problem(B, Vars, P) )
    ;   format(string(P), "where/3 needs a comparison (>, <, >=, =<, ==, \\==) first, got ~q", [C])
    ).
expr_problem(E, Vars, P) :- E =.. [F, A], unary_fn(F, _), !, expr_problem(A, Vars, P).
expr_problem(E, _, P) :-
    functor(E, F, N),
    findall(U, unary_fn(U, _), Us), atomic_list_concat(Us, ', ', UL),
    format(string(P), "~w/~w is not in the expression grammar (+ - * / pow max min where ~w)", [F, N, UL]).

%% constant_problem(+Expr, -Problem): Expr is arithmetic over numbers alone (or divides by a literal 0)
%  and has no finite value: pow(0, -1), pow(-8, 0.5), pow(2.0, 2000), 1 / 0. Folding it would fail, and the
%  generated kernel would compute inf or NaN for every element: refuse it where it is written.
constant_problem(E, P) :-
    compound(E), E =.. [Op, _, B], memberchk(Op, [/]), number(B), B =:= 0, !,
    format(string(P), "~W divides by zero: write the value you mean, or drop the term", [E, [quoted(true), spacing(next_argument)]]).
constant_problem(E, P) :-
    compound(E), E =.. [Op|Args], Args \== [], memberchk(Op, [+, -, *, /, pow, **, ^]),
    forall(member(A, Args), number(A)),
    normalize(E, N), arith_term(N, T),
    catch(( V is T, ( float(V), float_class(V, C), memberchk(C, [nan, infinite]) -> Err = evaluation_error(C) ; Err = none ) ),
          error(Err0, _), Err = Err0),
    Err \== none, !,
    evaluation_words(Err, Words),
    format(string(P), "~W ~w: write the value you mean, or drop the term", [E, [quoted(true), spacing(next_argument)], Words]).

arith_term(pow(A, N), A ** N) :- !.
arith_term(T, T).

evaluation_words(evaluation_error(zero_divisor), "divides by zero") :- !.
evaluation_words(evaluation_error(undefined), "is undefined (a negative base to a fractional power, or 0/0)") :- !.
evaluation_words(evaluation_error(float_overflow), "overflows a double") :- !.
evaluation_words(evaluation_error(float_underflow), "underflows a double") :- !.
evaluation_words(evaluation_error(infinite), "is infinite") :- !.
evaluation_words(evaluation_error(nan), "is not a number (NaN)") :- !.
evaluation_words(E, W) :- format(string(W), "has no value (~q)", [E]).

%% fold(+Arithmetic, -Value): Value is Arithmetic when it evaluates to a finite number that C++ can spell
%  (an integer within int64); fails otherwise, leaving the term unfolded (expr_problem/3 names it).
fold(T, V) :-
    catch(V0 is T, _, fail),
    (   integer(V0) -> V0 >= -9223372036854775808, V0 =< 9223372036854775807
    ;   float(V0), float_class(V0, C), \+ memberchk(C, [nan, infinite])
    ),
    V = V0.

%% normalize(+Expr, -Canonical): one spelling per operation.
normalize(E, E) :- ( number(E) ; atom(E) ), !.
normalize(A ** N, pow(A1, N)) :- !, normalize(A, A1).
normalize(A ^ N, pow(A1, N)) :- !, normalize(A, A1).
normalize(where(C, A, B), where(C1, A1, B1)) :- !,
    C =.. [Op0, L, R], cmp_canonical(Op0, Op), normalize(L, L1), normalize(R, R1), C1 =.. [Op, L1, R1],
    normalize(A, A1), normalize(B, B1).
normalize(E, E1) :- E =.. [F|Args], maplist(normalize_arg(F), Args, Args1), E1 =.. [F|Args1].
normalize_arg(F, A, A) :- memberchk(F, [pow, max, min]), number(A), !.
normalize_arg(_, A, A1) :- normalize(A, A1).

% ---------------------------------------------------------------------------------------------
% Differentiation: d(+Expr, +Var, -Derivative); Expr normalized, result unsimplified.
% ---------------------------------------------------------------------------------------------

d(X, V, 1) :- X == V, !.
d(X, _, 0) :- ( number(X) ; atom(X) ), !.
d(A + B, V, DA + DB) :- !, d(A, V, DA), d(B, V, DB).
d(A - B, V, DA - DB) :- !, d(A, V, DA), d(B, V, DB).
d(A * B, V, DA * B + A * DB) :- !, d(A, V, DA), d(B, V, DB).
% Not (DA * B - A * DB) / (B * B): at B = 0 that gives 0/0 = NaN for d/dA where torch gives DA / B = inf.
% And (A / B) / B, not A / (B * B), as torch's div backward: B * B underflows to 0 in float32 for
% |B| < 1e-23 (and overflows for |B| > 2e19) where the quotient taken twice stays finite.
d(A / B, V, DA / B - A / B / B * DB) :- !, d(A, V, DA), d(B, V, DB).
d(-A, V, -DA) :- !, d(A, V, DA).
d(pow(A, N), V, N * pow(A, N1) * DA) :- !, N1 is N - 1, d(A, V, DA).
d(exp(A), V, exp(A) * DA) :- !, d(A, V, DA).
d(log(A), V, DA / A) :- !, d(A, V, DA).
d(log1p(A), V, DA / (1 + A)) :- !, d(A, V, DA).
d(sqrt(A), V, DA / (2 * sqrt(A))) :- !, d(A, V, DA).
d(rsqrt(A), V, -0.5 * rsqrt(A) / A * DA) :- !, d(A, V, DA).
d(sin(A), V, cos(A) * DA) :- !, d(A, V, DA).
d(cos(A), V, -(sin(A)) * DA) :- !, d(A, V, DA).
d(tanh(A), V, (1 - tanh(A) * tanh(A)) * DA) :- !, d(A, V, DA).
d(sigmoid(A), V, sigmoid(A) * (1 - sigmoid(A)) * DA) :- !, d(A, V, DA).
d(erf(A), V, 1.1283791670955126 * exp(-(A * A)) * DA) :- !, d(A, V, DA).   % 2/sqrt(pi)
d(abs(A), V, sign(A) * DA) :- !, d(A, V, DA).
d(sign(_), _, 0) :- !.
% The kinks as torch's own backwards: relu passes the gradient unless A =< 0 (a NaN input passes it,
% as threshold_backward does); clamp_min/clamp_max pass it at equality too.
d(relu(A), V, where(A =< 0, 0, DA)) :- !, d(A, V, DA).
d(softplus(A), V, sigmoid(A) * DA) :- !, d(A, V, DA).
d(max(A, C), V, where(A >= C, DA, 0)) :- !, d(A, V, DA).
d(min(A, C), V, where(A =< C, DA, 0)) :- !, d(A, V, DA).
d(where(C, A, B), V, where(C, DA, DB)) :- !, d(A, V, DA), d(B, V, DB).

%% gradient(+Expr, +Var, +Grad, -GradExpr): Grad * dExpr/dVar, simplified.
gradient(Expr, Var, Grad, G) :-
    normalize(Expr, N), d(N, Var, D), simplify(Grad * D, G).

% ---------------------------------------------------------------------------------------------
% Simplification to a fixpoint
% ---------------------------------------------------------------------------------------------

simplify(E, S) :- simp(E, E1), ( E1 == E -> S = E ; simplify(E1, S) ).

simp(E, E) :- ( number(E) ; atom(E) ), !.
simp(where(C, A, B), R) :- !, simp(A, A1), simp(B, B1), ( A1 == B1 -> R = A1 ; R = where(C, A1, B1) ).
% Deterministic: the arguments once, then the first rule that applies (else the term as it is). Two clauses
% that each simplified the arguments made every failure downstream retry them exponentially.
simp(E, R) :- E =.. [F|Args], maplist(simp, Args, Args1), E1 =.. [F|Args1], ( rule(E1, R0) -> R = R0 ; R = E1 ).

rule(A + B, C) :- number(A), number(B), fold(A + B, C).
rule(A - B, C) :- number(A), number(B), fold(A - B, C).
rule(A * B, C) :- number(A), number(B), fold(A * B, C).
rule(A / B, C) :- number(A), number(B), B =\= 0, fold(A / B, C).
rule(-A, C) :- number(A), fold(-A, C).
rule(0 + A, A). rule(A + 0, A).
rule(A - 0, A). rule(0 - A, -A).
rule(A * B, 0) :- ( A == 0 ; B == 0 ).
rule(1 * A, A). rule(A * 1, A).
rule(A / 1, A).
% A * (1 / B) as A / B: the reciprocal of a denormal B overflows to inf where the quotient is finite
% (div's gradient at y = 1e-39), and torch divides.
rule(A * (N / B), A / B) :- N == 1.
rule(A * (N / B), A / B) :- N == 1.0.
rule(0 / _, 0).
rule(-(-A), A).
rule(A + -B, A - B).
rule(A - -B, A + B).
rule(-A * B, -(A * B)).
rule(A * -B, -(A * B)).
rule(-1 * A, -A). rule(A * -1, -A).
rule(A * B, B * A) :- number(B), \+ number(A).           % constants to the left
rule(A * (B * C), D * C) :- number(A), number(B), fold(A * B, D).  % fold nested constants
rule(pow(_, 0), 1).
rule(pow(A, 1), A).
rule(pow(A, N), C) :- number(A), number(N), fold(A ** N, C).
rule(1.0 * A, A).
rule(A * 1.0, A).

% ---------------------------------------------------------------------------------------------
% Common-subexpression elimination: costly subterms used twice become let-bindings.
% ---------------------------------------------------------------------------------------------

%% cse(+Expr, -Lets, -Body): Lets = [tmp(I)-Expr, ...] in dependency order.
%% cse(+Expr, +First, -Lets, -Body): the same, numbering the temporaries from First.
cse(E, Lets, Body) :- cse(E, 0, Lets, Body).
cse(E, I, [tmp(I)-S|Lets], Body) :-
    shared_subterm(E, S), !,
    replace(E, S, tmp(I), E1), E1 \== E, I1 is I + 1, cse(E1, I1, Lets, Body).
cse(E, _, [], E).

shared_subterm(E, S) :-
    findall(Sz-T, (sub_term(T, E), costly(T), term_size(T, Sz)), Ts),
    msort(Ts, Sorted), member(_-S, Sorted),
    occurrences(S, E, N), N >= 2, !.

% A comparison is never a temporary: it is where()'s condition, which the renderers read as L op R
% (a condition used twice, as in where(eps == 0, ...) + where(eps == 0, ...), stays inline).
costly(T) :- compound(T), \+ T = tmp(_), \+ ( T = -(A), ( atom(A) ; number(A) ) ),
    \+ ( T =.. [Op, _, _], cmp_op(Op) ).

occurrences(S, E, N) :- aggregate_all(count, (sub_term(T, E), T == S), N).

replace(E, S, R, R) :- E == S, !.
replace(E, _, _, E) :- \+ compound(E), !.
replace(E, S, R, E1) :- E =.. [F|As], replace_all(As, S, R, As1), E1 =.. [F|As1].
replace_all([], _, _, []).
replace_all([A|As], S, R, [B|Bs]) :- replace(A, S, R, B), replace_all(As, S, R, Bs).

% ---------------------------------------------------------------------------------------------
% Expressions as data: grimoire/expr.py decodes them, grimoire/emit/ writes their code
% ---------------------------------------------------------------------------------------------

%% expr_data(+Expr, -Data): Expr as JSON-ready data: a number, a name (a string), or _{op: Op, args: Data}
%  with the operators named (add sub mul div neg, gt lt ge le eq ne; pow for ** and ^; not and or implies for
%  the optimizer's conditions \+ , ; ->) and every other functor as it is (if/3 among them). A named constant
%  is _{op: const, args: [Name]}: the host's Python spells pi math.pi where the rest write its value. Fails on
%  what is neither (an unbound variable, a string): nothing else reaches code.
expr_data(E, E) :- number(E), !.
expr_data(E, _{op: const, args: [D]}) :- atom(E), constant_name(E, _), !, atom_string(E, D).
expr_data(E, D) :- atom(E), !, atom_string(E, D).
expr_data(E, _{op: Op, args: Ds}) :-
    compound(E), compound_name_arguments(E, F, As),
    length(As, N), ( op_word(F, N, W) -> Op = W ; Op = F ),
    maplist(expr_data, As, Ds).

op_word(+, 2, add). op_word(-, 2, sub). op_word(*, 2, mul). op_word(/, 2, div). op_word(-, 1, neg).
op_word(>, 2, gt). op_word(<, 2, lt). op_word(>=, 2, ge). op_word(=<, 2, le).
op_word(=:=, 2, eq). op_word(=\=, 2, ne). op_word(==, 2, eq). op_word(\==, 2, ne).
op_word(**, 2, pow). op_word(^, 2, pow).
op_word(\+, 1, not). op_word(',', 2, and). op_word(;, 2, or). op_word(->, 2, implies).

%% body_data(+Expr, -Data): Expr after common-subexpression elimination, as data:
%  _{lets: [[I, Data], ...], result: Data}, temporaries (tmp(I)) in dependency order.
body_data(Expr, _{lets: Lets, result: R}) :-
    cse(Expr, Pairs, Body), lets_data(Pairs, Lets), expr_data(Body, R).

%% lets_data(+Lets, -Data): cse/3's [tmp(I)-Expr, ...] as [[I, Data], ...].
lets_data(Pairs, Lets) :- maplist([tmp(I)-X, [I, D]]>>expr_data(X, D), Pairs, Lets).
