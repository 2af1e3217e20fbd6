/*  The knowledge layer's side of the bridge to Python (loaded before any spec):
    - consults the vocabulary (semantics/core, semantics/kinds: code) and captures every error and
      warning printed meanwhile, with file:line;
    - reads every spec file as data (read_term/3, nothing runs) and keeps only the vocabulary's facts,
      refusing anything else at its file:line;
    - runs every query over the specs under a time and an inference limit;
    - exports the model as one JSON atom, so Python never walks Prolog terms;
    - runs an arbitrary query for `grimoire perceive`, returning printed solutions;
    - holds the latest saved benchmark run as facts, so `perceive` answers questions about it.
*/

:- use_module(library(http/json)).
:- use_module(library(apply)).
:- use_module(library(lists)).
:- use_module(library(time)).

/*  Limits. Every query over the specs runs under a time limit and an inference limit (set from
    grimoire/knowledge.py), so a spec that makes a rule run away is a diagnostic, never a hang.
    Both of SWI-Prolog's limits are one-shot exceptions that a catch-all inside the vocabulary (the checks
    catch per entity) would swallow; so the inferences spent are also counted, and the time alarm fires
    again every 0.2 s past the deadline until the query gives up. */
:- dynamic grimoire_limit/2.          % grimoire_limit(Seconds, Inferences)
grimoire_limit(20, 200000000).   % grimoire/knowledge.py sets them

grimoire_set_limits(Seconds, Inferences) :-
    retractall(grimoire_limit(_, _)),
    assertz(grimoire_limit(Seconds, Inferences)).

%% limited(:Goal, -Outcome): once(Goal) under the limits. Outcome: true, false, error(E), or over(What)
%  with What a text such as "20 s" or "500000000 inferences".
limited(Goal, Outcome) :-
    grimoire_limit(Seconds, Inferences),
    statistics(inferences, I0),
    setup_call_cleanup(arm_limit(Seconds),
                       catch(( call_with_inference_limit(Goal, Inferences, R0) -> R = R0 ; R = false ),
                             E, R = error(E)),
                       disarm_limit),
    statistics(inferences, I1),
    (   nb_getval(grimoire_limit_fired, true)
    ->  format(string(W), "~w s", [Seconds]), Outcome = over(W)
    ;   ( R == inference_limit_exceeded ; I1 - I0 > Inferences )
    ->  format(string(W), "~D inferences", [Inferences]), Outcome = over(W)
    ;   R == false -> Outcome = false
    ;   R = error(E1) -> Outcome = error(E1)
    ;   Outcome = true
    ).

arm_limit(Seconds) :-
    nb_setval(grimoire_limit_fired, false),
    nb_setval(grimoire_limit_armed, true),
    alarm(Seconds, limit_fired, _, [remove(true)]).

% Fires only while a limited query runs: an alarm that comes after disarm_limit began does nothing, so
% none is left pending (one firing once the query has returned to Python crashed the process).
limit_fired :-
    (   nb_current(grimoire_limit_armed, true)
    ->  nb_setval(grimoire_limit_fired, true),
        alarm(0.2, limit_fired, _, [remove(true)]),   % again, should a catch-all swallow this one
        throw(time_limit_exceeded)
    ;   true
    ).

% Every pending limit alarm goes, the re-armed ones too.
disarm_limit :-
    nb_setval(grimoire_limit_armed, false),
    forall(( current_alarm(_, G, Id, _), ( G = _:limit_fired ; G == limit_fired ) ),
           catch(remove_alarm(Id), _, true)).

%% limited_json(:Goal, ?Result, -Json, +Doing): Json is Result as Goal binds it, or {ok: false, error}
%  when Goal fails, raises or runs over a limit (Doing names it in the message).
limited_json(Goal, Result, Json, Doing) :-
    limited(Goal, Outcome),
    (   Outcome == true -> Json = Result
    ;   Outcome = error(E) -> perceive_error(E, Json)
    ;   Outcome = over(W)
    ->  format(string(Msg), "~w did not finish within ~w, so it was stopped (it may loop).", [Doing, W]),
        atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)])
    ;   format(string(Msg), "~w failed.", [Doing]),
        atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)])
    ).

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

