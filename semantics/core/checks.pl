/*  Checks: each clause of violation/2 names one way a spec can be wrong, the fact to blame,
    and what to write instead. The loader locates the blamed fact (file:line) and refuses
    to generate anything while a violation stands.
*/

:- module(checks, [
    violation/2, located_violation/3, locate/3, clause_place/2, component_spec_core/1, default_fits/2,
    edit_distance/3
]).
:- use_module(semantics(core/ecs)).

:- discontiguous violation/2.

%% violation(-Where, -Message)
violation(component(E, K, V), Msg) :-
    component(E, K, V), \+ entity(E),
    format(string(Msg), "component of '~w', which is not declared: add entity(~q).", [E, E]).

violation(entity(E), Msg) :-
    entity(E), \+ atom(E),
    format(string(Msg), "entity name ~q must be an atom such as my_op.", [E]).

violation(entity(E), Msg) :-
    entity(E), atom(E),
    findall(R, clause(entity(E), true, R), [_, R2|_]),
    clause_place(R2, Again),   % the blame lands on the first fact; name the repeat too
    format(string(Msg), "entity '~w' is declared more than once (again at ~w): keep one entity(~q) fact.", [E, Again, E]).

violation(component(E, K, V), Msg) :-
    component(E, K, V), \+ component_spec(K, _, _, _),
    findall(Known, component_spec(Known, _, _, _), Ks), atomic_list_concat(Ks, ', ', KL),
    did_you_mean(K, Ks, Hint),
    format(string(Msg), "unknown component '~w' of '~w';~w known components: ~w.", [K, E, Hint, KL]).

%% did_you_mean(+Word, +Known, -Hint): " did you mean 'k'?" for the known word nearest Word within
%  two edits (one for words under four letters), else "".
did_you_mean(W, Ks, Hint) :-
    atom(W),
    findall(D-K, (member(K, Ks), edit_distance(W, K, D)), Ds), keysort(Ds, [D0-K0|_]),
    atom_length(W, L), ( L >= 4 -> D0 =< 2 ; D0 =< 1 ), !,
    format(string(Hint), " did you mean '~w'?", [K0]).
did_you_mean(_, _, "").


violation(component(E, K, V2), Msg) :-
    component_spec(K, one, _, _),
    component(E, K, V2), entity(E),
    findall(V, component(E, K, V), [_, _|_]),
    findall(V, component(E, K, V), [V1|_]), V1 \== V2,
    format(string(Msg), "'~w' has more than one '~w' component (~q and ~q): keep one.", [E, K, V1, V2]).

violation(entity(E), Msg) :-
    entity(E), atom(E), \+ component(E, kind, _),
    findall(K, op_kind(K, _), Ks), atomic_list_concat(Ks, ', ', KL),
    format(string(Msg), "'~w' has no kind: add component(~q, kind, K) with K one of ~w, or extension.", [E, E, KL]).

violation(component(E, kind, K), Msg) :-
    entity(E), component(E, kind, K), K \== extension, \+ op_kind(K, _),
    findall(X, op_kind(X, _), Ks), atomic_list_concat(Ks, ', ', KL), did_you_mean(K, Ks, Hint),
    format(string(Msg), "'~w' has unknown kind '~w';~w kinds: ~w, extension.", [E, K, Hint, KL]).

violation(entity(E), Msg) :-
    is_op(E), name_problem(op, E, P),
    format(string(Msg), "op name '~w' is not usable: ~w.", [E, P]).

%  The ops an op registers beside itself: torch.ops.<ns>.<op>_backward (and its C++ <op>_backward_cpu/_cuda),
%  <op>_composite (the forward as torch ops, for double backward).
op_companion_suffix(backward, "its backward").
op_companion_suffix(composite, "its composite forward (for double backward)").

