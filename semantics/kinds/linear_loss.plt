/*  PLUnit tests of the linear_loss kind (linear_loss.pl): how an op's inputs split into the product's
    operands and its loss's, the schemas derived for the bundled fused_linear_cross_entropy, and the
    losses the kind accepts. Run by tests/test_plunit.py after every semantics file is consulted. */

:- begin_tests(linear_loss_parts).

test(bundled_parts, [L, X, W, Rest, B] == [cross_entropy, x, weight, [target], bias]) :-
    parts(fused_linear_cross_entropy, L, X, W, Rest, B).
test(a_row_loss_is_accepted) :- loss_ok(cross_entropy).
test(an_elementwise_loss_is_refused, fail) :- loss_ok(mse_loss).
test(softmax_is_no_loss, fail) :- loss_ok(softmax).
test(gradients_flow_to_the_product, Ds == [x, weight, bias]) :-
    op_differentiable(fused_linear_cross_entropy, Ds).

:- end_tests(linear_loss_parts).

:- begin_tests(linear_loss_schemas).

test(schema_bias_optional_last) :-
    once(derived(fused_linear_cross_entropy, schema, S)),
    once(sub_string(S, _, _, _, "Tensor target, Tensor? bias=None, SymInt ignore_index=-100")).
test(forward_grad_returns_the_loss_and_three_gradients) :-
    once(derived(fused_linear_cross_entropy, forward_grad_schema, S)),
    sub_string(S, _, _, 0, "bool[3] output_mask) -> (Tensor, Tensor, Tensor, Tensor)").
test(backward_takes_required_attrs) :-
    once(derived(fused_linear_cross_entropy, backward_schema, S)),
    once(sub_string(S, _, _, _, "Tensor? bias, SymInt ignore_index, float label_smoothing, str reduction, SymInt? chunk_rows, bool[3]")).

:- end_tests(linear_loss_schemas).