%% grimoire_load(+Trusted, +Data): forget the previous specs, load the Trusted vocabulary files (code:
%  semantics/core and semantics/kinds, each a module) with message capture on, then read every Data
%  file (op specs, the extension) as data: see read_spec_file/1. Nothing in a Data file runs.
%  A file of the previous load that is not Trusted now is unloaded (a project's own kind leaves no hook
%  behind); one that is stays loaded, and is loaded again only if it changed since.
grimoire_load(Trusted, Data) :-
    retractall(grimoire_message(_, _, _, _)),
    forget_specs,
    forall(( grimoire_consulted(Old), \+ memberchk(Old, Trusted) ), unload_vocabulary(Old)),
    retractall(vocabulary_file(_, _)),
    forall(member(F, Trusted), ( vocabulary_name(F, Name), assertz(vocabulary_file(Name, F)) )),
    load_order(Trusted, Ordered),
    setup_call_cleanup(assertz(grimoire_capturing),
                       forall(member(F, Ordered), consult_vocabulary(F)),
                       retractall(grimoire_capturing)),
    forall(member(F, Data), read_spec_file(F)).

:- dynamic grimoire_consulted/1.   % a vocabulary file loaded (and not unloaded since) by grimoire_load/2

unload_vocabulary(F) :-
    retractall(grimoire_consulted(F)),
    unload_file(F).

%% consult_vocabulary(+File): load one module of the vocabulary. The core's modules are imported here
%  (user), where the bridge and `grimoire perceive` query them; a kind's exports are for other kinds,
%  not for user. A file that is not a module is refused at its first line, unloaded. A module of the
%  same name loaded from another file (grimoire's kind, which a project's own file of that name
%  replaces) is unloaded first.
consult_vocabulary(F) :-
    (   vocabulary_module(F, Module, Line)
    ->  (   Module == none
        ->  not_a_module(F, Line)
        ;   file_directory_name(F, Dir), file_base_name(Dir, Layer),
            ( Layer == kinds -> Imports = [] ; Imports = all ),
            forall(( grimoire_consulted(G), G \== F, source_file_property(G, module(Module)) ),
                   unload_vocabulary(G)),
            ( grimoire_consulted(F) -> If = changed ; If = true ),
            assertz(grimoire_consulted(F)),
            catch(load_files(F, [if(If), imports(Imports)]), E, record_exception(F, E))
        )
    ;   true                                   % unreadable: read_term's error is recorded
    ).

/*  Imports between vocabulary files. A file imports another as `:- use_module(semantics(core/ecs))`
    (or kinds/rowwise, ...): the one of that name this load trusts, be it the project's own or grimoire's,
    wherever either lies. No search path is involved, so an import never reaches a file the load does
    not trust. */
:- dynamic vocabulary_file/2.          % vocabulary_file(Layer/Name, File), for the current load

%% vocabulary_name(+File, -Layer/Name): core/ecs for .../semantics/core/ecs.pl.
vocabulary_name(F, Layer/Name) :-
    file_directory_name(F, Dir), file_base_name(Dir, Layer),
    file_base_name(F, Base), file_name_extension(Name, _, Base).

:- multifile user:term_expansion/2.
user:term_expansion((:- use_module(semantics(Rel))), (:- use_module(F))) :-
    grimoire_capturing, vocabulary_file(Rel, F).
user:term_expansion((:- use_module(semantics(Rel), Imports)), (:- use_module(F, Imports))) :-
    grimoire_capturing, vocabulary_file(Rel, F).

/*  Load order. Every file is loaded here, from user, after the files it imports with
    `:- use_module(semantics(...))`: a module that unload_file/1 left behind (the previous grimoire_load's)
    must be loaded again from user before another module imports it, or SWI-Prolog takes it for a file
    of user's. So each file's imports are read from its leading directives (nothing runs) and the files
    are ordered depth first, imports before importers, otherwise as given. */

