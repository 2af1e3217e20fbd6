/*  The entity-component vocabulary every spec is written in.

    An entity is an op or an extension: entity(Name).
    A component is one fact about it:   component(Entity, Key, Value).
    A system is a rule deriving components from others (derived/3).
    A check is a rule naming a violation: violation(Where, Message), Where being the
    fact to blame (entity(E) or component(E, K, V)) so the loader can point at its file:line.

    Kind files (semantics/kinds/) add op kinds through the multifile hooks below.
*/

:- multifile entity/1, component/3.
:- discontiguous entity/1, component/3.

:- multifile op_kind/2, kind_requires/2, kind_allows/2, kind_violation/2, kind_derived/3.
:- discontiguous op_kind/2, kind_requires/2, kind_allows/2, kind_violation/2, kind_derived/3.
:- dynamic op_kind/2, kind_requires/2, kind_allows/2, kind_violation/2, kind_derived/3.
%% kind_component(?Kind, ?Key, ?Cardinality, ?Help): a component only ops of Kind take.
:- multifile kind_component/4.
:- discontiguous kind_component/4.
:- dynamic kind_component/4.

%  kind_device(Kind, Device): the kind has kernels (templates) for Device.
%  kind_device_dtypes(Kind, Device, Dtypes): optional; the dtypes its kernels for Device support
%  (absent: every known dtype).
:- multifile kind_device/2, kind_device_dtypes/3.
:- discontiguous kind_device/2, kind_device_dtypes/3.
:- dynamic kind_device/2, kind_device_dtypes/3.

%  kind_schema(Kind, Op, Schema), kind_python_signature(Kind, Op, Sig): optional; a kind whose ops
%  are not Tensor-in Tensor-out (optimizer: mutated tensor lists) writes its own.
:- multifile kind_schema/3, kind_python_signature/3.
:- dynamic kind_schema/3, kind_python_signature/3.

%% component_spec(?Key, ?Cardinality, ?Scope, ?Help)
%  The closed vocabulary: a component with any other key is a spec error.
component_spec(kind,           one,  any,       "kind: one of the op kinds, or extension").
component_spec(doc,            one,  any,       "doc: a one-line description, as a \"string\"").
component_spec(input,          many, op,        "input: a tensor input name, one fact per input, in call order").
component_spec(attr,           many, op,        "attr: Name: Type = Default (Type float, int, bool, optional(float))").
component_spec(output,         many, op,        "output: a tensor output name, one fact per output, in order").
component_spec(forward,        one,  op,        "forward: Output = Expression over inputs, attrs and constants").
component_spec(gradient,       many, op,        "gradient: Input = Expression overriding the derived gradient (grad_<output> is the incoming gradient)").
component_spec(differentiable, one,  op,        "differentiable: the list of inputs gradients flow to (default: all inputs)").
component_spec(dtypes,         one,  op,        "dtypes: the list of supported dtypes, e.g. [float32, float64]").
component_spec(devices,        one,  op,        "devices: the list of devices, e.g. [cpu, cuda]").
component_spec(cuda_dtypes,    one,  op,        "cuda_dtypes: the dtypes on CUDA when they differ from dtypes, e.g. [float32, float16, bfloat16]").
component_spec(module,         one,  op,        "module: the nn.Module class name, CamelCase").
component_spec(extension,      one,  op,        "extension: the extension entity this op belongs to").
component_spec(bench,          many, op,        "bench: shape([D1, D2, ...]) of a benchmark input, or cpu(shape([...])) / cuda(shape([...])) for one device").
component_spec(test_shape,     many, op,        "test_shape: shape([D1, ...]) of a test input").
component_spec(peer,           one,  op,        "peer: the matching torch function as a call over the op's inputs and attrs, e.g. 'torch.nn.functional.gelu'(x, approximate = \"tanh\")").
component_spec(replaces,       one,  op,        "replaces: the torch module the op's module is a drop-in for, e.g. 'torch.nn.LayerNorm' (the tests interchange their state_dicts)").
component_spec(test_range,     many, op,        "test_range: Input: [Low, High], the range test inputs are drawn from (default [-3, 3])").
component_spec(stat,           many, op,        "stat: Name = Expression, a named row statistic or row scalar used by forward (rowwise), e.g. mu = mean(x)").
component_spec(column_input,   many, op,        "column_input: an input of shape [n], one value per column shared by every row (rowwise), e.g. weight").
component_spec(column_init,    many, op,        "column_init: ColumnInput: ones | zeros, how the module initializes that parameter (default ones)").
component_spec(index_input,    many, op,        "index_input: an int64 input of shape [rows], a column index per row (rowwise), e.g. target").
component_spec(index_ignore,   one,  op,        "index_ignore: the int attr whose value marks an index to ignore rather than range-check (rowwise)").
component_spec(loss_reduction, one,  op,        "loss_reduction: the choice([none, mean, sum]) attr that reduces the output to a scalar (rowwise)").
component_spec(loss_count,     one,  op,        "loss_count: a per-row expression summed into the denominator of the mean reduction (rowwise)").
component_spec(namespace,      one,  extension, "namespace: the torch.ops namespace of the extension").
component_spec(package,        one,  extension, "package: the Python package name of the extension").
% A kind may add components of its own (kind_component/4 in its kinds/ file), so adding a kind
% never edits this vocabulary.
component_spec(Key, Card, op, Help) :- kind_component(_, Key, Card, Help).
component_spec(cuda_archs,     one,  extension, "cuda_archs: the CUDA architectures the extension may be built for, e.g. ['8.0', '9.0']").