violation(entity(B), Msg) :-
    is_op(B), atom(B), \+ name_problem(op, B, _),
    op_companion_suffix(Suffix, What), atom_concat('_', Suffix, Tail), atom_concat(Op, Tail, B), is_op(Op), !,
    format(string(Msg), "op name '~w' is taken: op '~w' registers ~w as ~w; name this op otherwise, e.g. ~w_grad or ~w_op.", [B, Op, What, B, Op, B]).

violation(component(E, K, V), Msg) :-
    is_op(E), component(E, K, V), component_spec(K, _, extension, _),
    format(string(Msg), "'~w' is a component of an extension, not of op '~w'.", [K, E]).

violation(component(E, K, V), Msg) :-
    is_extension(E), component(E, K, V), component_spec(K, _, op, _),
    format(string(Msg), "'~w' is a component of an op, not of extension '~w'.", [K, E]).

violation(component(E, doc, D), Msg) :-
    entity(E), component(E, doc, D), \+ string(D),
    format(string(Msg), "doc of '~w' must be a double-quoted string, as in component(~q, doc, \"What it does.\").", [E, E]).

% A doc lands in C++ comments and Python docstrings (escaped by grimoire/escape.py); a control character
% other than newline and tab (NUL, \r, escape sequences, ...) has no readable rendering there: refuse it.
violation(component(E, doc, D), Msg) :-
    entity(E), component(E, doc, D), string(D),
    string_codes(D, Cs), nth1(At, Cs, C), doc_control_char(C), !,
    format(string(Msg), "doc of '~w' contains the control character U+~|~`0t~16R~4+ (character ~w): write plain text; \\n (a newline) and \\t are allowed.", [E, C, At]).
doc_control_char(C) :- C < 32, C =\= 0'\n, C =\= 0'\t.
doc_control_char(C) :- C >= 127, C < 160.

violation(entity(E), Msg) :-
    is_op(E), \+ component(E, doc, _),
    format(string(Msg), "op '~w' has no doc: add component(~q, doc, \"What it computes.\").", [E, E]).

violation(entity(E), Msg) :-
    is_op(E), component(E, kind, Kind), op_kind(Kind, _),
    kind_requires(Kind, Key), \+ component(E, Key, _),
    component_spec(Key, _, _, Help),
    format(string(Msg), "op '~w' of kind ~w has no '~w' component; add one (~w).", [E, Kind, Key, Help]).

violation(component(E, K, N), Msg) :-
    is_op(E), member(K, [input, output]), component(E, K, N),
    ( K == input, component(E, column_input, N) -> Role = column_input ; Role = K ),
    name_problem(Role, N, P),
    ( Role == column_input -> Why = " (a column input becomes a parameter of the op's module)" ; Why = "" ),
    format(string(Msg), "~w name ~q of '~w' is not usable~w: ~w.", [K, N, E, Why, P]).

violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), \+ attr_parts(A, _, _, _),
    format(string(Msg), "attr ~q of '~w' is malformed: write Name: Type = Default, e.g. beta: float = 1.0.", [A, E]).

violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), attr_parts(A, N, _, _), name_problem(attr, N, P),
    format(string(Msg), "attr name ~q of '~w' is not usable (an attr becomes a parameter of the op's function and an attribute of its module): ~w.", [N, E, P]).

violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), attr_parts(A, N, choice(Cs), _), is_list(Cs),
    member(C, Cs), choice_problem(C, P), !,
    format(string(Msg), "choice ~q of attr '~w' of '~w' is not usable: ~w.", [C, N, E, P]).
violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), attr_parts(A, N, choice(Cs), _), is_list(Cs),
    msort(Cs, Sorted), append(_, [C, C|_], Sorted), !,
    format(string(Msg), "attr '~w' of '~w' lists choice ~q twice: list each once.", [N, E, C]).

violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), attr_parts(A, N, T, _), \+ attr_type(T),
    \+ ( T = choice(Cs), is_list(Cs), member(C, Cs), choice_problem(C, _) ),
    format(string(Msg), "attr '~w' of '~w' has unknown type ~q; types: float, int, bool, optional(float), optional(int), choice([a, b, ...]).", [N, E, T]).