%% load_order(+Files, -Ordered)
load_order(Files, Ordered) :-
    foldl(visit_file(Files), Files, []-[], _-Rev),
    reverse(Rev, Ordered).

visit_file(Files, F, Seen-Out, Seen1-Out1) :-
    (   memberchk(F, Seen) -> Seen1 = Seen, Out1 = Out
    ;   vocabulary_imports(F, Deps0),
        include([D]>>memberchk(D, Files), Deps0, Deps),
        foldl(visit_file(Files), Deps, [F|Seen]-Out, Seen1-Out0),
        Out1 = [F|Out0]
    ).

%% vocabulary_imports(+File, -Files): the files File's leading directives import through semantics(...).
vocabulary_imports(F, Deps) :-
    catch(setup_call_cleanup(open(F, read, S, [encoding(utf8)]), leading_imports(S, Specs), close(S)),
          _, Specs = []),
    findall(D, ( member(semantics(Rel), Specs), vocabulary_file(Rel, D) ), Deps).

leading_imports(S, Specs) :-
    read_term(S, T, []),
    (   T = (:- D)
    ->  ( import_spec(D, Spec) -> Specs = [Spec|Rest] ; Specs = Rest ),
        leading_imports(S, Rest)
    ;   Specs = []
    ).

import_spec(use_module(Spec), Spec) :- Spec = semantics(_).
import_spec(use_module(Spec, _), Spec) :- Spec = semantics(_).

%% vocabulary_module(+File, -Module, -Line): the module File's first term declares (none if it is not
%  `:- module(Name, Exports)`), and that term's line.
vocabulary_module(F, Module, Line) :-
    catch(setup_call_cleanup(open(F, read, S, [encoding(utf8)]),
                             read_term(S, T, [term_position(P), syntax_errors(error)]),
                             close(S)),
          E, ( record_exception(F, E), fail )),
    ( T == end_of_file -> Line = 1 ; stream_position_data(line_count, P, Line) ),
    ( T = (:- module(M, _)), atom(M) -> Module = M ; Module = none ).

not_a_module(F, Line) :-
    file_base_name(F, Base), file_name_extension(Name, _, Base),
    format(string(Msg), "not loaded: a vocabulary file is a module, and this one declares none. Begin it with `:- module(~w, []).` and `:- use_module(semantics(core/ecs)).`, and write each hook it fills qualified, as `ecs:op_kind(~w, \"...\").` and `ecs:kind_violation(~w, ...) :- ...` (README.md, \"Writing a kind\").", [Name, Name, Name]),
    assertz(grimoire_message(error, F, Line, Msg)).

%  The spec database is the ecs module's (semantics/core/ecs.pl): entity/1, component/3, and
%  spec_clause_at(Ref, File, Line), where the asserted fact Ref was written (locate/3 and clause_place/2
%  in semantics/core/checks.pl read it, since asserted clauses carry no source location).
forget_specs :-
    forall(catch(retract(ecs:spec_clause_at(Ref, _, _)), _, fail), catch(erase(Ref), _, true)).

/*  Reading a spec file as data. Every term is read with read_term/3, which expands, calls and loads
    nothing, and only the vocabulary's facts are kept: entity(Name) and component(Entity, Key, Value),
    asserted with their file:line beside them (spec_clause_at/3). Anything else -- a directive, a rule,
    a clause of another predicate -- is refused with its line and what to write instead; the repeats of
    one refusal in a file (more clauses of one rule or helper predicate) are named in its first diagnostic. */

%% read_spec_file(+File)
read_spec_file(File) :-
    catch(setup_call_cleanup(open(File, read, S, [encoding(utf8)]),
                             read_spec_items(S, Items),
                             close(S)),
          E, ( record_exception(File, E), Items = [] )),
    foldl(spec_item(File), Items, [], Refusals0),
    reverse(Refusals0, Refusals),
    report_refusals(File, Refusals).

