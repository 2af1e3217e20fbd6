/*  Epilogues: the activation a matmul or a convolution applies to its result (gemm and conv kinds).

    A forward of such a kind reads  Output = Act(Core + Bias), Output = Act(Core) or Output = Core + Bias,
    Core being the kind's product (linear(x, weight), matmul(a, b), conv2d(x, weight)), Bias an input
    broadcast over the rows (or channels), and Act one of the activations below, or the name of a
    choice attr whose choices are activations (picked at run time).

    Each activation is an expression over the pre-activation z in the expression grammar, so its
    gradient is derived (semantics/core/expr.pl) like any other; where the gradient can be had from the
    output y alone the pre-activation is not kept for the backward.
*/

:- module(activation, [
    activation/4, activation_output_gradient/2, activation_cublaslt/2, activation_kink/2, is_activation/1,
    activation_json/2, epilogue_forward/6, epilogue_bias_arg/2, epilogue_needs_preact/1
]).
:- use_module(semantics(core/ecs)).
:- use_module(semantics(core/expr)).

%% activation(?Name, ?Expr, ?TorchModule, ?TorchFunction): Expr over z; TorchFunction a Python format
%  string over the pre-activation, the reference the generated tests compare with.
activation(none, z, "torch.nn.Identity()", "{}").
activation(relu, relu(z), "torch.nn.ReLU()", "torch.relu({})").
activation(gelu, 0.5 * z * (1 + erf(z * 0.7071067811865476)), "torch.nn.GELU()", "torch.nn.functional.gelu({})").
activation(gelu_tanh, 0.5 * z * (1 + tanh(0.7978845608028654 * (z + 0.044715 * z * z * z))),
           "torch.nn.GELU(approximate='tanh')", "torch.nn.functional.gelu({}, approximate='tanh')").
activation(silu, z * sigmoid(z), "torch.nn.SiLU()", "torch.nn.functional.silu({})").
activation(sigmoid, sigmoid(z), "torch.nn.Sigmoid()", "torch.sigmoid({})").
activation(tanh, tanh(z), "torch.nn.Tanh()", "torch.tanh({})").

%% activation_output_gradient(?Name, ?Expr): g * dAct/dz written over the output y and the incoming
%  gradient g alone, where that is exact: the backward then needs no pre-activation.
activation_output_gradient(none, g).
activation_output_gradient(relu, where(y =< 0, 0, g)).   % a NaN output passes g, as threshold_backward
activation_output_gradient(sigmoid, g * y * (1 - y)).
activation_output_gradient(tanh, g * (1 - y * y)).

%% activation_cublaslt(?Name, ?Epilogue): the cuBLASLt epilogue computing it inside the matmul.
%  Its GELU is the tanh approximation.
%  Not relu: cuBLASLt's RELU epilogue is max(z, 0), which turns a NaN pre-activation into 0 where torch's
%  relu keeps it NaN (found on an H100); relu runs as one pass after the bias-only epilogue instead.
activation_cublaslt(none, "DEFAULT").
activation_cublaslt(gelu_tanh, "GELU").

%% activation_kink(?Name, ?Reference): the activation's derivative jumps at z = 0, and Reference (a Python
%  format string over the pre-activation {z} and the op's own output {y}) is what a backward test differentiates
%  in its place: the side of the kink taken from the op's output. Within rounding of 0 a float16 forward and a
%  float64 reference can put an element on different sides, where the gradients differ by the whole upstream
%  gradient; the forward's accuracy is tested on its own.
activation_kink(relu, "{z} * ({y} > 0)").

is_activation(A) :- atom(A), activation(A, _, _, _).

%% epilogue_forward(+Op, -Out, -Core, -Bias, -Acts, -ActAttr)
%  Acts: the activation names the op can apply; ActAttr: the choice attr picking one ('' when fixed).
epilogue_forward(E, Out, Core, Bias, Acts, ActAttr) :-
    component(E, forward, (Out = F)),
    epilogue_act(E, F, Inner, Acts, ActAttr),
    epilogue_bias(E, Inner, Core, Bias).

epilogue_act(E, F, Inner, Acts, A) :-
    compound(F), F =.. [A, Inner], epilogue_choice(E, A, Acts), !.
epilogue_act(_, F, Inner, [A], '') :-
    compound(F), F =.. [A, Inner], A \== none, is_activation(A), !.
epilogue_act(_, F, F, [none], '').

epilogue_choice(E, A, Cs) :-
    op_attrs(E, As), memberchk(attr(A, choice(Cs), _), As), forall(member(C, Cs), is_activation(C)).

epilogue_bias(E, Core + B, Core, B) :- atom(B), op_inputs(E, Ins), memberchk(B, Ins), !.
epilogue_bias(_, Core, Core, '').

%% epilogue_bias_arg(+Bias, -Args): the bias as an optional schema argument ([] when the op has none).
epilogue_bias_arg('', []) :- !.
epilogue_bias_arg(B, [S]) :- format(string(S), "Tensor? ~w=None", [B]).

%% epilogue_needs_preact(+Acts): some activation's gradient needs the pre-activation.
epilogue_needs_preact(Acts) :- member(A, Acts), \+ activation_output_gradient(A, _), !.

%% activation_json(+Name, -Dict): what the templates need of one activation: its body over z and the body of
%  its gradient over g and z or y, as data (body_data/2: grimoire/emit/cpp.py writes their C++ over a type V),
%  the cuBLASLt epilogue, the torch module and reference.
activation_json(A, _{name: A, body: B, grad: GB, grad_from: From,
                     grad_text: GText, cublaslt: Lt, module: Mod, reference: Ref, backward_reference: BRef}) :-
    activation(A, X, Mod, Ref),
    normalize(X, N), simplify(N, S), body_data(S, B),
    (   activation_output_gradient(A, G0) -> From = output, normalize(G0, G1), simplify(G1, G)
    ;   From = preact, gradient(N, z, g, G)
    ),
    body_data(G, GB), format(string(GText), "~w", [G]),
    ( activation_cublaslt(A, Lt) -> true ; Lt = "" ),
    ( activation_kink(A, BRef) -> true ; BRef = "" ).