violation(component(E, attr, A), Msg) :-
    is_op(E), component(E, attr, A), attr_parts(A, N, T, default(D)), attr_type(T), \+ default_fits(T, D),
    type_example(T, Example),
    format(string(Msg), "default ~q of attr '~w' of '~w' is not a ~w (write e.g. ~w).", [D, N, E, T, Example]).

%  Blamed on the later of the two (inputs come before outputs, outputs before attrs), once.
violation(component(E, K, C), Msg) :-
    is_op(E), nth1(KI, [input, output, attr], K), component(E, K, C),
    ( K == attr -> attr_parts(C, N, _, _) ; N = C ),
    (   nth1(KJ, [input, output, attr], K0), KJ < KI, component(E, K0, C0),
        ( K0 == attr -> attr_parts(C0, N, _, _) ; C0 == N )
    ->  true
    ;   findall(C1, ( component(E, K, C1), ( K == attr -> attr_parts(C1, N, _, _) ; C1 == N ) ), [_, C2|_]), C2 == C
    ),
    format(string(Msg), "name '~w' is used twice among the inputs, attrs and outputs of '~w': rename one.", [N, E]).

%  Python parameters with a default come last: the generated function takes the attrs in order.
violation(component(E, attr, A), Msg) :-
    is_op(E), \+ waived(E, attrs_defaults_last),
    findall(X, component(E, attr, X), Attrs),
    append(Before, [A|_], Attrs), attr_parts(A, N, _, required),
    member(A0, Before), attr_parts(A0, N0, _, default(_)), !,
    format(string(Msg), "attr '~w' of '~w' has no default but follows attr '~w', which has one (Python takes parameters with defaults last): declare ~w before ~w, or give it a default.", [N, E, N0, N, N0]).

violation(component(E, dtypes, Ds), Msg) :-
    is_op(E), component(E, dtypes, Ds),
    ( \+ is_list(Ds) ; Ds == [] ; member(D, Ds), \+ known_dtype(D) ),
    findall(X, known_dtype(X), Xs), atomic_list_concat(Xs, ', ', XL),
    (   is_list(Ds), member(D, Ds), \+ known_dtype(D)
    ->  format(string(Msg), "unknown dtype ~q in dtypes of '~w'; dtypes: ~w.", [D, E, XL])
    ;   format(string(Msg), "dtypes of '~w' must be a non-empty list drawn from ~w.", [E, XL])
    ).

violation(component(E, devices, Ds), Msg) :-
    is_op(E), component(E, devices, Ds),
    ( \+ is_list(Ds) ; \+ memberchk(cpu, Ds) ; member(D, Ds), \+ known_device(D) ),
    format(string(Msg), "devices of '~w' must be a list of cpu and cuda that includes cpu, got ~q.", [E, Ds]).

violation(component(E, devices, Ds), Msg) :-
    is_op(E), component(E, devices, Ds), is_list(Ds), component(E, kind, Kind), op_kind(Kind, _),
    member(D, Ds), known_device(D), \+ kind_device(Kind, D),
    findall(X, kind_device(Kind, X), Xs), atomic_list_concat(Xs, ', ', XL),
    format(string(Msg), "devices of '~w' lists ~w, but kind ~w has kernels only for ~w: remove ~w.", [E, D, Kind, XL, D]).

violation(component(E, cuda_dtypes, Ds), Msg) :-
    is_op(E), component(E, cuda_dtypes, Ds),
    ( \+ is_list(Ds) ; Ds == [] ; member(D, Ds), \+ known_dtype(D) ),
    findall(X, known_dtype(X), Xs), atomic_list_concat(Xs, ', ', XL),
    format(string(Msg), "cuda_dtypes of '~w' must be a non-empty list drawn from ~w, got ~q.", [E, XL, Ds]).