%% read_spec_items(+Stream, -Items): item(Line, Term, VarNames, Singletons, QuasiQuotations) or
%  syntax(Line, Error) for each term of the file, in order.
read_spec_items(S, Items) :-
    catch(read_term(S, T, [term_position(P), variable_names(Vs), singletons(Ss), quasi_quotations(QQ),
                           module(user), syntax_errors(error)]),
          E, true),
    (   nonvar(E)
    ->  error_line(E, Line),
        Items = [syntax(Line, E)|Rest],
        ( at_end_of_stream(S) -> Rest = [] ; read_spec_items(S, Rest) )
    ;   T == end_of_file
    ->  Items = []
    ;   stream_position_data(line_count, P, Line),
        Items = [item(Line, T, Vs, Ss, QQ)|Rest],
        read_spec_items(S, Rest)
    ).

error_line(error(_, file(_, Line, _, _)), Line) :- !.
error_line(error(_, stream(_, Line, _, _)), Line) :- !.
error_line(_, 0).

%% spec_item(+File, +Item, +Refusals0, -Refusals): assert an accepted fact; add a refusal(Key, Line, Message).
spec_item(File, syntax(Line, E), Rs, Rs) :-
    message_to_string(E, Text),
    assertz(grimoire_message(error, File, Line, Text)).
spec_item(File, item(Line, T, Vs, Ss, QQ), Rs0, Rs) :-
    (   QQ \== []
    ->  Rs = [refusal(line(Line), Line, "a quasi-quotation {|Syntax||Text|} is not data: write the value as a \"string\".")|Rs0]
    ;   spec_term(T, Vs, Verdict),
        (   Verdict = fact(Fact)
        ->  assertz(ecs:Fact, Ref),
            assertz(ecs:spec_clause_at(Ref, File, Line)),
            singleton_warning(File, Line, Ss),
            Rs = Rs0
        ;   Verdict = refuse(Key0, Msg),
            ( memberchk(Key0, [line, variable]) -> Key = line(Line) ; Key = Key0 ),  % never grouped
            Rs = [refusal(Key, Line, Msg)|Rs0]
        )
    ).

singleton_warning(File, Line, Ss) :-
    findall(N, ( member(N = _, Ss), \+ sub_atom(N, 0, _, _, '_') ), Names),
    (   Names == [] -> true
    ;   atomic_list_concat(Names, ', ', NL),
        format(string(Msg), "Singleton variables: [~w] (a variable matches anything: names in a spec are lower-case atoms, e.g. x, not X)", [NL]),
        assertz(grimoire_message(warning, File, Line, Msg))
    ).

%% report_refusals(+File, +Refusals): one diagnostic per refusal key, at its first line, naming the others.
report_refusals(File, Refusals) :-
    forall(( nth1(I, Refusals, refusal(Key, Line, Msg)),
             \+ ( nth1(J, Refusals, refusal(Key, _, _)), J < I ) ),
           ( findall(L, ( member(refusal(Key, L, _), Refusals), L \== Line ), Again),
             also_at(Again, Also),
             string_concat(Msg, Also, Text),
             assertz(grimoire_message(error, File, Line, Text)) )).

also_at([], "") :- !.
also_at([L], S) :- !, format(string(S), " Also at line ~w.", [L]).
also_at(Ls, S) :- atomic_list_concat(Ls, ', ', LL), format(string(S), " Also at lines ~w.", [LL]).

%% spec_term(+Term, +VarNames, -Verdict): fact(Fact) for a vocabulary fact, else refuse(Key, Message).
spec_term(T, _, refuse(variable, Msg)) :-
    var(T), !,
    vocabulary(V), format(string(Msg), "a variable is not a fact: a spec file holds only ~w.", [V]).
