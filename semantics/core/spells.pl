/*  Spells: what `grimoire cast "conjure(X)"` does. A spell names a step; the steps it needs
    first are derived from step_requires/2, so conjure(run_tests) generates and builds before it tests. */

:- module(spells, [spell_plan/2, spell_step/2, step_requires/2]).

spell_step(conjure(generate), generate).
spell_step(conjure(build_extension), build).
spell_step(conjure(run_tests), test).
spell_step(conjure(run_benchmarks), bench).
spell_step(conjure(validate), test).
% Scaffold a new op: a spec under semantics/ops/ that is valid as written (grimoire new-op).
spell_step(conjure(new_op(Name, Kind)), new_op(Name, Kind)).

step_requires(build, generate).
step_requires(test, build).
step_requires(bench, build).

%% spell_plan(+Spell, -Steps): the spell's step after everything it requires, each once.
spell_plan(Spell, Steps) :-
    spell_step(Spell, Step),
    step_closure(Step, [], Rev), reverse(Rev, Steps).

step_closure(Step, Seen, Seen) :- memberchk(Step, Seen), !.
step_closure(Step, Seen, [Step|Out]) :-
    findall(R, step_requires(Step, R), Rs),
    steps_closure(Rs, Seen, Out).
% (no yall lambdas in specs: after an unload and reconsult they run uncompiled, and copy their context)
steps_closure([], Seen, Seen).
steps_closure([R|Rs], Seen0, Seen) :- step_closure(R, Seen0, Seen1), steps_closure(Rs, Seen1, Seen).