violation(component(E, cuda_dtypes, Ds), Msg) :-
    is_op(E), component(E, cuda_dtypes, Ds), op_devices(E, Devs), \+ memberchk(cuda, Devs),
    format(string(Msg), "'~w' gives cuda_dtypes but its devices ~q lack cuda: add cuda to devices or remove cuda_dtypes.", [E, Devs]).

%  A dtype the kind's kernels for a device do not support; blamed on the component that lists it.
violation(component(E, Key, Ds), Msg) :-
    is_op(E), component(E, kind, Kind), op_devices(E, Devs), is_list(Devs),
    member(Dev, Devs), kind_device_dtypes(Kind, Dev, Supported),
    op_device_dtypes(E, Dev, Ds), is_list(Ds), member(D, Ds), known_dtype(D), \+ memberchk(D, Supported),
    ( Dev == cuda, component(E, cuda_dtypes, Ds) -> Key = cuda_dtypes ; Key = dtypes ),
    component(E, Key, Ds),
    atomic_list_concat(Supported, ', ', SL),
    (   Dev == cpu, Key == dtypes, memberchk(cuda, Devs)
    ->  format(string(Msg), "~w of '~w' lists ~w, but kind ~w supports only ~w on ~w: keep dtypes to those and list ~w in cuda_dtypes.", [Key, E, D, Kind, SL, Dev, D])
    ;   format(string(Msg), "~w of '~w' lists ~w, but kind ~w supports only ~w on ~w: remove ~w.", [Key, E, D, Kind, SL, Dev, D])
    ).

violation(component(E, cuda_archs, As), Msg) :-
    is_extension(E), component(E, cuda_archs, As),
    \+ ( is_list(As), As \== [], forall(member(A, As), cuda_arch(A)) ),
    format(string(Msg), "cuda_archs of extension '~w' must be a non-empty list of compute capabilities such as ['8.0', '9.0', '9.0a'], got ~q.", [E, As]).

violation(component(E, module, M), Msg) :-
    is_op(E), component(E, module, M), \+ valid_class_name(M),
    camel_case(E, Camel),
    ( name_problem(class, M, P) -> true ; P = "" ),
    format(string(Msg), "module name ~q of '~w' must be a CamelCase class name, e.g. '~w' (~w).", [M, E, Camel, P]).

violation(component(E, module, M), Msg) :-
    is_op(E), component(E, module, M), valid_class_name(M), name_problem(module, M, P),
    camel_case(E, Camel), ( Camel == M -> atom_concat(Camel, 'Module', Suggest) ; Suggest = Camel ),
    format(string(Msg), "module name ~q of '~w' is not usable: ~w (as component(~q, module, ~q)).", [M, E, P, E, Suggest]).

%  An op named like the package's own names (the module from op_module/2's default) is blamed above.
violation(entity(E), Msg) :-
    is_op(E), \+ component(E, module, _), \+ name_problem(op, E, _), \+ waived(E, module_name),
    op_module(E, M), name_problem(module, M, P),
    format(string(Msg), "op '~w' gets the module class ~q, which is not usable: ~w; name it with component(~q, module, 'AnotherName').", [E, M, P, E]).

violation(component(E, differentiable, Ds), Msg) :-
    is_op(E), component(E, differentiable, Ds), op_inputs(E, Ins),
    ( \+ is_list(Ds) ; member(D, Ds), \+ memberchk(D, Ins) ),
    format(string(Msg), "differentiable of '~w' must list inputs of it (~w), got ~q.", [E, Ins, Ds]).

violation(component(E, differentiable, Ds), Msg) :-
    is_op(E), component(E, differentiable, Ds), is_list(Ds), op_inputs(E, Ins), forall(member(D, Ds), memberchk(D, Ins)),
    msort(Ds, Sorted), append(_, [D, D|_], Sorted), !, sort(Ds, Once),
    format(string(Msg), "differentiable of '~w' lists ~w twice: list each input once, e.g. ~q.", [E, D, Once]).