spec_term((:- D), Vs, refuse(Key, Msg)) :- !, directive_refusal(D, Vs, Key, Msg).
spec_term((?- D), Vs, refuse(Key, Msg)) :- !, directive_refusal(D, Vs, Key, Msg).
spec_term((H :- _), Vs, refuse(rule(PI), Msg)) :- !, rule_refusal(H, ":-", Vs, PI, Msg).
spec_term((H --> _), Vs, refuse(rule(PI), Msg)) :- !, rule_refusal(H, "-->", Vs, PI, Msg).
spec_term(entity(N), Vs, Verdict) :- !,
    (   var(N)
    ->  term_text(entity(N), Vs, Text),
        format(string(Msg), "~w has a variable where the entity's name goes, so it would declare every name: write a lower-case atom, e.g. entity(my_op).", [Text]),
        Verdict = refuse(line, Msg)
    ;   Verdict = fact(entity(N))
    ).
spec_term(component(E, K, X), Vs, Verdict) :- !,
    (   var(E)
    ->  term_text(component(E, K, X), Vs, Text),
        format(string(Msg), "~w has a variable where the entity goes, so it would hold for every entity: write the entity's name, e.g. component(my_op, ~q, ...).", [Text, K]),
        Verdict = refuse(line, Msg)
    ;   var(K)
    ->  term_text(component(E, K, X), Vs, Text),
        format(string(Msg), "~w has a variable where the key goes: write one of the component keys (kind, doc, input, output, ...), e.g. component(~q, doc, \"What it computes.\").", [Text, E]),
        Verdict = refuse(line, Msg)
    ;   Verdict = fact(component(E, K, X))
    ).
spec_term(T, _, refuse(vocabulary_code, Msg)) :-        % op_kind/2, kind_device/2, violation/2 ...
    callable(T), vocabulary_code(T, Where), !,
    functor(T, N, A),
    format(string(Msg), "~q/~w is ~w, and a spec file cannot add to it: a new kind goes in a kind file under semantics/kinds/, which grimoire runs only when the project's pyproject.toml sets trust_kinds = true under [tool.grimoire].", [N, A, Where]).
spec_term(T, Vs, refuse(foreign(N/A), Msg)) :-
    callable(T), !,
    functor(T, N, A),
    foreign_refusal(T, N, A, Vs, Msg).
spec_term(T, Vs, refuse(line, Msg)) :-
    term_text(T, Vs, Text), vocabulary(V),
    format(string(Msg), "~w is not a fact: a spec file holds only ~w.", [Text, V]).

vocabulary("entity(Name) and component(Entity, Key, Value) facts").

%% vocabulary_code(+Head, -Where): Head's predicate is defined (or declared) by a consulted vocabulary file.
vocabulary_code(H, Where) :-
    \+ H = entity(_), \+ H = component(_, _, _),
    functor(H, N, A), functor(G, N, A),
    predicate_property(user:G, file(File)),
    grimoire_consulted(File), !,
    (   predicate_property(user:G, multifile)
    ->  Where = "a hook of the vocabulary that kind files fill in"
    ;   file_directory_name(File, Dir), file_base_name(Dir, Layer), file_base_name(File, Base),
        format(string(Where), "vocabulary code (~w/~w)", [Layer, Base])
    ).

directive_refusal(D, Vs, directive(PI), Msg) :-
    ( callable(D) -> functor(D, N, A), PI = N/A ; PI = variable ),
    directive_text(D, Vs, Text),
    directive_advice(D, Advice),
    format(string(Msg), "directive `:- ~w` refused: ~w", [Text, Advice]).

directive_advice(D, Advice) :-
    nonvar(D), directive_kind(D, Kind), !,
    advice(Kind, Advice).
directive_advice(_, Advice) :- advice(runs, Advice).

directive_kind([_|_], loads).
directive_kind(D, loads) :-
    functor(D, N, _),
    memberchk(N, [include, consult, ensure_loaded, use_module, load_files, reexport, autoload,
                  use_foreign_library, load_foreign_library, make, use_module_library]).
