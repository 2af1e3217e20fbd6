/*  The knowledge layer's side of the bridge to Python (loaded before any spec):
    - captures every error and warning printed while consulting, with file:line, so a spec
      with a syntax error fails instead of loading the rest silently;
    - exports the model as one JSON atom, so Python never walks Prolog terms;
    - runs an arbitrary query for `grimoire perceive`, returning printed solutions;
    - holds the latest saved benchmark run as facts, so `perceive` answers questions about it.
*/

:- use_module(library(http/json)).
:- use_module(library(apply)).
:- use_module(library(lists)).

:- dynamic grimoire_message/4.     % grimoire_message(Kind, File, Line, Text)
:- dynamic grimoire_capturing/0.

:- multifile user:message_hook/3.
user:message_hook(Term, Kind, Lines) :-
    grimoire_capturing,
    memberchk(Kind, [error, warning]),
    message_location(Term, File, Line),
    catch(message_text(Lines, Text), _, Text = "unprintable message"),
    assertz(grimoire_message(Kind, File, Line, Text)),
    fail.                          % let SWI-Prolog go on as usual (we only record)

message_location(error(_, file(File, Line, _, _)), File, Line) :- !.
message_location(error(_, stream(Stream, Line, _, _)), File, Line) :- !,
    ( catch(stream_property(Stream, file_name(File)), _, fail) -> true ; File = unknown ).
message_location(_, File, Line) :- source_location(File, Line), !.
message_location(_, unknown, 0).

message_text(Lines, Text) :-
    with_output_to(string(Text0), print_message_lines(current_output, '', Lines)),
    split_string(Text0, "", " \n", [Text]).

%% grimoire_consult(+Files): consult each file with message capture on.
grimoire_consult(Files) :-
    retractall(grimoire_message(_, _, _, _)),
    setup_call_cleanup(assertz(grimoire_capturing),
                       forall(member(F, Files), catch(consult(F), E, record_exception(F, E))),
                       retractall(grimoire_capturing)).

record_exception(File, E) :-
    message_to_string(E, Text),
    assertz(grimoire_message(error, File, 0, Text)).

message_to_string(E, Text) :-
    catch(( '$messages':translate_message(E, Lines, []), message_text(Lines, Text) ),
          _, format(string(Text), "~q", [E])).

%% grimoire_messages_json(-Json)
grimoire_messages_json(Json) :-
    findall(_{kind: K, file: F, line: L, message: T}, grimoire_message(K, F, L, T), Ms),
    atom_json_dict(Json, Ms, [width(0)]).

%% grimoire_violations_json(-Json)
grimoire_violations_json(Json) :-
    findall(_{file: F, line: L, message: M}, located_violation(F, L, M), Vs),
    atom_json_dict(Json, Vs, [width(0)]).

%% grimoire_model_json(-Json): every extension and op with its written and derived components.
grimoire_model_json(Json) :-
    findall(X, (is_extension(E), export_extension(E, X)), Exts),
    findall(X, (is_op(Op), export_op(Op, X)), Ops),
    atom_json_dict(Json, _{extensions: Exts, ops: Ops}, [width(0)]).

export_extension(E, _{name: E, namespace: NS, package: P, doc: Doc, file: F, line: L, cuda_archs: Archs}) :-
    ext_namespace(E, NS), ext_package(E, P),
    ( component(E, cuda_archs, As) -> maplist([A, S]>>format(string(S), "~w", [A]), As, Archs) ; Archs = [] ),
    ( component(E, doc, Doc) -> true ; Doc = "" ),
    locate(entity(E), F, L).

export_op(Op, X) :-
    component(Op, kind, Kind), component(Op, doc, Doc),
    locate(entity(Op), F, L),
    op_inputs(Op, Ins), op_outputs(Op, Outs), op_attrs(Op, As),
    maplist(export_attr, As, AttrsJ),
    op_dtypes(Op, Dtypes), op_devices(Op, Devices), op_module(Op, Module),
    findall(Dev-Ds, (member(Dev, Devices), op_device_dtypes(Op, Dev, Ds)), DevDs), dict_pairs(DeviceDtypes, _, DevDs),
    op_differentiable(Op, Diff), op_extension(Op, Ext),
    findall(Dims, component(Op, bench, shape(Dims)), Bench),
    findall(Dev-Ds, ( member(Dev, Devices),
                      findall(Dims, ( component(Op, bench, T), compound(T), T =.. [Dev, shape(Dims)] ), Ds) ),
            DevBench0),
    dict_pairs(DeviceBench, _, DevBench0),
    findall(Dims, component(Op, test_shape, shape(Dims)), TestShapes),
    findall(K-V, derived(Op, K, V), Pairs), dict_pairs(Derived, _, Pairs),
    X = _{name: Op, kind: Kind, doc: Doc, file: F, line: L, inputs: Ins, outputs: Outs, attrs: AttrsJ,
          dtypes: Dtypes, devices: Devices, device_dtypes: DeviceDtypes, module: Module, differentiable: Diff, extension: Ext,
          bench_shapes: Bench, device_bench_shapes: DeviceBench, test_shapes: TestShapes, derived: Derived}.

export_attr(attr(N, T, D), _{name: N, type: TS, has_default: HD, default: DV, choices: Cs}) :-
    type_string(T, TS),
    ( T = choice(Cs) -> true ; Cs = [] ),
    ( D = default(V) -> HD = true, json_value(V, DV) ; HD = false, DV = null ).
