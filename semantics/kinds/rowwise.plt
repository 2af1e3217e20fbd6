/*  PLUnit tests of the rowwise planner and its derived backward (rowwise.pl). */

:- begin_tests(rowwise_extract).

test(reduction_becomes_stat, [Stats, Ys] == [[stat(tmp_s0, sum, x)], [x / tmp_s0]]) :-
    extract([x / sum(x)], [], Stats, Ys).
test(repeated_reduction_computed_once, Stats == [stat(tmp_s0, max, x), stat(tmp_s1, sum, exp(x - tmp_s0))]) :-
    extract([exp(x - max(x)) / sum(exp(x - max(x)))], [], Stats, _).
test(shared_across_outputs, N == 1) :-
    extract([sum(x) * 2, sum(x) + 1], [], Stats, _), length(Stats, N).

test(spec_stat_names_in_the_plans, [F, B] == [[[mu], [var]], [mu, var]]) :-
    with_stat_names(layer_norm, forward_plan(layer_norm, false, P)),
    findall(Ns, ( member(Q, P.passes), findall(N, member(_{name: N, reduction: _, shift: _}, Q.stats), Ns) ), F),
    with_stat_names(layer_norm, backward_plan(layer_norm, false, PB)),
    findall(N, ( member(Q, PB.passes), member(S, Q.stats), N = S.name, \+ sub_atom(N, 0, _, _, tmp_) ), B).
test(names_do_not_outlive_the_op, Stats == [stat(tmp_s0, mean, x)]) :-
    with_stat_names(layer_norm, true),
    extract([mean(x)], [], Stats, _).

:- end_tests(rowwise_extract).

:- begin_tests(rowwise_plan).

test(softmax_two_passes, [Ns == [[max], [sum]]]) :-
    plan([x, col], [out(y, element, exp(x - max(x)) / sum(exp(x - max(x))))], plan(_, Passes, _, _)),
    findall(Rs, ( member(pass(Ss, _), Passes), findall(R, member(stat(_, R, _), Ss), Rs) ), Ns).
test(independent_stats_share_a_pass, N == 1) :-
    plan([x, col], [out(y, row, sum(x) + max(x))], plan(_, Passes, _, _)), length(Passes, N).
test(row_scalars_hoisted, [Pre, Body] == [[], (x - tmp_s0) * tmp_r0]) :-
    plan([x, col], [out(y, element, (x - mean(x)) * rsqrt(mean(x * x) + eps))], plan(Pre, _, [out(y, Body)], _)).
test(division_by_row_scalar_multiplies, Body == x * tmp_r0) :-
    plan([x, col], [out(y, element, x / sum(x))], plan(_, _, [out(y, Body)], _)).
test(online_softmax_one_pass, Ss == [[stat(tmp_s0, max, x), stat(tmp_s1, sum_exp(tmp_s0), x)]]) :-
    plan([x, col], [out(y, element, exp(x - max(x)) / sum(exp(x - max(x))))], true, plan(_, Passes, _, _)),
    findall(S, member(pass(S, _), Passes), Ss).
test(online_needs_the_same_body, N == 2) :-
    plan([x, y, col], [out(z, row, log(sum(exp(y - max(x)))))], true, plan(_, Passes, _, _)), length(Passes, N).
test(online_cross_entropy_one_pass, N == 1) :-
    plan([x, col], [out(l, row, log(sum(exp(x - max(x)))) + max(x) - sum(where(col == t, x, 0)))], true,
         plan(_, Passes, _, _)),
    length(Passes, N).
% The CPU's plans: a variance about a mean of the same body joins the mean's pass (moments/3).
test(moments_layer_norm_one_pass, Ss == [[stat(tmp_s0, mean, x), stat(tmp_s1, var(tmp_s0), x)]]) :-
    plan([x, col], [out(y, element, (x - mean(x)) * rsqrt(mean((x - mean(x)) ** 2) + eps))], moments,
         plan(_, Passes, _, _)),
    findall(S, member(pass(S, _), Passes), Ss).
test(moments_sum_of_products, Rs == [mean, m2(tmp_s0)]) :-
    plan([x, col], [out(y, row, sum((x - mean(x)) * (x - mean(x))))], moments, plan(_, [pass(Ss, _)], _, _)),
    findall(R, member(stat(_, R, _), Ss), Rs).
test(moments_need_the_same_body, N == 2) :-
    plan([x, y, col], [out(z, row, mean((y - mean(x)) ** 2))], moments, plan(_, Passes, _, _)), length(Passes, N).
test(moments_only_in_the_cpu_plan, N == 2) :-
    plan([x, col], [out(y, row, mean((x - mean(x)) ** 2))], false, plan(_, Passes, _, _)), length(Passes, N).
test(plain_plan_keeps_two_passes, N == 2) :-
    plan([x, col], [out(y, element, exp(x - max(x)) / sum(exp(x - max(x))))], false, plan(_, Passes, _, _)),
    length(Passes, N).

% A sum scaled by a later statistic reduces its unscaled body in the earlier pass; the scaled statistic
% becomes a recheck, in a pass of its own after the scale's statistic (run only where the scaled sum
% is not finite).
test(scaled_sum_joins_the_earlier_pass, Ss == [[stat(tmp_s0, mean, x * x), stat(tmp_s1_unscaled, sum, g * x)]]) :-
    plan([g, x, col], [out(d, element, g + x * sum(g * x * rsqrt(mean(x * x))))], plan(_, [pass(S1, _)|_], _, _)),
    Ss = [S1].