directive_kind(op(_, _, _), op).
directive_kind(D, declares) :-
    functor(D, N, _),
    memberchk(N, [dynamic, discontiguous, multifile, module, set_prolog_flag, style_check, table,
                  encoding, public, meta_predicate, module_transparent, expects_dialect]).

advice(loads, S) :-
    format(string(S), "a spec file cannot load or include another file, and nothing in it runs. Every .pl file under semantics/ is read on its own: put the facts in one of those.", []).
advice(op, S) :-
    format(string(S), "a spec file cannot declare operators, and nothing in it runs. Write the term with the standard operators, or as a plain term such as f(A, B).", []).
advice(declares, S) :-
    vocabulary(V),
    format(string(S), "a spec file needs no declarations (the vocabulary in semantics/core declares entity/1 and component/3), and nothing in it runs. Write only ~w.", [V]).
advice(runs, S) :-
    vocabulary(V),
    format(string(S), "a spec file is data, and nothing in it runs. Write only ~w; a rule that derives components belongs in a kind file (semantics/kinds/).", [V]).

rule_refusal(H, Neck, Vs, PI, Msg) :-
    ( callable(H) -> functor(H, N, A), PI = N/A ; PI = variable ),
    term_text(H, Vs, Text), vocabulary(V),
    format(string(Msg), "a rule (~w ~w ...) is not data: a spec file holds only ~w, and grimoire runs no rule written in one. Write what it would derive as facts; a rule that derives components belongs in a kind file (semantics/kinds/).", [Text, Neck, V]).

foreign_refusal(T, component, A, Vs, Msg) :-
    A > 3, !,
    T =.. [_, E, K|Values],
    term_text(component(E, K, Values), Vs, Text),
    format(string(Msg), "component/~w has ~w arguments: a component is component(Entity, Key, Value); give several values as one list: ~w.", [A, A, Text]).
foreign_refusal(_, component, A, _, Msg) :- !,
    format(string(Msg), "component/~w has ~w argument(s): a component is component(Entity, Key, Value), e.g. component(my_op, doc, \"What it computes.\").", [A, A]).
foreign_refusal(_, entity, A, _, Msg) :- !,
    format(string(Msg), "entity/~w has ~w arguments: declare an entity with entity(Name), e.g. entity(my_op).", [A, A]).
foreign_refusal(T, N, A, Vs, Msg) :-
    vocabulary(V),
    (   member(Word-Arity, [entity-1, component-3]), checks:edit_distance(N, Word, D), D =< 2
    ->  (   A =:= Arity
        ->  T =.. [_|Args], G =.. [Word|Args], term_text(G, Vs, Text),
            format(string(Hint), " Did you mean ~w?", [Text])
        ;   format(string(Hint), " Did you mean ~w/~w?", [Word, Arity])
        )
    ;   Hint = ""
    ),
    format(string(Msg), "~q/~w is not part of the spec vocabulary: a spec file holds only ~w.~w", [N, A, V, Hint]).

%% term_text(+Term, +VarNames, -Text): Term as written (its variables by name, _ for the anonymous
%  ones), cut short when deep, for messages.
term_text(T, Vs, Text) :-
    copy_term(T-Vs, T1-Vs1),
    maplist(name_variable, Vs1),
    term_variables(T1, Anon), maplist(=('$VAR'('_')), Anon),
    format(string(Text), "~W", [T1, [quoted(true), numbervars(true), portray(false), max_depth(8),
                                     spacing(next_argument)]]).

name_variable(N = V) :- ( var(V) -> V = '$VAR'(N) ; true ).

%% directive_text(+Directive, +VarNames, -Text): as term_text/3, but a call such as initialization(G)
%  keeps its parentheses even where its name is a prefix operator.
directive_text(D, Vs, Text) :-
    compound(D), compound_name_arguments(D, F, Args),
    \+ memberchk(F, [',', ';', '->', '*->', '\\+', '[|]', {}]), !,
    maplist(arg_text(Vs), Args, Ss),
    atomic_list_concat(Ss, ', ', AL),
    format(string(Text), "~q(~w)", [F, AL]).