%  Numbers land in C++ and Python source: an infinite or NaN float, or an integer beyond int64, has no
%  literal there (and no meaning as a default, a range or a shape). Blamed once per component.
violation(component(E, K, V), Msg) :-
    entity(E), component(E, K, V), sub_term(X, V), odd_number(X, Why), !,
    format(string(Msg), "~w of '~w' holds ~q, ~w.", [K, E, X, Why]).

odd_number(X, Why) :- float(X), float_class(X, C), memberchk(C, [nan, infinite]), !,
    Why = "which is not a finite number: write a finite one (e.g. 1.0e30 for a large bound)".
odd_number(X, Why) :- integer(X), ( X > 9223372036854775807 ; X < -9223372036854775808 ), !,
    Why = "which does not fit in 64 bits (int64 holds -9223372036854775808 .. 9223372036854775807): write a smaller integer".

violation(component(E, K, S), Msg) :-
    is_op(E), member(K, [bench, test_shape]), component(E, K, S),
    \+ ( shape_term(K, S, Dims), is_list(Dims), Dims \== [], forall(member(D, Dims), (integer(D), D >= 0)) ),
    ( K == bench -> Alt = " (or cpu(shape([...])) / cuda(shape([...])) for one device)" ; Alt = "" ),
    format(string(Msg), "~w of '~w' must be shape([D1, D2, ...]) with non-negative integers~w, got ~q.", [K, E, Alt, S]).

%% shape_term(+Key, +Term, -Dims): a shape([...]) term; a bench shape may name its device, cuda(shape([...])).
shape_term(_, shape(Dims), Dims) :- !.
shape_term(bench, T, Dims) :- compound(T), T =.. [Dev, shape(Dims)], known_device(Dev).

violation(component(E, peer, C), Msg) :-
    is_op(E), component(E, peer, C), \+ peer_call(E, C),
    format(string(Msg), "peer ~q of '~w' must call a torch.* function with the op's inputs, attrs, numbers, strings, true/false/none, Key = Value or other such torch.* calls, e.g. 'torch.nn.functional.gelu'(x, approximate = \"tanh\").", [C, E]).

violation(component(E, bench_bar, T), Msg) :-
    is_op(E), component(E, bench_bar, T), \+ bench_bar_term(T, _, _, _, _, _),
    format(string(Msg), "bench_bar ~q of '~w' must read Device(Pass, shape([D1, ...]), Peer >= Ratio) with Device cpu or cuda and Ratio a positive number, e.g. cuda(forward, shape([4, 16, 2048, 64]), eager >= 1.5).", [T, E]).
violation(component(E, bench_bar, T), Msg) :-
    is_op(E), component(E, bench_bar, T), bench_bar_term(T, Dev, _, Shape, _, _),
    \+ ( component(E, bench, B), ( B = shape(Shape) ; B =.. [Dev, shape(Shape)] ) ),
    format(string(Msg), "bench_bar ~q of '~w' is at shape ~w, which is not one of its ~w bench shapes: add bench ~w(shape(~w)) or bar a shape it benchmarks.", [T, E, Shape, Dev, Dev, Shape]).
violation(component(E, bench_peer, T), Msg) :-
    is_op(E), component(E, bench_peer, T), \+ bench_peer_term(E, T, _, _, _),
    findall(L, bench_peer_library(L), Ls), atomic_list_concat(Ls, ', ', Libs),
    format(string(Msg), "bench_peer ~q of '~w' must read Name = Call or cuda(Name = Call) / cpu(Name = Call): Name a Python name other than generated, eager and compile, Call a dotted function of one of the kernel libraries ~w over the op's inputs, attrs, numbers, strings, true/false/none or Key = Value, e.g. cuda(liger = 'liger_kernel.transformers.functional.liger_softmax'(x)).", [T, E, Libs]).