test(scaled_sum_rechecked_after_its_scale, [N, R] == [2, recheck(sum, tmp_r0 * tmp_s1_unscaled)]) :-
    plan([g, x, col], [out(d, element, g + x * sum(g * x * rsqrt(mean(x * x))))], plan(_, Passes, _, _)),
    length(Passes, N), last(Passes, pass([stat(tmp_s1, R, _)], _)).
test(bare_numbers_stay_in, Ss == [[stat(tmp_s0, sum, 2 * x)]]) :-
    plan([x, col], [out(y, element, x * sum(2 * x))], plan(_, Passes, _, _)),
    findall(S, member(pass(S, _), Passes), Ss).
test(attrs_stay_in, Ss == [[stat(tmp_s0, sum, alpha * x)]]) :-
    plan([x, col], [out(y, element, x * sum(alpha * x))], plan(_, Passes, _, _)),
    findall(S, member(pass(S, _), Passes), Ss).
test(unscaled_sum_shared_with_an_equal_statistic, Ss == [[stat(tmp_s0, sum, x)], [stat(tmp_s1, recheck(sum, tmp_r0 * tmp_s0), x * tmp_r0)]]) :-
    plan([x, col], [out(y, element, x * sum(x) + sum(x * rsqrt(sum(x))))], plan(_, Passes, _, _)),
    findall(S, member(pass(S, _), Passes), Ss).
test(max_is_not_factored, N == 2) :-
    plan([x, col], [out(y, element, x - max(x * sum(x)))], plan(_, Passes, _, _)), length(Passes, N).

:- end_tests(rowwise_plan).

:- begin_tests(rowwise_guards).

% cross_entropy's online forward: its smoothing sum is read only where label_smoothing is not 0, so its
% pass is guarded; the pass of the max and the sum of exp never is.
test(smoothing_pass_guarded, [First, Not, Eq, Args] == [null, not, eq, ["label_smoothing", 0]]) :-
    rowwise:forward_plan(cross_entropy, true, P), findall(G, ( member(Q, P.passes), G = Q.guard ), [First, G2]),
    get_dict(op, G2, Not), get_dict(args, G2, [C]), get_dict(op, C, Eq), get_dict(args, C, Args).
test(unguarded_without_a_branch, Gs == [null, null]) :-
    rowwise:forward_plan(layer_norm, true, P), findall(G, ( member(Q, P.passes), G = Q.guard ), Gs).

:- end_tests(rowwise_guards).

:- begin_tests(rowwise_backward).

% The derived gradients of the bundled specs, checked symbolically at the points that matter.
test(sum_gradient_is_the_row_gradient, G == grad_y) :- input_gradient(sum, x, G).
test(mean_gradient_divides_by_n, G == grad_y / n) :- input_gradient(mean, x, G).
test(softmax_uses_the_given_gradient, G == y * (grad_y - sum(grad_y * y))) :- input_gradient(softmax, x, G).
test(log_softmax_derived_through_the_sum) :-
    input_gradient(log_softmax, x, G),
    once(( sub_term(sum(B), G), sub_term(grad_y, B) )), once(sub_term(exp(_), G)).
test(max_is_a_shift_without_gradient) :-
    input_gradient(log_softmax, x, G), \+ sub_term(where(_, _, _), G).
test(layer_norm_bias_gradient_is_the_incoming_one, G == grad_y) :- input_gradient(layer_norm, bias, G).
test(cross_entropy_target_not_differentiable, Ds == [x]) :- op_differentiable(cross_entropy, Ds).
% The variance reads x - mean(x): the mean's adjoint through it, sum(-2 * (x - mean(x))), is zero and
% dropped, so no sum of a deviation is left in the gradient (one statistic fewer in the backward).
test(layer_norm_drops_the_centered_sum) :-
    input_gradient(layer_norm, x, G),
    \+ ( sub_term(sum(B), G), multiple_of(B, x - mean(x)) ).
test(centered_multiples, [nondet]) :-
    multiple_of(-(2 * (x - m)), x - m), multiple_of((x - m) * 3, x - m), \+ multiple_of(x * (x - m), x - m).

:- end_tests(rowwise_backward).

:- begin_tests(rowwise_peer_form).

% How a peer takes its arguments decides the wrapper's signature: dim after the inputs (torch.sum),
% a norm's normalized_shape, or attrs by name (a loss).
test(dim_after_inputs, [DA, NS, KW] == [true, false, false]) :-
    peer_form(softmax, F), F.dim_after_inputs = DA, F.normalized_shape = NS, F.keywords = KW.
test(norm_takes_normalized_shape, [DA, NS, C] == [false, true, 'torch.nn.functional.layer_norm']) :-
    peer_form(layer_norm, F), F.dim_after_inputs = DA, F.normalized_shape = NS, F.callee = C.
test(loss_takes_attrs_by_name, [DA, KW] == [false, true]) :-
    peer_form(cross_entropy, F), F.dim_after_inputs = DA, F.keywords = KW.
test(no_peer, fail) :-
    peer_form(no_such_op, _).

:- end_tests(rowwise_peer_form).
