/*  PLUnit tests of the optimizer kind (optimizer.pl): specialisation by conditions, feasibility,
    lifting of constant subterms, rendering, and the derived schema of the bundled specs.
    Run by tests/test_plunit.py after every semantics file is consulted. */

:- begin_tests(optimizer_specialize).

test(bits_low_first, L == [[false, false], [true, false], [false, true], [true, true]]) :- bit_lists(2, L).
test(no_conditions, L == [[]]) :- bit_lists(0, L).
test(picks_then, S == 2 * grad) :- specialize(if(n, 2 * grad, grad), [n], [true], S).
test(picks_else, S == grad) :- specialize(if(n, 2 * grad, grad), [n], [false], S).
test(nested, S == a + c) :- specialize(a + if(x, b, if(y, c, d)), [x, y], [false, true], S).
test(condition_matched_by_structure, S == p) :-
    specialize(if((w =\= 0, \+ d), p, q), [(w =\= 0, \+ d)], [true], S).

:- end_tests(optimizer_specialize).

:- begin_tests(optimizer_feasible).

test(independent) :- feasible([a, b], [true, false]).
test(contradiction, fail) :- feasible([(w =\= 0, \+ d), (w =\= 0, d)], [true, true]).
test(both_false_possible) :- feasible([(w =\= 0, \+ d), (w =\= 0, d)], [false, false]).
test(implication) :- feasible([(a -> b), a], [true, false]).

:- end_tests(optimizer_feasible).

:- begin_tests(optimizer_lift).

test(maximal_uniform_subterms, Ts == [1 - beta1]) :-
    lifted_terms(m + (1 - beta1) * (g - m), [beta1], Ts).
test(tensor_terms_stay, Ts == []) :- lifted_terms(m * beta2 + g, [beta2], Ts).
test(lift_replaces, R == m + tmp_u0 * g) :- lift(m + (1 - beta1) * g, [1 - beta1], R).

:- end_tests(optimizer_lift).

:- begin_tests(optimizer_render).

% The C++ and Python of host values, conditions and programs is tests/test_emit.py's (grimoire/emit/).
test(text_cond, S == "if nesterov then momentum > 0 and dampening == 0") :-
    text_cond((nesterov -> momentum > 0, dampening =:= 0), S).
test(cse_numbered_across_rules, [L0, R0, L1, R1] =@= [[[0, _{op: mul, args: ["g", "g"]}]],
                                                      _{op: add, args: [_{op: tmp, args: [0]}, _{op: tmp, args: [0]}]},
                                                      [[1, _{op: mul, args: ["m", "m"]}]],
                                                      _{op: sub, args: [_{op: tmp, args: [1]}, _{op: tmp, args: [1]}]}]) :-
    rules_data([rule(update, m, g * g + g * g), rule(update, p, m * m - m * m)], 0, [A, B]),
    [L0, R0, L1, R1] = [A.lets, A.result, B.lets, B.result].

:- end_tests(optimizer_render).

:- begin_tests(optimizer_specs).

test(sgd_schema, S == "sgd_step(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] momentum_buffers, Tensor(c!)[] state_steps, float lr=0.001, float momentum=0.0, float dampening=0.0, float weight_decay=0.0, bool nesterov=False, bool maximize=False) -> ()") :-
    kind_schema(optimizer, sgd_step, S).
test(adam_prunes_contradictions, [N, Dead] == [24, 8]) :-   % x2: the lerp of exp_avg has two forms, as torch's
    variants(adam_step, _, Programs, VP, _), length(Programs, N),
    aggregate_all(count, member(-1, VP), Dead).
test(sgd_momentum_zero_leaves_buffer) :-
    program(sgd_step, [false, false, false, false], P),
    \+ ( member(rule(_, _, X), P), sub_term(momentum_buffer, X) ),
    \+ member(rule(update, momentum_buffer, _), P).
test(adam_lifts_one_minus_beta) :-
    variants(adam_step, _, _, _, Lifted), memberchk(1 - beta1, Lifted), memberchk(1 - beta2, Lifted).

:- end_tests(optimizer_specs).