violation(component(E, replaces, M), Msg) :-
    is_op(E), component(E, replaces, M),
    \+ ( atom(M), atomic_list_concat([torch|Rest], '.', M), Rest \== [], forall(member(P, Rest), valid_python_name(P)) ),
    format(string(Msg), "replaces of '~w' must name a torch module class, e.g. 'torch.nn.LayerNorm'; got ~q.", [E, M]).

violation(component(E, test_range, R), Msg) :-
    is_op(E), component(E, test_range, R), op_inputs(E, Ins),
    \+ ( R = I: [Lo, Hi], memberchk(I, Ins), number(Lo), number(Hi), Lo < Hi ),
    format(string(Msg), "test_range ~q of '~w' must read Input: [Low, High] with Low < High and Input one of ~w.", [R, E, Ins]).

violation(component(E, extension, X), Msg) :-
    is_op(E), component(E, extension, X), \+ is_extension(X),
    format(string(Msg), "op '~w' names extension '~w', which is not declared as an extension entity.", [E, X]).

violation(component(E, K, N), Msg) :-
    is_extension(E), member(K, [namespace, package]), component(E, K, N), name_problem(K, N, P),
    format(string(Msg), "~w ~q of extension '~w' is not usable: ~w.", [K, N, E, P]).

%  Without a namespace or package component the extension's own name serves.
violation(entity(E), Msg) :-
    is_extension(E), once(( member(K, [namespace, package]), \+ component(E, K, _), name_problem(K, E, P) )),
    format(string(Msg), "extension '~w' serves as its own ~w, which is not usable: ~w; or add component(~q, ~w, my_ops).", [E, K, P, E, K]).

violation(entity(E), Msg) :-
    is_op(E), \+ op_extension(E, _),
    format(string(Msg), "op '~w' belongs to no extension: declare one (component(Ext, kind, extension)).", [E]).

violation(entity(E), Msg) :-
    findall(X, is_extension(X), [First, _|_]), is_extension(E), E \== First,
    format(string(Msg), "a second extension '~w' (after '~w'): one semantics/ folder describes one extension.", [E, First]).

violation(Where, Msg) :-
    is_op(E), component(E, kind, Kind), op_kind(Kind, _),
    kind_violation(Kind, E-Where-Msg).

violation(component(E, K, V), Msg) :-
    is_op(E), component(E, K, V), component(E, kind, Kind),
    \+ component_spec_core(K), \+ kind_component(Kind, K, _, _),
    once(kind_component(Owner, K, _, _)),
    format(string(Msg), "'~w' is a component of ~w ops, not of ~w op '~w'.", [K, Owner, Kind, E]).

component_spec_core(K) :- clause(component_spec(K, _, _, _), true).

%% waived(+Op, +Check): Op's kind is exempt from Check (kind_waives/2).
waived(E, Check) :- component(E, kind, Kind), kind_waives(Kind, Check), !.

op_all_names(E, All) :-
    op_inputs(E, Ins), op_outputs(E, Outs), op_attr_names(E, As),
    append([Ins, Outs, As], All).

default_fits(float, D) :- number(D).
default_fits(int, D) :- integer(D).
default_fits(bool, D) :- memberchk(D, [true, false]).
default_fits(optional(T), D) :- ( D == none -> true ; default_fits(T, D) ).
default_fits(choice(Cs), D) :- atom(D), memberchk(D, Cs).

%% cuda_arch(+A): a compute capability: a number (9.0) or an atom ('9.0', '9.0a').
cuda_arch(A) :- number(A), !, A > 0.
cuda_arch(A) :- atom(A), atom_codes(A, Cs), phrase(arch_version, Cs), !.
arch_version --> digits1, ".", digits1, ( "a" -> [] ; [] ).
digits1 --> [C], { code_type(C, digit) }, ( digits1 -> [] ; [] ).

type_example(float, '1.0').
type_example(int, '1').
type_example(bool, true).
type_example(optional(_), none).
type_example(choice([C|_]), C).

% ---------------------------------------------------------------------------------------------
% Locating what a violation blames
% ---------------------------------------------------------------------------------------------

