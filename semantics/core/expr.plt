/*  PLUnit tests of the expression calculus (expr.pl). Run by tests/test_plunit.py after every
    semantics file is consulted; knowledge.load/1 only loads *.pl, so this file never reaches it. */

:- begin_tests(expr_derivative).

%  Derivatives are compared after simplification: the raw output of d/3 is not meant to be read.
deriv(E, V, S) :- normalize(E, N), d(N, V, D), simplify(D, S).

test(add, S == 1)                      :- deriv(x + y, x, S).
test(sub, S == -1)                     :- deriv(x - y, y, S).
test(mul, S == y)                      :- deriv(x * y, x, S).
test(div_numerator, S == 1 / y)  :- deriv(x / y, x, S).   % not y / (y * y): NaN at y = 0
test(div_denominator, S == -(x / y / y)) :- deriv(x / y, y, S).   % torch's (x / y) / y: no y * y to underflow
test(exp, S == exp(x))                 :- deriv(exp(x), x, S).
test(exp_chain, S == 2 * exp(2 * x))   :- deriv(exp(2 * x), x, S).
test(log, S == 1 / x)                  :- deriv(log(x), x, S).
test(sigmoid, S == sigmoid(x) * (1 - sigmoid(x))) :- deriv(sigmoid(x), x, S).
test(tanh, S == 1 - tanh(x) * tanh(x)) :- deriv(tanh(x), x, S).
test(pow, S == 3 * pow(x, 2))          :- deriv(pow(x, 3), x, S).
test(pow_operator, S == 2 * x)         :- deriv(x ** 2, x, S).
test(relu, S == where(x =< 0, 0, 1))    :- deriv(relu(x), x, S).   % NaN passes, as torch
test(where, S == where(x > 0, x + x, 2)) :- deriv(where(x > 0, x * x, 2 * x), x, S).
test(sqrt, S == 1 / (2 * sqrt(x)))     :- deriv(sqrt(x), x, S).
test(other_variable_is_constant, S == 0) :- deriv(exp(beta), x, S).
test(gradient_scales_by_incoming, G == grad_y * exp(x)) :- gradient(exp(x), x, grad_y, G).

:- end_tests(expr_derivative).

:- begin_tests(expr_simplify).

test(zero_times, S == 0)    :- simplify(0 * x, S).
test(times_zero, S == 0)    :- simplify(x * 0, S).
test(one_times, S == x)     :- simplify(1 * x, S).
test(plus_zero, S == x)     :- simplify(x + 0, S).
test(fold, S == 7)          :- simplify(2 * 3 + 1, S).
test(fold_pow, S == 8)      :- simplify(pow(2, 3), S).
test(fold_nested, S == 6 * x) :- simplify(2 * (3 * x), S).
test(constant_left, S == 2 * x) :- simplify(x * 2, S).
test(double_negation, S == x) :- simplify(-(-x), S).

:- end_tests(expr_simplify).

:- begin_tests(expr_cse).

test(repeated_sigmoid, [Lets, Body] == [[tmp(0)-sigmoid(x)], tmp(0) * (1 - tmp(0))]) :-
    cse(sigmoid(x) * (1 - sigmoid(x)), Lets, Body).
test(nothing_shared, [Lets, Body] == [[], x * sigmoid(y)]) :-
    cse(x * sigmoid(y), Lets, Body).
% A condition used twice stays inline: where()'s renderers read it as L op R, and a let in its place made
% the whole rendering fail (a loss's output write vanished from the kernel).
test(cse_keeps_conditions, Lets == []) :-
    cse(where(e =:= 0, 1, x) + where(e =:= 0, 2, y), Lets, _).

:- end_tests(expr_cse).

:- begin_tests(expr_normalize).

% The C++ and Python text of expressions is tests/test_emit.py's (grimoire/emit/ writes it).
test(equality_reads_either_way, N == where(t =:= c, 1, 0)) :- normalize(where(t == c, 1, 0), N).
test(inequality_reads_either_way, N == where(t =\= c, x, 0)) :- normalize(where(t \== c, x, 0), N).

:- end_tests(expr_normalize).

:- begin_tests(expr_problem).

mentions(P, Part) :- once(sub_string(P, _, _, _, Part)).

test(in_grammar, fail) :- expr_problem(x * sigmoid(beta * x) + pi, [x, beta], _).
test(unknown_name) :-
    expr_problem(x * gamma, [x], P), mentions(P, "unknown name 'gamma'").
test(unknown_function) :-
    expr_problem(foo(x), [x], P), mentions(P, "foo/1 is not in the expression grammar").
test(prolog_variable) :-
    expr_problem(_ * 2, [x], P), mentions(P, "unbound Prolog variable").
test(pow_needs_number) :-
    expr_problem(pow(x, x), [x], P), mentions(P, "pow exponent").

:- end_tests(expr_problem).

:- begin_tests(expr_data).

% =@=: each dict has a fresh tag variable.

test(names_numbers_and_ops, D =@= _{op: mul, args: ["x", _{op: sigmoid, args: [_{op: mul, args: ["beta", "x"]}]}]}) :-
    expr_data(x * sigmoid(beta * x), D).
test(operators_are_words, D =@= _{op: where, args: [_{op: ne, args: ["t", "c"]}, _{op: neg, args: ["x"]}, 0.5]}) :-
    normalize(where(t \== c, -x, 0.5), N), expr_data(N, D).
% A constant stays named: the optimizer host's Python spells it math.pi, the rest its value.
test(constants_are_named, D =@= _{op: const, args: ["pi"]}) :- expr_data(pi, D).
% The optimizer's host forms: if/3, powers by any spelling, the connectives of conditions.
test(host_forms_are_words, D =@= _{op: if, args: [_{op: implies, args: ["a", _{op: not, args: [_{op: and, args: ["b", "c"]}]}]},
                                                  _{op: pow, args: ["x", "step"]}, _{op: or, args: ["d", _{op: pow, args: ["y", 2]}]}]}) :-
    expr_data(if((a -> \+ (b, c)), x ** step, (d ; y ^ 2)), D).
test(a_name_that_json_would_read_as_a_constant_stays_a_string, D == "true") :- expr_data(true, D).
test(an_unbound_variable_is_no_data, fail) :- expr_data(_ + 1, _).
test(a_string_is_no_data, fail) :- expr_data("x" + 1, _).
test(body_lets_in_order, B =@= _{lets: [[0, _{op: sigmoid, args: ["x"]}]],
                                result: _{op: mul, args: [_{op: tmp, args: [0]}, _{op: sub, args: [1, _{op: tmp, args: [0]}]}]}}) :-
    body_data(sigmoid(x) * (1 - sigmoid(x)), B).

:- end_tests(expr_data).
