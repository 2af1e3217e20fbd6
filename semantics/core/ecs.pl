/*  The entity-component vocabulary every spec is written in.

    An entity is an op or an extension: entity(Name).
    A component is one fact about it:   component(Entity, Key, Value).
    A system is a rule deriving components from others (derived/3).
    A check is a rule naming a violation: violation(Where, Message), Where being the
    fact to blame (entity(E) or component(E, K, V)) so the loader can point at its file:line.

    Every vocabulary file is a module. This one owns the spec database (entity/1, component/3 and
    spec_clause_at/3, asserted by the loader, grimoire/prolog/bridge.pl) and declares the hooks a kind
    fills in; the core's other modules (expr, checks, activation, spells) and the kinds import from it.
*/

:- module(ecs, [
    % The spec database: the facts of the spec files, and where each was written.
    entity/1, component/3, spec_clause_at/3,
    % The kind hooks (see "Writing a kind" below).
    op_kind/2, kind_requires/2, kind_component/4, kind_device/2, kind_device_dtypes/3,
    kind_violation/2, kind_derived/3, kind_schema/3, kind_python_signature/3, kind_differentiable/3,
    kind_reduction/2, kind_waives/2,
    % The vocabulary as data.
    component_spec/4, known_dtype/1, known_device/1, attr_type/1,
    max_name_length/1, reserved_doc/2, role_reserves/2, reserved_list/2, reserved_word/2,
    % Names.
    valid_identifier/1, valid_class_name/1, valid_python_name/1, name_problem/3, choice_problem/2,
    camel_case/2,
    % Queries over the components.
    is_extension/1, is_op/1, op_inputs/2, op_outputs/2, op_attrs/2, op_attr_names/2, attr_parts/4,
    op_differentiable/2, op_dtypes/2, op_devices/2, op_device_dtypes/3, op_extension/2, op_module/2,
    ext_namespace/2, ext_package/2, op_peer/2, peer_call/2, bench_peer_term/5, bench_bar_term/6, bench_peer_library/1, op_test_ranges/2, operation_info/1,
    % Systems, and the pieces of schemas and signatures a kind writes its own from.
    derived/3, op_schema/2, op_schema_args/2, schema_attr/4, schema_returns/2, tensor_arg/2,
    python_signature/2, python_param/4, python_value/2
]).