known_dtype(float32). known_dtype(float64). known_dtype(float16). known_dtype(bfloat16).
known_device(cpu). known_device(cuda).

attr_type(float). attr_type(int). attr_type(bool).
attr_type(optional(float)). attr_type(optional(int)).
attr_type(choice(Cs)) :- is_list(Cs), Cs \== [], forall(member(C, Cs), (atom(C), valid_python_name(C))).

%% Reserved words: C++ and Python keywords, and names the generated code uses itself.
reserved(W) :- cpp_keyword(W) ; python_keyword(W) ; generator_name(W).
cpp_keyword(W) :- memberchk(W, [alignas, alignof, and, and_eq, asm, auto, bitand, bitor, bool, break, case,
    catch, char, char16_t, char32_t, char8_t, class, compl, concept, const, consteval, constexpr, constinit,
    const_cast, continue, co_await, co_return, co_yield, decltype, default, delete, do, double, dynamic_cast,
    else, enum, explicit, export, extern, false, float, for, friend, goto, if, inline, int, long, mutable,
    namespace, new, noexcept, not, not_eq, nullptr, operator, or, or_eq, private, protected, public, register,
    reinterpret_cast, requires, return, short, signed, sizeof, static, static_assert, static_cast, struct,
    switch, template, this, thread_local, throw, true, try, typedef, typeid, typename, union, unsigned, using,
    virtual, void, volatile, wchar_t, while, xor, xor_eq]).
python_keyword(W) :- memberchk(W, [false, none, true, and, as, assert, async, await, break, class, continue,
    def, del, elif, else, except, finally, for, from, global, if, import, in, is, lambda, nonlocal, not, or,
    pass, raise, return, try, while, with, yield, match, case]).
generator_name(W) :- memberchk(W, [self, torch, at, c10, std, grimoire, ctx, iter, scalar_t, opmath_t, out,
    result, grad, m, nn, math, pi]).

%% valid_identifier(+Atom): lower-case C/Python identifier, not reserved, not a generator prefix.
valid_identifier(A) :-
    atom(A),
    atom_codes(A, [C|Cs]),
    code_type(C, csymf), \+ code_type(C, upper),
    forall(member(X, Cs), (code_type(X, csym), \+ code_type(X, upper))),
    \+ reserved(A),
    \+ sub_atom(A, 0, _, _, grad_),
    \+ sub_atom(A, 0, _, _, tmp_),
    \+ sub_atom(A, 0, _, _, '_').

%% valid_class_name(+Atom): CamelCase identifier.
valid_class_name(A) :-
    atom(A),
    atom_codes(A, [C|Cs]),
    code_type(C, upper),
    forall(member(X, Cs), code_type(X, csym)),
    \+ reserved(A).

% ---------------------------------------------------------------------------------------------
% Queries over the components
% ---------------------------------------------------------------------------------------------

is_extension(E) :- entity(E), component(E, kind, extension).
is_op(E) :- entity(E), component(E, kind, K), K \== extension.

op_inputs(Op, Names) :- findall(N, component(Op, input, N), Names).
op_outputs(Op, Names) :- findall(N, component(Op, output, N), Names).
op_attrs(Op, Attrs) :- findall(attr(N, T, D), (component(Op, attr, A), attr_parts(A, N, T, D)), Attrs).
op_attr_names(Op, Names) :- op_attrs(Op, As), findall(N, member(attr(N, _, _), As), Names).

