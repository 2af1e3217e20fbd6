/*  PLUnit tests of the helpers the checks rely on (ecs.pl, checks.pl). Facts are global, so
    violations themselves are tested from Python on whole broken specs (tests/broken_specs/);
    here only pure helpers, and queries over the real specs loaded beside this file. */

:- begin_tests(identifiers).

test(valid_identifier, forall(member(A, [x, my_op, beta2, parametric_swish]))) :-
    valid_identifier(A).
test(invalid_identifier, [forall(member(A, ['MyOp', double, class, self, grad_x, tmp_1, '_x', '1x', 'a-b', "x"])), fail]) :-
    valid_identifier(A).
test(valid_class_name, forall(member(A, ['ParametricSwish', 'Op2', 'A']))) :-
    valid_class_name(A).
test(invalid_class_name, [forall(member(A, [parametric_swish, 'Foo-Bar', '2Op'])), fail]) :-
    valid_class_name(A).
test(camel_case, C == 'ParametricSwish') :- camel_case(parametric_swish, C).
test(camel_case_one_word, C == 'Relu') :- camel_case(relu, C).

:- end_tests(identifiers).

:- begin_tests(attrs).

test(with_default, [N, T, D] == [beta, float, default(1.0)]) :- attr_parts(beta: float = 1.0, N, T, D).
test(optional_default, [N, T, D] == [scale, optional(float), default(none)]) :-
    attr_parts(scale: optional(float) = none, N, T, D).
test(required, [N, T, D] == [k, int, required]) :- attr_parts(k: int, N, T, D).
test(malformed, fail) :- attr_parts(beta = 1.0, _, _, _).

test(fits, forall(member(T-D, [float-1.0, float-1, int-3, bool-true, bool-false,
                              optional(float)-none, optional(float)-0.5, optional(int)-2]))) :-
    default_fits(T, D).
test(does_not_fit, [forall(member(T-D, [float-yes, int-1.5, bool-1, optional(int)-0.5])), fail]) :-
    default_fits(T, D).

:- end_tests(attrs).

:- begin_tests(cuda_archs).

test(valid, forall(member(A, ['9.0', '8.6', '9.0a', '10.0', 9.0]))) :- cuda_arch(A).
test(invalid, [forall(member(A, [sm_90, '9', '9.0b', "9.0", 'x.0'])), fail]) :- cuda_arch(A).

:- end_tests(cuda_archs).

:- begin_tests(real_specs).

test(parametric_swish_schema, S == "parametric_swish(Tensor x, float beta=1.0) -> Tensor") :-
    op_schema(parametric_swish, S).
test(fused_attention_schema,
     S == "fused_attention(Tensor query, Tensor key, Tensor value, float? scale=None) -> (Tensor, Tensor)") :-
    op_schema(fused_attention, S).
test(parametric_swish_module, M == 'ParametricSwish') :- op_module(parametric_swish, M).
test(no_violations, Vs == []) :- findall(W-M, violation(W, M), Vs).
test(cuda_dtypes_override, Ds == [float32, float64, float16, bfloat16]) :- op_device_dtypes(fused_attention, cuda, Ds).
test(cpu_dtypes_default, Ds == [float32, float64]) :- op_device_dtypes(fused_attention, cpu, Ds).
test(kind_devices, Ds == [cpu, cuda]) :- findall(D, kind_device(attention, D), Ds).

:- end_tests(real_specs).

:- begin_tests(did_you_mean).

test(edit_distance, Ds == [0, 1, 2, 3]) :-
    maplist([A-B, D]>>edit_distance(A, B, D), [input-input, inpt-input, inptu-input, abc-xyz], Ds).
test(nearest, H == " did you mean 'input'?") :- checks:did_you_mean(inptu, [output, input, doc], H).
test(short_word_one_edit, H == " did you mean 'doc'?") :- checks:did_you_mean(dc, [doc, kind], H).
test(short_word_two_edits, H == "") :- checks:did_you_mean(dx, [doc, kind], H).
test(too_far, H == "") :- checks:did_you_mean(flavour, [kind, doc, input, output], H).

:- end_tests(did_you_mean).