directive_text(D, Vs, Text) :- term_text(D, Vs, Text).

arg_text(Vs, A, Text) :- term_text(A, Vs, Text).

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

%% grimoire_violations_json(-Json): every located violation. When the checks run over a limit, each
%  entity is checked alone under fresh limits to find the one to blame; failing that, the whole query is.
grimoire_violations_json(Json) :-
    limited(findall(_{file: F, line: L, message: M}, located_violation(F, L, M), Vs0), Outcome),
    (   Outcome == true -> Vs = Vs0
    ;   Outcome = error(E) -> throw(E)
    ;   Outcome = over(W) -> runaway_violations(W, Vs)
    ;   Vs = []
    ),
    atom_json_dict(Json, Vs, [width(0)]).

runaway_violations(Limit, Vs) :-
    findall(E, ( clause(entity(E), true) ; clause(component(E, _, _), true) ), Es0),
    list_to_set(Es0, Es),
    findall(V, ( member(E, Es), runaway_entity(E, Doing, W), runaway_violation(E, Doing, W, V) ), Vs0),
    (   Vs0 \== [] -> Vs = Vs0
    ;   format(string(Msg), "checking the specs did not finish within ~w, though no single entity runs over it: split the specs across fewer entities, or report it with the specs.", [Limit]),
        Vs = [_{file: "", line: 0, message: Msg}]
    ).

%% runaway_entity(+E, -Doing, -Limit): checking E alone, or deriving its generated code, runs over a limit.
runaway_entity(E, Doing, W) :-
    limited(forall(( member(Where, [entity(E), component(E, _, _)]), violation(Where, _) ), true), O1),
    (   O1 = over(W) -> Doing = "checking"
    ;   O1 == true, catch(is_op(E), _, fail),
        limited(forall(derived(E, _, _), true), over(W)), Doing = "deriving the generated code of"
    ).

runaway_violation(E, Doing, W, _{file: F, line: L, message: Msg}) :-
    ( locate(entity(E), F, L) -> true ; F = "", L = 0 ),
    format(string(Msg), "~w '~w' did not finish within ~w: a component of it makes grimoire's rules run away (an expression nested very deeply, say); simplify it, or report it with the spec.", [Doing, E, W]).

%% grimoire_model_json(-Json): every extension and op with its written and derived components.
%  Each op is exported under its own limits; one that runs over them is a problem naming the op.
grimoire_model_json(Json) :-
    limited(findall(X, (is_extension(E), export_extension(E, X)), Exts0), O),
    (   O == true -> Exts = Exts0, P0 = []
    ;   O = error(Err) -> throw(Err)
    ;   O = over(W0),
        format(string(M0), "exporting the extension did not finish within ~w; report it with the specs.", [W0]),
        Exts = [], P0 = [_{file: "", line: 0, message: M0}]
    ),
    findall(Op, is_op(Op), OpNames),
    foldl(export_limited, OpNames, []-P0, Ops0-Problems0),
    reverse(Ops0, Ops), reverse(Problems0, Problems),
    atom_json_dict(Json, _{extensions: Exts, ops: Ops, problems: Problems}, [width(0)]).

export_limited(Op, Xs-Ps, Xs1-Ps1) :-
    limited(export_op(Op, X), O),
    (   O == true -> Xs1 = [X|Xs], Ps1 = Ps
    ;   O == false -> Xs1 = Xs, Ps1 = Ps                       % as findall/3 did: not exported
    ;   O = error(E) -> throw(E)
    ;   O = over(W),
        runaway_violation(Op, "deriving the generated code of", W, P),
        Xs1 = Xs, Ps1 = [P|Ps]
    ).

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
    ;   limited_json(( with_output_to(string(Out),
                           findall(Bs, limit(500, ( call(Goal),
                                                    findall(B, (member(N = V, Bindings), format(string(B), "~w = ~q", [N, V])), Bs) )),
                                   Sols)),
                         atom_json_dict(J, _{ok: true, printed: Out, solutions: Sols}, [width(0)]) ),
                       J, Json, "the query")
    ).
