/*  PLUnit tests of the entity-component core (ecs.pl) beyond what checks.plt covers: the derived/3 system
    over every bundled op, which inputs are differentiable, the rendering of attrs, peers and strings into
    schemas and Python, and the messages name_problem/3 derives. Run by tests/test_plunit.py after every
    semantics file is consulted. */

:- begin_tests(ecs_derived).

% The bridge turns an op's derived components into a dict: a key derived twice would break it.
test(each_key_derived_once, Dups == []) :-
    findall(E-Ks, ( is_op(E), findall(K, derived(E, K, _), Ks), msort(Ks, S), sort(Ks, U), S \== U ), Dups).
% model.py reads a backward_schema from every op that has something to differentiate, and none from the rest.
test(backward_schema_iff_differentiable, Bad == []) :-
    findall(E, ( is_op(E), op_differentiable(E, Ds),
                 ( Ds == [] -> derived(E, backward_schema, _) ; \+ derived(E, backward_schema, _) ) ), Bad).
test(replaces, Rs == [layer_norm-"torch.nn.LayerNorm", rms_norm-"torch.nn.RMSNorm"]) :-
    findall(E-R, ( derived(E, replaces, R), R \== "" ), Rs).
test(peer_rendered, P == "torch.nn.functional.gelu(x, approximate=\"tanh\")") :- once(derived(gelu_tanh, peer, P)).
test(no_peer, P == "") :- once(derived(parametric_swish, peer, P)).
test(test_ranges_override, Rs == [x-[-3.0, 3.0], y-[0.5, 3.0]]) :- op_test_ranges(div, Rs).
test(extension, [E, N, P] == [generated_ops, generated_ops, generated_ops]) :-
    op_extension(add, E), ext_namespace(E, N), ext_package(E, P).
test(kinds_extend_the_vocabulary, forall(member(K-C, [variant-many, shape-many, reference-one, loss-one]))) :-
    once(component_spec(K, C, op, _)), \+ component_spec_core(K).

:- end_tests(ecs_derived).

%  Ad-hoc ops: an index input is not differentiable unless the spec lists it; a listed set wins over everything.
:- begin_tests(ecs_differentiable, [setup(ecs_assert), cleanup(ecs_retract)]).

ecs_spec(tst_ecs_index, [kind-rowwise, input-x, input-target, index_input-target]).
ecs_spec(tst_ecs_listed, [kind-rowwise, input-x, input-target, index_input-target, differentiable-[]]).
ecs_assert :- forall(ecs_spec(E, Cs), ( assertz(user:entity(E)), forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
ecs_retract :- forall(ecs_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).

test(index_input_excluded, Ds == [x]) :- op_differentiable(tst_ecs_index, Ds).
test(listed_wins, Ds == []) :- op_differentiable(tst_ecs_listed, Ds).

:- end_tests(ecs_differentiable).

:- begin_tests(ecs_render).

test(schema_optional_int, S == "SymInt? k=None") :- schema_attr(k, optional(int), default(none), S).
test(schema_choice_quoted, S == "str mode=\"mean\"") :- schema_attr(mode, choice([mean, sum]), default(mean), S).
test(schema_bool, S == "bool flag=False") :- schema_attr(flag, bool, default(false), S).
test(schema_required, S == "SymInt k") :- schema_attr(k, int, required, S).
test(python_choice, S == "mode: str = \"mean\"") :- python_param(mode, choice([mean, sum]), default(mean), S).
test(python_optional, S == "s: Optional[float] = None") :- python_param(s, optional(float), default(none), S).
test(python_bool, S == "b: bool = True") :- python_param(b, bool, default(true), S).
test(returns_one, S == "Tensor") :- schema_returns([y], S).
test(returns_tuple, S == "(Tensor, Tensor, Tensor)") :- schema_returns([a, b, c], S).
test(string_literal_escapes, S == "\"a\\\"b\\\\c\\x0ad\\x85\"") :- python_string_literal("a\"b\\c\nd\u0085", S).
test(peer_values, P == "torch.f(x, [1, 2], k=None, s=\"a\", n=x.shape[0])") :-
    peer_python('torch.f'(x, [1, 2], k = none, s = "a", n = shape(x, 0)), P).
test(peer_call_accepted, forall(member(C, ['torch.add'(x, y, alpha = alpha), 'torch.zeros'(shape(x, 0)), 'torch.nn.functional.linear'(x, [y, 2.0])]))) :-
    peer_call(add, C).
test(peer_call_refused, [forall(member(C, ['numpy.add'(x, y), 'torch.add'(x, q), torch(x), 'torch.add'(x, alpha = q), 'torch.add'(x, shape(x, d)), 'torch'])), fail]) :-
    peer_call(add, C).
test(nested_peer_accepted) :- peer_call(add, 'torch.add'('torch.mul'(x, 'torch.tanh'(y)), y, alpha = alpha)).
test(nested_peer_refused, [forall(member(C, ['torch.add'('os.system'("ls"), y), 'torch.add'('torch.mul'(x, q), y), 'torch.add'(f(x), y)])), fail]) :-
    peer_call(add, C).
test(nested_peer_rendered, P == "torch.add(torch.mul(x, torch.tanh(y)), y, alpha=2)") :-
    peer_python('torch.add'('torch.mul'(x, 'torch.tanh'(y)), y, alpha = 2), P).

:- end_tests(ecs_render).

:- begin_tests(ecs_names).

problem(Role, N, Sub) :- name_problem(Role, N, P), once(sub_string(P, _, _, _, Sub)).

test(sum_exempt_as_an_op, fail) :- name_problem(op, sum, _).
test(sum_reserved_as_an_attr) :- problem(attr, sum, "'sum' is a Python builtin, which the generated Python code would shadow: choose another name, e.g. my_sum").
test(module_attribute, [true(P == "'to' is an attribute or method every torch.nn.Module has (the op's module would lose it): choose another name, e.g. my_to")]) :-
    name_problem(attr, to, P).
test(module_attribute_fine_for_an_input, fail) :- name_problem(input, to, _).
test(class_suggestion, [true(P == "'Tensor' is a name the generated op modules import: choose another name, e.g. MyTensor")]) :-
    name_problem(module, 'Tensor', P).
test(lower_cased_suggestion_avoids_a_keyword) :- problem(op, 'Class', "write lower_snake_case, e.g. my_class").
test(non_ascii_named_by_code_point) :- problem(input, 'x\u0430', "its character 2 is '\u0430' (U+0430)").
test(too_long) :- length(Cs, 65), maplist(=(0'a), Cs), atom_codes(N, Cs), problem(op, N, "it is 65 characters long: names have at most 64").
test(generated_prefix) :- problem(output, tmp_y, "names starting with tmp_ are the generated code's own").
test(choice_not_a_word, P == "1 is not a word: write a lower-case atom such as mean") :- choice_problem(1, P).
test(choice_word, fail) :- choice_problem(mean, _).

:- end_tests(ecs_names).
