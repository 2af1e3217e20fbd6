/*  PLUnit tests of the custom kind (custom.pl) on ad-hoc specs (no bundled op is custom): the output shapes,
    ranks, minimum dims and samples handed to the templates, the backward schema, which shapes are well
    formed, and the violations of shapes, ranks and samples that disagree. Run by tests/test_plunit.py after
    every semantics file is consulted. */

%  The ad-hoc ops the units below assert (setup) and retract (cleanup): tst_custom is valid (two outputs,
%  a rank, one input differentiable); tst_custom_dims reads dims -1 and 2 of an unranked input; tst_custom_bad
%  and tst_custom_cpu are malformed.
custom_test_spec(tst_custom, [input-x, input-w, attr-(scale: float), output-y, output-rowsum, rank-(x = 2), shape-(y = like(x)),
                              shape-(rowsum = [size(x, 0)]), reference-"(scale * x * w, (x * w).sum(dim=1))", differentiable-[x],
                              sample-[[3, 5], [5]], sample-[[0, 4], [4]], bench_sample-[[64, 64], [64]]]).
custom_test_spec(tst_custom_dims, [input-a, input-b, output-o, shape-(o = [size(a, -1), 4, size(a, 2)]), reference-"a[..., 0] + b",
                                   sample-[[2, 3, 4], [4]], sample-[[2, 3], [3]]]).
custom_test_spec(tst_custom_bad, [input-x, output-o, output-p, rank-(x = 2), shape-(o = [size(x, 2)]), shape-(o = like(x)),
                                  reference-"x", sample-[[2, 3, 4]], forward-(o = x)]).
custom_test_spec(tst_custom_cpu, [input-x, output-o, shape-(o = like(x)), reference-"x", sample-[[3]]]).
custom_test_assert :- forall(custom_test_spec(E, Cs), ( assertz(entity(E)), assertz(component(E, kind, custom)),
                                                      forall(member(K-V, Cs), assertz(component(E, K, V))) )).
custom_test_retract :- forall(custom_test_spec(E, _), ( retractall(component(E, _, _)), retractall(entity(E)) )).

:- begin_tests(custom_shapes, [setup(custom_test_assert), cleanup(custom_test_retract)]).

test(like_an_input) :- shape_ok(tst_custom, y = like(x)).
test(sizes_and_literals) :- shape_ok(tst_custom, rowsum = [size(x, 0), 3, size(w, -1)]).
test(malformed, [forall(member(S, [y = like(q), q = like(x), y = [-1], y = [size(x, d)], y = [size(q, 0)], y = [2.0], y = size(x, 0)])), fail]) :-
    shape_ok(tst_custom, S).
test(min_dims_from_positive_and_negative_dims, N == 3) :- min_dims(tst_custom_dims, a, N).
test(min_dims_of_an_unread_input, N == 0) :- min_dims(tst_custom_dims, b, N).
test(shape_list, [forall(member(D, [[], [0, 3]]))]) :- shape_list(D).
test(not_a_shape_list, [forall(member(D, [[-1], [2.5], [a], 3])), fail]) :- shape_list(D).

:- end_tests(custom_shapes).

:- begin_tests(custom_derived, [setup(custom_test_assert), cleanup(custom_test_retract)]).

%  dims(+Dicts, -Triples): the dims of a derived shape as Input-Dim-Size.
dims(Ds, Ts) :- findall(I-D-S, ( member(X, Ds), get_dict(input, X, I), get_dict(dim, X, D), get_dict(size, X, S) ), Ts).
custom_of(E, C) :- once(derived(E, custom, C)).

test(shapes, Ss == [y-x-[], rowsum-null-[x-0-null]]) :-
    custom_of(tst_custom, C),
    findall(O-L-Ts, ( member(S, C.shapes), get_dict(output, S, O), get_dict(like, S, L), get_dict(dims, S, Ds), dims(Ds, Ts) ), Ss).
test(literal_and_negative_dims, Ts == [a-(-1)-null, null-0-4, a-2-null]) :-
    custom_of(tst_custom_dims, C), C.shapes = [S], dims(S.dims, Ts).
test(ranks, Rs == [x-2]) :-
    custom_of(tst_custom, C), findall(I-R, ( member(X, C.ranks), get_dict(input, X, I), get_dict(rank, X, R) ), Rs).
test(ranked_input_has_no_min_dims, Ms == []) :- custom_of(tst_custom, C), Ms = C.min_dims.
test(min_dims_of_unranked_inputs, Ms == [a-3]) :-
    custom_of(tst_custom_dims, C), findall(I-N, ( member(X, C.min_dims), get_dict(input, X, I), get_dict(dims, X, N) ), Ms).
test(samples_in_order, [S, B] == [[[[3, 5], [5]], [[0, 4], [4]]], [[[64, 64], [64]]]]) :-
    custom_of(tst_custom, C), S = C.samples, B = C.bench_samples.
test(reference_py, R == "(scale * x * w, (x * w).sum(dim=1))") :- once(derived(tst_custom, reference_py, R)).
test(asserted_reference_has_no_line, L == 0) :- custom_of(tst_custom, C), L = C.reference_line.
test(schema_two_outputs, S == "tst_custom(Tensor x, Tensor w, float scale) -> (Tensor, Tensor)") :- once(derived(tst_custom, schema, S)).
test(backward_takes_every_output_gradient, S == "tst_custom_backward(Tensor grad_y, Tensor grad_rowsum, Tensor x, Tensor w, Tensor y, Tensor rowsum, float scale) -> Tensor") :-
    once(derived(tst_custom, backward_schema, S)).
test(backward_one_gradient_per_input, S == "tst_custom_dims_backward(Tensor grad_o, Tensor a, Tensor b, Tensor o) -> (Tensor, Tensor)") :-
    once(derived(tst_custom_dims, backward_schema, S)).
test(valid, Ws == []) :- findall(W, kind_violation(custom, tst_custom-W-_), Ws).

:- end_tests(custom_derived).

:- begin_tests(custom_violations, [setup(custom_test_assert), cleanup(custom_test_retract)]).

blamed(E, Ws) :- findall(W, kind_violation(custom, E-W-_), Ws).

test(sample_too_short_for_a_size, Ws == [component(tst_custom_dims, sample, [[2, 3], [3]])]) :- blamed(tst_custom_dims, Ws).
test(every_disagreement_blamed, Ws == [component(tst_custom_bad, output, p), component(tst_custom_bad, shape, o = like(x)),
                                       component(tst_custom_bad, sample, [[2, 3, 4]]), component(tst_custom_bad, forward, o = x),
                                       component(tst_custom_bad, shape, o = [size(x, 2)])]) :-
    blamed(tst_custom_bad, Ws).
test(sample_against_the_rank) :-
    once(( kind_violation(custom, tst_custom_bad-component(_, sample, _)-M), sub_string(M, _, _, _, "gives x 3 dims, but its rank is 2") )).
test(size_beyond_the_rank) :-
    once(( kind_violation(custom, tst_custom_bad-component(_, shape, o = [_])-M), sub_string(M, _, _, _, "reads size(x, 2), but x has rank 2") )).
test(name_clashes_with_a_source_file, Ws == [entity(tst_custom_cpu)]) :- blamed(tst_custom_cpu, Ws).

:- end_tests(custom_violations).