perceive_error(E, Json) :-
    message_to_string(E, Msg),
    atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)]).

%% grimoire_plan_json(+SpellText, -Json): the ordered steps a spell stands for (spell_plan/2 in semantics/core),
%  each as [Name, Arg...] so that steps may take arguments (conjure(new_op(my_op, custom))).
grimoire_plan_json(Text, Json) :-
    catch(term_string(Spell, Text), E, true),
    (   nonvar(E) -> perceive_error(E, Json)
    ;   \+ ground(Spell)
    ->  format(string(Msg), "spell ~w has a variable: write its arguments as lower-case atoms, e.g. conjure(new_op(my_op, elementwise))", [Text]),
        atom_json_dict(Json, _{ok: false, error: Msg}, [width(0)])
    ;   limited_json(plan_json(Spell, Text, J), J, Json, "planning the spell")
    ).

plan_json(Spell, Text, Json) :-
    (   spell_plan(Spell, Steps)
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
    limited_json(scaffold_json(Text, J), J, Json, "looking up the name").

scaffold_json(Text, Json) :-
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

%% grimoire_vocab_json(-Json): the spec language as the vocabulary defines it, for `grimoire vocab` and
%  docs/spec-language.md: components (core, then each kind's), kinds with their devices and dtypes, the
%  expression grammar, attr types, dtypes, devices, and the reserved names per role.
grimoire_vocab_json(Json) :-
    limited_json(vocab_json(J), J, Json, "listing the vocabulary").

vocab_json(Json) :-
    findall(_{key: K, cardinality: C, scope: S, help: H},
            ( component_spec(K, C, S, H), \+ kind_component(_, K, _, _) ), Core),
    findall(_{name: K, doc: D, devices: Ds, components: Cs},
            ( op_kind(K, D),
              findall(_{device: Dev, dtypes: Dts},
                      ( kind_device(K, Dev), ( kind_device_dtypes(K, Dev, Dts0) -> Dts = Dts0 ; Dts = all ) ), Ds),
              findall(_{key: Key, cardinality: Card, help: Help}, kind_component(K, Key, Card, Help), Cs) ),
            Kinds),
    findall(F, unary_fn(F, _), Unary),
    findall(O, binop(O), Binops),
    findall(O, ( cmp_op(O), cmp_canonical(O, O) ), Cmps),
    findall(_{name: N, value: V}, constant_name(N, V), Constants),
    findall(_{form: Fm, meaning: M}, grammar_form(Fm, M), Forms),
    findall(R, kind_reduction(_, R), Reductions),
    findall(T, ( attr_type(T0), ground(T0), term_string(T0, T) ), AttrTypes0),
    append(AttrTypes0, ["choice([a, b, ...])"], AttrTypes),
    findall(D, known_dtype(D), Dtypes),
    findall(D, known_device(D), Devices),
    findall(_{namespace: NS, doc: Doc, words: Ws},
            ( reserved_doc(NS, Doc), ( reserved_list(NS, Ws0) -> true ; Ws0 = [] ),
              maplist([W, S]>>atom_string(W, S), Ws0, Ws) ), Reserved),
    findall(_{role: Role, namespaces: NSs}, role_reserves(Role, NSs), Roles),
    max_name_length(MaxLen),
    atom_json_dict(Json, _{components: Core, kinds: Kinds,
                           grammar: _{forms: Forms, unary: Unary, binary: Binops, comparisons: Cmps, constants: Constants,
                                      row_reductions: Reductions},
                           attr_types: AttrTypes, dtypes: Dtypes, devices: Devices,
                           reserved: Reserved, roles: Roles, max_name_length: MaxLen},
                   [width(0)]).