%% attr_parts(+AttrTerm, -Name, -Type, -Default): Default is required(none) when none is given.
attr_parts(N:T = D, N, T, default(D)) :- !.
attr_parts(N:T, N, T, required) :- T \= (_ = _).

op_differentiable(Op, Ds) :- component(Op, differentiable, Ds), !.
op_differentiable(Op, Ds) :- op_inputs(Op, Ins), findall(I, ( member(I, Ins), \+ component(Op, index_input, I) ), Ds).

op_dtypes(Op, Ds) :- component(Op, dtypes, Ds), !.
op_dtypes(_, [float32, float64]).

op_devices(Op, Ds) :- component(Op, devices, Ds), !.
op_devices(_, [cpu]).

%% op_device_dtypes(+Op, +Device, -Dtypes): the dtypes on one device; cuda_dtypes overrides dtypes on CUDA.
op_device_dtypes(Op, cuda, Ds) :- component(Op, cuda_dtypes, Ds), !.
op_device_dtypes(Op, _, Ds) :- op_dtypes(Op, Ds).

op_extension(Op, E) :- component(Op, extension, E), !.
op_extension(_, E) :- is_extension(E), !.

op_module(Op, M) :- component(Op, module, M), !.
op_module(Op, M) :- camel_case(Op, M).

ext_namespace(E, N) :- component(E, namespace, N), !.
ext_namespace(E, E).
ext_package(E, P) :- component(E, package, P), !.
ext_package(E, E).

camel_case(Snake, Camel) :-
    atomic_list_concat(Parts, '_', Snake),
    maplist(capitalize, Parts, Caps),
    atomic_list_concat(Caps, Camel).
capitalize(A, C) :- atom_codes(A, [H|T]), !, code_type(U, to_upper(H)), atom_codes(C, [U|T]).
capitalize(A, A).

%% op_peer(+Op, -Python): the peer call rendered as Python, or "" when the spec names none.
op_peer(Op, Py) :- component(Op, peer, Call), peer_call(Op, Call), !, peer_python(Call, Py).
op_peer(_, "").

%% peer_call(+Op, +Term): a call of a dotted torch.* function over the op's names and literals.
peer_call(Op, Call) :-
    compound(Call), compound_name_arguments(Call, F, Args),
    atom(F), atomic_list_concat(Parts, '.', F), Parts = [torch|Rest], Rest \== [],
    forall(member(P, Rest), valid_python_name(P)),
    op_inputs(Op, Ins), op_attr_names(Op, As), append(Ins, As, Names),
    forall(member(A, Args), peer_arg(A, Names)).
peer_arg(K = V, Names) :- !, atom(K), valid_python_name(K), peer_value(V, Names).
peer_arg(V, Names) :- peer_value(V, Names).
peer_value(V, _) :- number(V), !.
peer_value(V, _) :- string(V), !.
peer_value(V, _) :- memberchk(V, [true, false, none]), !.
peer_value(V, Names) :- atom(V), memberchk(V, Names).
peer_value(shape(I, D), Names) :- !, memberchk(I, Names), integer(D).
peer_value(V, Names) :- is_list(V), forall(member(X, V), peer_value(X, Names)).
valid_python_name(P) :- atom(P), atom_codes(P, [C|Cs]), code_type(C, csymf), forall(member(X, Cs), code_type(X, csym)).

peer_python(Call, Py) :-
    compound_name_arguments(Call, F, Args),
    maplist(peer_arg_python, Args, Ps), atomic_list_concat(Ps, ', ', AL),
    format(string(Py), "~w(~w)", [F, AL]).
peer_arg_python(K = V, S) :- !, peer_value_python(V, VS), format(string(S), "~w=~w", [K, VS]).
peer_arg_python(V, S) :- peer_value_python(V, S).
peer_value_python(V, S) :- string(V), !, format(string(S), "\"~w\"", [V]).
peer_value_python(shape(I, D), S) :- !, format(string(S), "~w.shape[~w]", [I, D]).
peer_value_python(V, S) :- is_list(V), !, maplist(peer_value_python, V, Ss), atomic_list_concat(Ss, ', ', J), format(string(S), "[~w]", [J]).
peer_value_python(V, S) :- python_value(V, S0), format(string(S), "~w", [S0]).