type_string(optional(T), S) :- !, format(string(S), "~w?", [T]).
type_string(choice(_), "str") :- !.
type_string(T, S) :- format(string(S), "~w", [T]).
json_value(none, null) :- !.
json_value(V, V).

%% grimoire_perceive(+QueryText, -Json): run any query; its solutions' bindings and what it printed.
grimoire_perceive(Text, Json) :-
    catch(term_string(Goal, Text, [variable_names(Bindings)]), E, true),
    (   nonvar(E)
    ->  perceive_error(E, Json)
    ;   catch(with_output_to(string(Out),
                  findall(Bs, ( call(Goal),
                                findall(B, (member(N = V, Bindings), format(string(B), "~w = ~q", [N, V])), Bs) ),
                          Sols0)),
              Err, true),
        (   nonvar(Err)
        ->  perceive_error(Err, Json)
        ;   first_n(Sols0, 500, Sols),
            atom_json_dict(Json, _{ok: true, printed: Out, solutions: Sols}, [width(0)])
        )
    ).
perceive_error(E, Json) :-
    message_to_string(E, Msg),
    atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)]).

first_n(L, N, P) :- length(L, Len), ( Len =< N -> P = L ; length(P, N), append(P, _, L) ).

%% grimoire_plan_json(+SpellText, -Json): the ordered steps a spell stands for (spell_plan/2 in semantics/core),
%  each as [Name, Arg...] so that steps may take arguments (conjure(new_op(my_op, custom))).
grimoire_plan_json(Text, Json) :-
    catch(term_string(Spell, Text), E, true),
    (   nonvar(E) -> perceive_error(E, Json)
    ;   \+ ground(Spell)
    ->  format(string(Msg), "spell ~w has a variable: write its arguments as lower-case atoms, e.g. conjure(new_op(my_op, elementwise))", [Text]),
        atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)])
    ;   spell_plan(Spell, Steps)
    ->  maplist(step_json, Steps, Ts),
        atom_json_dict(Json, _{ok: true, steps: Ts}, [width(0)])
    ;   findall(S, spell_step(S, _), Known), numbervars(Known, 0, _),
        format(string(Msg), "unknown spell ~w; known: ~p", [Text, Known]),
        atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)])
    ).

step_json(Step, [Name|Args]) :-
    Step =.. [Name|Args0],
    maplist([A, T]>>format(string(T), "~w", [A]), Args0, Args).

%% grimoire_scaffold_json(+NameText, -Json): what `grimoire new-op` must know about a proposed op name:
%  the kinds, whether the name is usable, where it is already taken, its module name, the extension.
grimoire_scaffold_json(Text, Json) :-
    atom_string(Name, Text),
    findall(_{name: K, doc: D}, op_kind(K, D), Kinds),
    ( valid_identifier(Name) -> Valid = true ; Valid = false ),
    (   entity(Name) -> locate(entity(Name), F, L), Taken = _{file: F, line: L, what: "declared"}
    ;   is_op(Op), atom_concat(Op, '_backward', Name)
    ->  locate(entity(Op), F, L), format(string(W), "the backward of op ~w", [Op]),
        Taken = _{file: F, line: L, what: W}
    ;   Taken = null
    ),
    camel_case(Name, Module),
    ( is_extension(E) -> ext_package(E, Package) ; Package = null ),
    atom_json_dict(Json, _{kinds: Kinds, valid: Valid, taken: Taken, module: Module, package: Package},
                   [width(0)]).

/*  Benchmark results (grimoire bench), asserted from a facts file written from the latest saved run:
      benchmark_run(Name, Device, Datetime, Source)
      benchmark_result(Op, Pass, Shape, Dtype, Peer, Speedup)   Speedup = peer time / generated time
      benchmark_time(Op, Pass, Shape, Dtype, Impl, Seconds)     median; Impl = generated or a peer
      benchmark_ceiling_pct(Op, Pass, Shape, Dtype, Impl, Pct)  % of the copy / matmul ceiling, same run
    and benchmark_result(Op, Shape, Speedup): forward, generated vs the eager composite. */
:- dynamic benchmark_run/4, benchmark_result/6, benchmark_time/6, benchmark_ceiling_pct/6.

benchmark_result(Op, Shape, Speedup) :- benchmark_result(Op, forward, Shape, _, eager, Speedup).

benchmark_fact(benchmark_run(_, _, _, _)).
benchmark_fact(benchmark_result(_, _, _, _, _, _)).
benchmark_fact(benchmark_time(_, _, _, _, _, _)).
benchmark_fact(benchmark_ceiling_pct(_, _, _, _, _, _)).

%% grimoire_load_benchmarks(+File): forget the previous run's facts; assert File's ('' for none).
grimoire_load_benchmarks(File) :-
    forall(benchmark_fact(F), retractall(F)),
    (   File \== '', exists_file(File)
    ->  setup_call_cleanup(open(File, read, S), assert_benchmark_facts(S), close(S))
    ;   true
    ).

assert_benchmark_facts(S) :-
    read_term(S, T, []),
    (   T == end_of_file -> true
    ;   ( benchmark_fact(T) -> assertz(T) ; true ),   % anything else in the file is ignored
        assert_benchmark_facts(S)
    ).