%% located_violation(-File, -Line, -Message): every violation, with where its blamed fact was written.
%  The checks run entity by entity, each under catch/3: a check that raises (an odd term where a rule
%  expected another) becomes a violation of that entity instead of a Prolog error for the caller.
%  Only specs that pass every check are derived; an error while deriving (derivation_violation/2) is
%  reported the same way, so no spec problem reaches the caller as an exception.
located_violation(File, Line, Msg) :-
    (   setof(W-M, checked_violation(W, M), Vs) -> true
    ;   setof(W-M, derivation_violation(W, M), Vs)
    ),
    member(Where-Msg, Vs),
    locate(Where, File, Line).

%% checked_violation(-Where, -Message): violation/2, one entity (or undeclared entity) at a time.
checked_violation(W, M) :-
    setof(E, B^K^V^( clause(entity(E), B) ; clause(component(E, K, V), B) ), Es),
    member(E, Es),
    catch(findall(W0-M0, ( member(W0, [entity(E), component(E, _, _)]), violation(W0, M0) ), Found),
          Error, check_error(E, Error, Found)),
    member(W-M, Found).

check_error(E, Error, [entity(E)-Msg]) :-
    message_to_codes(Error, Text),
    format(string(Msg), "checking '~w' raised an error (~s): a component of it holds a term the checks do not expect; see the component list with `grimoire perceive \"operation_info(~q)\"`.", [E, Text, E]).

message_to_codes(Error, Codes) :-
    catch(( message_to_codes(Error, [], Codes0) -> Codes = Codes0 ; fail ), _, fail), !.
message_to_codes(Error, Codes) :- format(codes(Codes), "~q", [Error]).

%% derivation_violation(-Where, -Message): an op whose derived components (derived/3) raise an error.
derivation_violation(entity(Op), Msg) :-
    is_op(Op),
    catch(( forall(derived(Op, _, _), true), Error = none ), Error0, Error = Error0),
    Error \== none,
    format(codes(Text), "~q", [Error]),
    format(string(Msg), "deriving the generated code of '~w' failed (~s): the spec passed every check, so this is a gap in the checks; please report it with the spec.", [Op, Text]).

locate(Where, File, Line) :-
    clause(Where, true, Ref),
    clause_at(Ref, File, Line), !.
locate(_, unknown, 0).

%% clause_place(+Ref, -Place): "file.pl:Line" of a clause, for messages naming a second fact.
clause_place(Ref, Place) :-
    clause_at(Ref, File, Line), !,
    file_base_name(File, Base), format(atom(Place), "~w:~w", [Base, Line]).
clause_place(_, 'another fact').

%% clause_at(+Ref, -File, -Line): where a clause was written. Spec files are read as data and their
%  facts asserted (grimoire/prolog/bridge.pl), so their place is recorded beside them in
%  spec_clause_at/3 (ecs.pl); a consulted clause carries its own.
clause_at(Ref, File, Line) :- spec_clause_at(Ref, File, Line), !.
clause_at(Ref, File, Line) :-
    clause_property(Ref, file(File)),
    clause_property(Ref, line_count(Line)).

%% edit_distance(+A, +B, -D): Levenshtein distance between two atoms (for "did you mean").
edit_distance(A, B, D) :-
    atom_codes(A, As), atom_codes(B, Bs),
    length(Bs, N), numlist(0, N, Row0),
    foldl(edit_row(Bs), As, Row0-1, Row-_),
    last(Row, D).
edit_row(Bs, C, Prev-I, [I|Cells]-I1) :-
    I1 is I + 1,
    edit_cells(Bs, C, Prev, I, Cells).
edit_cells([], _, _, _, []).
edit_cells([B|Bs], C, [Diag, Up|Prev], Left, [X|Xs]) :-
    ( B =:= C -> Cost = 0 ; Cost = 1 ),
    X is min(min(Up + 1, Left + 1), Diag + Cost),
    edit_cells(Bs, C, [Up|Prev], X, Xs).