%% op_test_ranges(+Op, -Pairs): Input-[Low, High] for every input, [-3, 3] unless the spec says otherwise.
op_test_ranges(Op, Pairs) :-
    op_inputs(Op, Ins),
    findall(I-R, ( member(I, Ins), ( component(Op, test_range, I: R) -> true ; R = [-3.0, 3.0] ) ), Pairs).

%% operation_info(+Op): print every component of Op, then the derived ones (for `grimoire perceive`).
operation_info(Op) :-
    entity(Op),
    forall(component(Op, K, V), format("~w: ~q~n", [K, V])),
    forall(derived(Op, K, V), format("~w (derived): ~w~n", [K, V])).

% ---------------------------------------------------------------------------------------------
% Systems: derived components
% ---------------------------------------------------------------------------------------------

%% derived(?Op, ?Key, ?Value): components computed from the written ones.
derived(Op, schema, Schema) :-
    is_op(Op), component(Op, kind, Kind),
    ( kind_schema(Kind, Op, S) -> Schema = S ; op_schema(Op, Schema) ).
derived(Op, python_signature, Sig) :-
    is_op(Op), component(Op, kind, Kind),
    ( kind_python_signature(Kind, Op, S) -> Sig = S ; python_signature(Op, Sig) ).
derived(Op, peer, Py) :- is_op(Op), op_peer(Op, Py).
derived(Op, replaces, R) :- is_op(Op), ( component(Op, replaces, R0) -> format(string(R), "~w", [R0]) ; R = "" ).
derived(Op, test_ranges, R) :- is_op(Op), op_test_ranges(Op, Pairs), dict_pairs(R, _, Pairs).
derived(Op, Key, Value) :- is_op(Op), component(Op, kind, Kind), kind_derived(Kind, Op, Key-Value).

%% op_schema(+Op, -Schema): the torch.library schema string.
op_schema(Op, Schema) :-
    op_inputs(Op, Ins), op_attrs(Op, As), op_outputs(Op, Outs),
    findall(S, (member(I, Ins), format(string(S), "Tensor ~w", [I])), InS),
    findall(S, (member(attr(N, T, D), As), schema_attr(N, T, D, S)), AttrS),
    append(InS, AttrS, ArgS),
    atomic_list_concat(ArgS, ', ', Args),
    schema_returns(Outs, Ret),
    format(string(Schema), "~w(~w) -> ~w", [Op, Args, Ret]).

schema_attr(N, T, D, S) :-
    schema_type(T, ST),
    (   D = default(V), T = choice(_) -> format(string(S), "~w ~w=\"~w\"", [ST, N, V])
    ;   D = default(V) -> schema_value(V, SV), format(string(S), "~w ~w=~w", [ST, N, SV])
    ;   format(string(S), "~w ~w", [ST, N])
    ).
schema_type(float, float).
schema_type(int, 'SymInt').
schema_type(bool, bool).
schema_type(optional(float), 'float?').
schema_type(optional(int), 'SymInt?').
schema_type(choice(_), str).
schema_value(none, 'None') :- !.
schema_value(true, 'True') :- !.
schema_value(false, 'False') :- !.
schema_value(V, V).

schema_returns([_], "Tensor") :- !.
schema_returns(Outs, S) :-
    length(Outs, N), length(Ts, N), maplist(=("Tensor"), Ts),
    atomic_list_concat(Ts, ', ', J), format(string(S), "(~w)", [J]).

%% python_signature(+Op, -Sig): the parameter list of the Python wrapper.
python_signature(Op, Sig) :-
    op_inputs(Op, Ins), op_attrs(Op, As),
    findall(S, (member(attr(N, T, D), As), python_param(N, T, D, S)), AttrS),
    append(Ins, AttrS, Ps), atomic_list_concat(Ps, ', ', Sig).
python_param(N, choice(_), default(V), S) :- !, format(string(S), "~w: str = \"~w\"", [N, V]).
python_param(N, T, default(V), S) :- !, python_type(T, PT), python_value(V, PV), format(string(S), "~w: ~w = ~w", [N, PT, PV]).
python_param(N, T, required, S) :- python_type(T, PT), format(string(S), "~w: ~w", [N, PT]).
python_type(float, float). python_type(int, int). python_type(bool, bool).
python_type(optional(float), 'Optional[float]'). python_type(optional(int), 'Optional[int]').
python_type(choice(_), str).
python_value(none, 'None') :- !.
python_value(true, 'True') :- !.
python_value(false, 'False') :- !.
python_value(V, V).