% Specs are data: the loader reads their facts and asserts them here (grimoire/prolog/bridge.pl).
:- dynamic entity/1, component/3.
%  spec_clause_at(Ref, File, Line): the asserted spec fact Ref was written at File:Line (asserted
%  clauses carry no source location; checks.pl's locate/3 reads it).
:- dynamic spec_clause_at/3.

/*  Writing a kind: the hooks.

    A kind is one module, semantics/kinds/<kind>.pl, named after the kind:

        :- module(toy, []).
        :- use_module(semantics(core/ecs)).        % op_inputs/2, component/3, schema_attr/4, ...
        ecs:op_kind(toy, "what an op of this kind computes").

    It imports what it needs from the core modules (semantics(core/ecs), semantics(core/expr),
    semantics(core/activation), semantics(core/checks), or another kind's exports, as
    semantics(kinds/rowwise): the loader resolves each to the file it loads, the project's own or
    grimoire's), keeps its helpers private, and adds clauses, each qualified with ecs:, to the hooks
    below (the core queries nothing else of a kind). A file that declares no module is refused at its
    first line. Only op_kind/2 is required; a kind that fills no other hook takes the defaults in
    brackets.

      op_kind(Kind, Doc)                      the kind exists; Doc is its one-line description.
      kind_requires(Kind, Key)                an op of Kind must have a Key component.
      kind_component(Kind, Key, Card, Help)   a component only ops of Kind take (Card one or many).
      kind_device(Kind, Device)               Kind has kernels (templates) for Device.
      kind_device_dtypes(Kind, Device, Ds)    the dtypes its kernels for Device support [every dtype].
      kind_violation(Kind, Op-Where-Msg)      a check of Kind's ops: Where (entity(Op) or
                                              component(Op, K, V)) is blamed with Msg.
      kind_derived(Kind, Op, Key-Value)       a derived component, reaching the templates as
                                              op.derived.<Key>.
      kind_schema(Kind, Op, Schema)           the torch.library schema [inputs, then attrs].
      kind_python_signature(Kind, Op, Sig)    the Python wrapper's parameters [the same].
      kind_differentiable(Kind, Op, Inputs)   where gradients flow when the spec has no
                                              differentiable component [every non-index input].
      kind_reduction(Kind, Name)              an inline reduction Kind's expressions may use, for the
                                              spec-language reference [none].
      kind_waives(Kind, Check)                Kind's ops are exempt from a core check: attrs_defaults_last
                                              (required attrs before defaulted ones), module_name (the
                                              nn.Module class name; the kind generates none) [none].
*/
:- multifile op_kind/2, kind_requires/2, kind_component/4, kind_device/2, kind_device_dtypes/3,
   kind_violation/2, kind_derived/3, kind_schema/3, kind_python_signature/3, kind_differentiable/3,
   kind_reduction/2, kind_waives/2.
:- discontiguous op_kind/2, kind_requires/2, kind_component/4, kind_device/2, kind_device_dtypes/3,
   kind_violation/2, kind_derived/3, kind_schema/3, kind_python_signature/3, kind_differentiable/3,
   kind_reduction/2, kind_waives/2.
% Dynamic: a hook no loaded kind fills is empty, not unknown.
:- dynamic op_kind/2, kind_requires/2, kind_component/4, kind_device/2, kind_device_dtypes/3,
   kind_violation/2, kind_derived/3, kind_schema/3, kind_python_signature/3, kind_differentiable/3,
   kind_reduction/2, kind_waives/2.

%% component_spec(?Key, ?Cardinality, ?Scope, ?Help)
%  The closed vocabulary: a component with any other key is a spec error.
component_spec(kind,           one,  any,       "kind: one of the op kinds, or extension").
component_spec(doc,            one,  any,       "doc: a one-line description, as a \"string\"").
component_spec(input,          many, op,        "input: a tensor input name, one fact per input, in call order").
component_spec(attr,           many, op,        "attr: Name: Type = Default, or Name: Type for a required attr (Type float, int, bool, optional(float), optional(int) or choice([a, b, ...]))").
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
component_spec(bench_bar,      many, op,        "bench_bar: Device(Pass, shape([...]), Peer >= Ratio), a bar the benchmark report checks the generated op against: on Device (cpu or cuda), its Pass (forward, backward, ...) at that bench shape is at least Ratio times as fast as the peer named Peer (eager, compile or a bench_peer's name), e.g. cuda(forward, shape([4, 16, 2048, 64]), eager >= 1.5)").
component_spec(bench_peer,     many, op,        "bench_peer: Name = Call, a library implementation the benchmark races (Call: a dotted Python function over the op's inputs and attrs, imported when the benchmark runs; one that does not import is left out), or cpu(Name = Call) / cuda(Name = Call) for one device, e.g. cuda(liger = 'liger_kernel.transformers.functional.liger_softmax'(x))").
component_spec(test_shape,     many, op,        "test_shape: shape([D1, ...]) of a test input").
component_spec(peer,           one,  op,        "peer: the matching torch function as a call over the op's inputs and attrs (whose arguments may be such calls too), e.g. 'torch.nn.functional.gelu'(x, approximate = \"tanh\") or 'torch.mul'(cap, 'torch.tanh'('torch.div'(x, cap))); a rowwise peer that passes the inputs then -1 by position ('torch.sum'(x, -1, keepdim = keepdim)) puts the wrapper's dim there, as torch's").
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

% ---------------------------------------------------------------------------------------------
% Names: every namespace a spec's names land in, as data (one place, for the checks and the docs).
%
%   reserved_list(Namespace, Words): the words Namespace already holds (case-sensitive).
%   reserved_doc(Namespace, Text):   what that namespace is, as a message says it.
%   role_reserves(Role, Namespaces): where a name of each role lands (op, input, output, attr,
%                                    column_input, module, namespace, package).
%   name_problem(+Role, +Name, -Problem): why Name cannot serve in Role (ASCII, length, spelling,
%                                    reserved words); fails when it can.
%   Tests (tests/test_spec_errors.py) check these lists against Python's keyword and builtins
%   modules, dir(torch.nn.Module()), torch's op namespaces and the generated package's __init__.py.
% ---------------------------------------------------------------------------------------------

%% max_name_length(N): names become file names (tests/test_<op>_cuda.py, csrc/<op>_cuda.cu) and C++
%  symbols (<op>_backward_cuda); 64 characters keep every one of them far under the 255 of a file name.
max_name_length(64).

reserved_doc(cpp_keyword, "a C++ keyword").
reserved_doc(python_keyword, "a Python keyword").
reserved_doc(python_soft_keyword, "a Python soft keyword").
reserved_doc(python_builtin, "a Python builtin, which the generated Python code would shadow").
reserved_doc(generator_name, "a name the generated code uses itself").
reserved_doc(c_macro, "a macro of the C library the generated C++ includes, which the preprocessor would expand").
reserved_doc(generator_class, "a name the generated op modules import").
reserved_doc(torch_namespace, "a torch.ops namespace that torch or a well-known library registers").
reserved_doc(module_attribute, "an attribute or method every torch.nn.Module has (the op's module would lose it)").
reserved_doc(package_name, "a name the generated package defines at its top level").

role_reserves(op,           [cpp_keyword, python_keyword, python_soft_keyword, generator_name, python_builtin, package_name]).
role_reserves(input,        [cpp_keyword, c_macro, python_keyword, python_soft_keyword, generator_name, python_builtin]).
role_reserves(output,       [cpp_keyword, c_macro, python_keyword, python_soft_keyword, generator_name, python_builtin]).
role_reserves(attr,         [cpp_keyword, c_macro, python_keyword, python_soft_keyword, generator_name, python_builtin, module_attribute]).
role_reserves(column_input, [cpp_keyword, c_macro, python_keyword, python_soft_keyword, generator_name, python_builtin, module_attribute]).
role_reserves(module,       [python_keyword, python_builtin, generator_class, package_name]).
role_reserves(namespace,    [cpp_keyword, python_keyword, python_soft_keyword, generator_name, torch_namespace]).
role_reserves(package,      [cpp_keyword, python_keyword, python_soft_keyword, generator_name, torch_namespace]).

%% reserved_exempt(Role, Word, Namespace): a reserved word a role may use all the same: the generated
%  code for an op called sum is proven (the bundled sum op) not to need the builtin it shadows.
reserved_exempt(op, sum, python_builtin).

reserved_list(cpp_keyword, [alignas, alignof, and, and_eq, asm, auto, bitand, bitor, bool, break, case,
    catch, char, char16_t, char32_t, char8_t, class, compl, concept, const, consteval, constexpr, constinit,
    const_cast, continue, co_await, co_return, co_yield, decltype, default, delete, do, double, dynamic_cast,
    else, enum, explicit, export, extern, false, float, for, friend, goto, if, inline, int, long, mutable,
    namespace, new, noexcept, not, not_eq, nullptr, operator, or, or_eq, private, protected, public, register,
    reinterpret_cast, requires, return, short, signed, sizeof, static, static_assert, static_cast, struct,
    switch, template, this, thread_local, throw, true, try, typedef, typeid, typename, union, unsigned, using,
    virtual, void, volatile, wchar_t, while, xor, xor_eq]).
reserved_list(python_keyword, ['False', 'None', 'True', and, as, assert, async, await, break, class, continue,
    def, del, elif, else, except, finally, for, from, global, if, import, in, is, lambda, nonlocal, not, or,
    pass, raise, return, try, while, with, yield]).
reserved_list(python_soft_keyword, [match, case, type, '_']).
reserved_list(python_builtin, ['ArithmeticError', 'AssertionError', 'AttributeError', 'BaseException',
    'BaseExceptionGroup', 'BlockingIOError', 'BrokenPipeError', 'BufferError', 'BytesWarning',
    'ChildProcessError', 'ConnectionAbortedError', 'ConnectionError', 'ConnectionRefusedError',
    'ConnectionResetError', 'DeprecationWarning', 'EOFError', 'Ellipsis', 'EncodingWarning', 'EnvironmentError',
    'Exception', 'ExceptionGroup', 'False', 'FileExistsError', 'FileNotFoundError', 'FloatingPointError',
    'FutureWarning', 'GeneratorExit', 'IOError', 'ImportError', 'ImportWarning', 'IndentationError',
    'IndexError', 'InterruptedError', 'IsADirectoryError', 'KeyError', 'KeyboardInterrupt', 'LookupError',
    'MemoryError', 'ModuleNotFoundError', 'NameError', 'None', 'NotADirectoryError', 'NotImplemented',
    'NotImplementedError', 'OSError', 'OverflowError', 'PendingDeprecationWarning', 'PermissionError',
    'ProcessLookupError', 'PythonFinalizationError', 'RecursionError', 'ReferenceError', 'ResourceWarning',
    'RuntimeError', 'RuntimeWarning', 'StopAsyncIteration', 'StopIteration', 'SyntaxError', 'SyntaxWarning',
    'SystemError', 'SystemExit', 'TabError', 'TimeoutError', 'True', 'TypeError', 'UnboundLocalError',
    'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError', 'UnicodeTranslateError', 'UnicodeWarning',
    'UserWarning', 'ValueError', 'Warning', 'ZeroDivisionError', abs, aiter, all, anext, any, ascii, bin, bool,
    breakpoint, bytearray, bytes, callable, chr, classmethod, compile, complex, copyright, credits, delattr,
    dict, dir, divmod, enumerate, eval, exec, exit, filter, float, format, frozenset, getattr, globals, hasattr,
    hash, help, hex, id, input, int, isinstance, issubclass, iter, len, license, list, locals, map, max,
    memoryview, min, next, object, oct, open, ord, pow, print, property, quit, range, repr, reversed, round, set,
    setattr, slice, sorted, staticmethod, str, sum, super, tuple, type, vars, zip]).
% none/true/false: the specs' spellings of None/True/False (attr defaults, peer arguments).
% The lower-case macros in scope in the generated C++ (g++ -dM -E over torch/extension.h; a test
% checks the list against it): a value name spelt like one would be expanded away.
reserved_list(c_macro, [alloca, assert, assert_perror, be16toh, be32toh, be64toh, errno, htobe16, htobe32,
    htobe64, htole16, htole32, htole64, int_vector, issubnormal, jiterator_also_stringify_as, jiterator_code,
    le16toh, le32toh, le64toh, math_errhandling, offsetof, pthread_cleanup_pop, pthread_cleanup_pop_restore_np,
    pthread_cleanup_push, pthread_cleanup_push_defer_np, sched_priority, st_atime, st_ctime, st_mtime, stderr,
    stdin, stdout, strdupa, strndupa, timeradd, timerclear, timercmp, timerisset, timersub, va_arg, va_copy,
    va_end, va_start]).
reserved_list(generator_name, [self, torch, at, c10, std, grimoire, ctx, iter, scalar_t, opmath_t, out,
    result, grad, m, nn, math, pi, none, true, false]).
reserved_list(generator_class, ['Tensor', 'Optional', 'Sequence', 'GeneratedOptimizer']).
% Namespaces of torch.ops: torch's own (torch._C._dispatch_get_all_op_names(), dir(torch.ops)), then
% those of libraries people load beside an extension (their TORCH_LIBRARY blocks would collide).
reserved_list(torch_namespace, [aten, prim, prims, '_', torch, quantized, '_quantized', c10d, c10d_functional,
    '_c10d_functional', '_c10d_functional_autograd', '_dtensor', '_native', '_test', '_dir', debug_mode_ops,
    debugprims, export, higher_order, inductor, inductor_prims, loaded_libraries, load_library, import_module,
    mkl, mkldnn, mkldnn_prepacked, onednn, profiler, quantization, quantized_decomposed, rngprims, sparse,
    static_runtime, symm_mem, cuda, cpu, xpu, mps, meta, fbgemm, torchvision, torchaudio, torchtext, torchrec,
    xformers, flash_attn, triton, vllm, tensorrt, torch_tensorrt, image]).
reserved_list(module_attribute, ['T_destination', add_module, apply, bfloat16, buffers, call_super_init,
    children, compile, cpu, cuda, double, dump_patches, eval, extra_repr, float, forward, get_buffer,
    get_extra_state, get_parameter, get_submodule, half, ipu, load_state_dict, modules, mtia, named_buffers,
    named_children, named_modules, named_parameters, parameters, register_backward_hook, register_buffer,
    register_forward_hook, register_forward_pre_hook, register_full_backward_hook,
    register_full_backward_pre_hook, register_load_state_dict_post_hook, register_load_state_dict_pre_hook,
    register_module, register_parameter, register_state_dict_post_hook, register_state_dict_pre_hook,
    requires_grad_, set_extra_state, set_submodule, share_memory, state_dict, to, to_empty, train, training,
    type, xpu, zero_grad]).
% templates/extension/: its modules and folders, and what __init__.py.j2 imports or defines.
reserved_list(package_name, [ops, tests, benchmarks, csrc, optim, profiler, 'Profiler', 'OPS', gemm_backend,
    current_gemm_backend, index_checks, index_checks_enabled]).

reserved_word(W, Namespace) :- reserved_list(Namespace, Ws), memberchk(W, Ws).

%% Reserved words of identifiers in general (any role): C++ and Python keywords, names the generated code uses.
reserved(W) :- member(NS, [cpp_keyword, python_keyword, python_soft_keyword, generator_name]), reserved_word(W, NS), !.
cpp_keyword(W) :- reserved_word(W, cpp_keyword).
python_keyword(W) :- ( reserved_word(W, python_keyword) ; reserved_word(W, python_soft_keyword) ), !.
generator_name(W) :- reserved_word(W, generator_name).

%% valid_identifier(+Atom): lower-case ASCII C/Python identifier, short enough, not reserved, not a generator prefix.
valid_identifier(A) :- atom(A), \+ name_problem(identifier, A, _).

%% valid_class_name(+Atom): CamelCase ASCII identifier, short enough, not a Python keyword.
valid_class_name(A) :- atom(A), \+ name_problem(class, A, _).

%% name_problem(+Role, +Name, -Problem): the first reason Name cannot serve in Role, as a sentence
%  that says what to write instead. Role identifier: any lower_snake_case name, with the reserved words
%  every role shares; class: any CamelCase name.
name_problem(Role, N, P) :- once(name_problem_(Role, N, P)).

name_problem_(Role, N, P) :- \+ atom(N), !, role_example(Role, Ex),
    format(string(P), "~q is not a name: write an atom such as ~w", [N, Ex]).
name_problem_(_, N, P) :- atom_codes(N, Cs), nth1(I, Cs, C), C > 127, !,
    format(atom(Hex), "~16r", [C]), upcase_atom(Hex, HEX), atom_length(HEX, HL), Pad is max(0, 4 - HL),
    length(Zs, Pad), maplist(=(0'0), Zs), atom_codes(Z, Zs),
    format(string(P), "its character ~w is '~c' (U+~w~w), not ASCII: write names in ASCII letters, digits and _ only (a look-alike letter from another alphabet names something else)", [I, C, Z, HEX]).
name_problem_(_, N, P) :- max_name_length(Max), atom_length(N, L), L > Max, !,
    format(string(P), "it is ~w characters long: names have at most ~w (they become file names and C++ symbols); shorten it", [L, Max]).
name_problem_(Role, N, P) :- class_role(Role), !, class_name_problem(Role, N, P).
name_problem_(Role, N, P) :- snake_problem(Role, N, P).

class_role(class). class_role(module).

class_name_problem(_, N, P) :-
    atom_codes(N, [C|Cs]),
    \+ ( code_type(C, upper), forall(member(X, Cs), code_type(X, csym)) ), !,
    format(string(P), "write a CamelCase class name: an upper-case letter, then letters and digits", []).
class_name_problem(Role, N, P) :- reserved_problem(Role, N, P).

snake_problem(Role, N, P) :- atom_codes(N, []), !, role_example(Role, Ex),
    format(string(P), "it is empty: write a lower_snake_case name such as ~w", [Ex]).
snake_problem(_, N, P) :- sub_atom(N, 0, 1, _, '_'), !,
    format(string(P), "names starting with _ are the generated code's own: start it with a letter", []).
snake_problem(_, N, P) :- atom_codes(N, [C|_]), \+ code_type(C, alpha), !,
    format(string(P), "it must start with a letter: write e.g. x~w", [N]).
snake_problem(_, N, P) :- atom_codes(N, Cs), member(C, Cs), code_type(C, upper), !, downcase_atom(N, L),
    ( name_problem(identifier, L, _) -> atom_concat(my_, L, S) ; S = L ),
    format(string(P), "it has upper-case letters: write lower_snake_case, e.g. ~w", [S]).
snake_problem(Role, N, P) :- atom_codes(N, Cs), member(C, Cs), \+ code_type(C, csym), !, role_example(Role, Ex),
    format(string(P), "it may hold only lower-case letters, digits and _, as ~w does", [Ex]).
snake_problem(_, N, P) :- sub_atom(N, _, _, _, '__'), !, atomic_list_concat(Parts, '__', N),
    exclude(==(''), Parts, Kept), atomic_list_concat(Kept, '_', S),
    format(string(P), "it has two underscores in a row, which C++ reserves for the compiler: write e.g. ~w", [S]).
snake_problem(_, N, P) :- member(Prefix, [grad_, tmp_]), sub_atom(N, 0, _, _, Prefix), !,
    format(string(P), "names starting with ~w are the generated code's own (grad_<output> is the incoming gradient): choose another", [Prefix]).
snake_problem(Role, N, P) :- reserved_problem(Role, N, P).

reserved_problem(Role, N, P) :-
    role_namespaces(Role, NSs), member(NS, NSs), reserved_word(N, NS), \+ reserved_exempt(Role, N, NS), !,
    reserved_doc(NS, Doc), role_suggestion(Role, N, S),
    format(string(P), "'~w' is ~w: choose another name, e.g. ~w", [N, Doc, S]).

role_namespaces(identifier, [cpp_keyword, python_keyword, python_soft_keyword, generator_name]) :- !.
role_namespaces(class, [python_keyword]) :- !.
role_namespaces(Role, NSs) :- role_reserves(Role, NSs).

role_example(module, 'MyOp') :- !.
role_example(class, 'MyOp') :- !.
role_example(op, my_op) :- !.
role_example(attr, beta) :- !.
role_example(output, y) :- !.
role_example(namespace, my_ops) :- !.
role_example(package, my_ops) :- !.
role_example(_, x).

role_suggestion(Role, N, S) :- class_role(Role), !, atom_concat('My', N, S).
role_suggestion(_, N, S) :- atom_concat(my_, N, S).

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
op_differentiable(Op, Ds) :- component(Op, kind, K), kind_differentiable(K, Op, Ds), !.
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

%% peer_call(+Op, +Term): a call of a dotted torch.* function over the op's names and literals, and over
%  calls of the same kind (a peer the op is composed from: 'torch.mul'(c, 'torch.tanh'('torch.div'(x, c)))).
peer_call(Op, Call) :-
    op_inputs(Op, Ins), op_attr_names(Op, As), append(Ins, As, Names),
    torch_call(Call, Names).
torch_call(Call, Names) :-
    compound(Call), compound_name_arguments(Call, F, Args), torch_function(F),
    forall(member(A, Args), peer_arg(A, Names)).
torch_function(F) :-
    atom(F), atomic_list_concat(Parts, '.', F), Parts = [torch|Rest], Rest \== [],
    forall(member(P, Rest), valid_python_name(P)).
peer_arg(K = V, Names) :- !, atom(K), valid_python_name(K), peer_value(V, Names).
peer_arg(V, Names) :- peer_value(V, Names).
peer_value(V, _) :- number(V), !.
peer_value(V, _) :- string(V), !.
peer_value(V, _) :- memberchk(V, [true, false, none]), !.
peer_value(V, Names) :- atom(V), !, memberchk(V, Names).
peer_value(shape(I, D), Names) :- !, memberchk(I, Names), integer(D).
peer_value(V, Names) :- is_list(V), !, forall(member(X, V), peer_value(X, Names)).
peer_value(V, Names) :- torch_call(V, Names).
valid_python_name(P) :- atom(P), atom_codes(P, [C|Cs]), C < 128, code_type(C, csymf), forall(member(X, Cs), (X < 128, code_type(X, csym))).

%% choice_problem(+Choice, -Problem): why Choice cannot be one of a choice attr's values (a Python and C++ string
%  and an identifier-like word in the schema's default).
choice_problem(C, P) :- \+ atom(C), !, format(string(P), "~q is not a word: write a lower-case atom such as mean", [C]).
choice_problem(C, P) :- atom_codes(C, Cs), member(X, Cs), X > 127, !, name_problem(choice, C, P).
choice_problem(C, P) :- max_name_length(Max), atom_length(C, L), L > Max, !, name_problem(choice, C, P).
choice_problem(C, P) :- \+ valid_python_name(C), !,
    format(string(P), "write a word of letters, digits and _ that starts with a letter, such as mean", []).

peer_python(Call, Py) :-
    compound_name_arguments(Call, F, Args),
    maplist(peer_arg_python, Args, Ps), atomic_list_concat(Ps, ', ', AL),
    format(string(Py), "~w(~w)", [F, AL]).
peer_arg_python(K = V, S) :- !, peer_value_python(V, VS), format(string(S), "~w=~w", [K, VS]).
peer_arg_python(V, S) :- peer_value_python(V, S).
peer_value_python(V, S) :- string(V), !, python_string_literal(V, S).
peer_value_python(shape(I, D), S) :- !, format(string(S), "~w.shape[~w]", [I, D]).
peer_value_python(V, S) :- is_list(V), !, maplist(peer_value_python, V, Ss), atomic_list_concat(Ss, ', ', J), format(string(S), "[~w]", [J]).
peer_value_python(V, S) :- compound(V), !, peer_python(V, S).
peer_value_python(V, S) :- python_value(V, S0), format(string(S), "~w", [S0]).

%% python_string_literal(+String, -Literal): a double-quoted Python literal that evaluates to String, so a
%  peer's string argument stays a string (grimoire/escape.py's py_string, for text that reaches Python
%  through a derived component): backslash and quote escaped, control characters as \xHH / \uHHHH.
python_string_literal(V, S) :-
    string_codes(V, Cs), maplist(python_char_escape, Cs, Es), atomic_list_concat(Es, Body),
    format(string(S), "\"~w\"", [Body]).
python_char_escape(0'\\, '\\\\') :- !.
python_char_escape(0'", '\\"') :- !.
python_char_escape(C, E) :- ( C < 32 ; C >= 127, C < 160 ), !, format(atom(E), "\\x~|~`0t~16r~2+", [C]).
python_char_escape(C, E) :- C >= 0xD800, C =< 0xDFFF, !, format(atom(E), "\\u~|~`0t~16r~4+", [C]).
python_char_escape(C, E) :- char_code(E, C).

%% bench_peer_term(+Op, +Term, -Name, -Devices, -Call): a bench_peer component read: Name = Call on each of
%  Op's devices, or Dev(Name = Call) on Dev alone. Name is a Python name other than the built-in peers'
%  (generated, eager, compile); Call is a dotted function of a module (two parts at least) over the op's
%  inputs, attrs and literals, as a peer's call is.
bench_peer_term(Op, T, Name, Devs, Call) :-
    (   T = (Name = Call) -> op_devices(Op, Devs)
    ;   compound(T), T =.. [Dev, Name = Call], known_device(Dev) -> Devs = [Dev]
    ),
    atom(Name), valid_python_name(Name), \+ memberchk(Name, [generated, eager, compile]),
    compound(Call), compound_name_arguments(Call, F, Args), atom(F),
    atomic_list_concat(Parts, '.', F), Parts = [Root, _|_], forall(member(P, Parts), valid_python_name(P)),
    bench_peer_library(Root),
    op_inputs(Op, Ins), op_attr_names(Op, As), append(Ins, As, Names),
    forall(member(A, Args), peer_arg(A, Names)).

%% bench_peer_library(?Package): the kernel libraries a bench_peer may call into. A spec is data: naming
%  any module would let a spec make the generated benchmarks call os.system or the like.
bench_peer_library(torch).
bench_peer_library(liger_kernel).
bench_peer_library(flash_attn).
bench_peer_library(xformers).
bench_peer_library(apex).
bench_peer_library(transformer_engine).
bench_peer_library(triton).

%% op_bench_peers(+Op, -Peers): the library peers as the bench templates take them: name, the dotted
%  function, the call's arguments as Python, and the devices it runs on.
op_bench_peers(Op, Peers) :-
    findall(_{name: N, function: F, args: AL, devices: Ds},
            ( component(Op, bench_peer, T), bench_peer_term(Op, T, N, Ds, Call),
              compound_name_arguments(Call, F, Args),
              maplist(peer_arg_python, Args, Ps), atomic_list_concat(Ps, ', ', AL) ),
            Peers).

%% bench_bar_term(+Term, -Device, -Pass, -Shape, -Peer, -Ratio): a bench_bar component, read.
bench_bar_term(T, Dev, Pass, Shape, Peer, Ratio) :-
    compound(T), T =.. [Dev, Pass, shape(Shape), (Peer >= Ratio)], memberchk(Dev, [cpu, cuda]),
    ( atom(Pass) ; Pass = A + B, atom(A), atom(B) ), atom(Peer), number(Ratio), Ratio > 0,
    is_list(Shape), Shape \== [], forall(member(D, Shape), (integer(D), D >= 0)).

%% op_bench_bars(+Op, -Bars): the report's bars of the op, as data.
op_bench_bars(Op, Bars) :-
    findall(_{device: Dev, pass: Pass, shape: Shape, peer: Peer, ratio: R},
            ( component(Op, bench_bar, T), bench_bar_term(T, Dev, P, Shape, Peer, R0), R is float(R0),
              format(string(Pass), "~w", [P]) ),
            Bars).

%% op_test_ranges(+Op, -Pairs): Input-[Low, High] for every input, [-3, 3] unless the spec says otherwise.
op_test_ranges(Op, Pairs) :-
    op_inputs(Op, Ins),
    findall(I-R, ( member(I, Ins), ( component(Op, test_range, I: R) -> true ; R = [-3.0, 3.0] ) ), Pairs).

%% operation_info(+Op): print every component of Op, then the derived ones (for `grimoire perceive`):
%  a derived string on its line, a derived structure (a plan, a list of peers) as JSON wrapped at 78
%  columns under its key, so that it reads in a terminal and parses in a pipe.
operation_info(Op) :-
    entity(Op),
    forall(component(Op, K, V), format("~w: ~q~n", [K, V])),
    forall(derived(Op, K, V), print_derived(K, V)).

print_derived(K, V) :- ( string(V) ; atom(V) ; number(V) ), !, format("~w (derived): ~w~n", [K, V]).
print_derived(K, V) :-
    format("~w (derived):~n", [K]),
    with_output_to(string(J), json:json_write_dict(current_output, V, [width(78)])),
    format("~s~n", [J]).

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
derived(Op, bench_peers, Peers) :- is_op(Op), op_bench_peers(Op, Peers).
derived(Op, bench_bars, Bars) :- is_op(Op), op_bench_bars(Op, Bars).
derived(Op, replaces, R) :- is_op(Op), ( component(Op, replaces, R0) -> format(string(R), "~w", [R0]) ; R = "" ).
derived(Op, test_ranges, R) :- is_op(Op), op_test_ranges(Op, Pairs), dict_pairs(R, _, Pairs).
derived(Op, Key, Value) :- is_op(Op), component(Op, kind, Kind), kind_derived(Kind, Op, Key-Value).

%% op_schema(+Op, -Schema): the torch.library schema string.
op_schema(Op, Schema) :-
    op_schema_args(Op, Args), op_outputs(Op, Outs),
    schema_returns(Outs, Ret),
    format(string(Schema), "~w(~w) -> ~w", [Op, Args, Ret]).

%% op_schema_args(+Op, -Args): "Tensor x, Tensor y, float alpha=1.0": the inputs, then the attrs.
op_schema_args(Op, Args) :-
    op_inputs(Op, Ins), op_attrs(Op, As),
    findall(S, (member(I, Ins), format(string(S), "Tensor ~w", [I])), InS),
    findall(S, (member(attr(N, T, D), As), schema_attr(N, T, D, S)), AttrS),
    append(InS, AttrS, ArgS),
    atomic_list_concat(ArgS, ', ', Args).

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

%% tensor_arg(+Name, -Arg): "Tensor x" for an input, "Tensor grad_y" for grad_(y).
tensor_arg(grad_(O), A) :- !, format(string(A), "Tensor grad_~w", [O]).
tensor_arg(I, A) :- format(string(A), "Tensor ~w", [I]).

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
