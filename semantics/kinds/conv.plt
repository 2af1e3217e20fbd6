/*  PLUnit tests of the conv kind (conv.pl): the parts, schemas and epilogue (activations and geometry)
    derived for the bundled conv2d_bias_act, and, on ad-hoc specs, geometry defaults, a fixed activation,
    a forward without bias, and the violations of a retyped or unknown attr and a malformed forward.
    Run by tests/test_plunit.py after every semantics file is consulted. */

:- begin_tests(conv_specs).

test(parts, P == [x, weight, bias, [relu, none, gelu, gelu_tanh, silu, sigmoid, tanh], act]) :-
    parts(conv2d_bias_act, X, W, B, Acts, AA), P = [X, W, B, Acts, AA].
test(schema, S == "conv2d_bias_act(Tensor x, Tensor weight, Tensor? bias=None, SymInt stride=1, SymInt padding=0, SymInt dilation=1, SymInt groups=1, str act=\"relu\") -> (Tensor, Tensor)") :-
    once(derived(conv2d_bias_act, schema, S)).
test(python_signature, S == 'x, weight, bias: Optional[Tensor] = None, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1, act: str = "relu"') :-
    once(derived(conv2d_bias_act, python_signature, S)).
test(backward_attrs_without_defaults, S == "conv2d_bias_act_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor? bias, Tensor saved, SymInt stride, SymInt padding, SymInt dilation, SymInt groups, str act, bool[3] output_mask) -> (Tensor, Tensor, Tensor)") :-
    once(derived(conv2d_bias_act, backward_schema, S)).
test(epilogue, [L, A, B, Bias, AA, NP] == [conv2d, x, weight, bias, act, true]) :-
    once(derived(conv2d_bias_act, epilogue, E)),
    _{layout: L, a: A, b: B, bias: Bias, act_attr: AA, needs_preact: NP} :< E.
test(epilogue_geometry_from_the_attrs, C == [dilation-dilation, groups-groups, padding-padding, stride-stride]) :-
    once(derived(conv2d_bias_act, epilogue, E)), dict_pairs(E.conv, _, C).
test(epilogue_activations_in_choice_order, [Ns, Fs] == [[relu, none, gelu, gelu_tanh, silu, sigmoid, tanh],
                                                       [output, output, preact, preact, preact, output, output]]) :-
    once(derived(conv2d_bias_act, epilogue, E)),
    findall(N-F, ( member(J, E.activations), get_dict(name, J, N), get_dict(grad_from, J, F) ), Ps), pairs_keys_values(Ps, Ns, Fs).
test(geometry_defaults, G == [stride-1, padding-0, dilation-1, groups-1]) :- geometry(G).
test(devices, Ds == [cpu, cuda]) :- findall(D, kind_device(conv, D), Ds).

:- end_tests(conv_specs).

%  Ad-hoc ops: no bias and one geometry attr; a fixed silu; relu without a bias; and malformed ones.
:- begin_tests(conv_adhoc, [setup(conv_assert), cleanup(conv_retract)]).

conv_spec(tst_conv_plain, [input-x, input-weight, output-y, attr-(padding: int = 1), forward-(y = conv2d(x, weight))]).
conv_spec(tst_conv_silu, [input-x, input-weight, input-bias, output-y, forward-(y = silu(conv2d(x, weight) + bias))]).
conv_spec(tst_conv_relu, [input-x, input-weight, output-y, forward-(y = relu(conv2d(x, weight)))]).
conv_spec(tst_conv_attrs, [input-x, input-weight, output-y, attr-(stride: float = 1.0), attr-(eps: float = 0.1), attr-(groups: int = 2),
                           forward-(y = conv2d(x, weight))]).
conv_spec(tst_conv_linear, [input-x, input-weight, output-y, forward-(y = linear(x, weight))]).
conv_spec(tst_conv_order, [input-weight, input-x, output-y, forward-(y = conv2d(x, weight))]).
conv_assert :- forall(conv_spec(E, Cs), ( assertz(user:entity(E)), assertz(user:component(E, kind, conv)),
                                          forall(member(K-V, Cs), assertz(user:component(E, K, V))) )).
conv_retract :- forall(conv_spec(E, _), ( retractall(user:component(E, _, _)), retractall(user:entity(E)) )).
blamed(E, Ws) :- findall(W, kind_violation(conv, E-W-_), Ws).

test(absent_geometry_is_a_literal, C == [dilation-"1", groups-"1", padding-padding, stride-"1"]) :-
    once(derived(tst_conv_plain, epilogue, E)), dict_pairs(E.conv, _, C).
test(no_bias_schema, S == "tst_conv_plain(Tensor x, Tensor weight, SymInt padding=1) -> Tensor") :- once(derived(tst_conv_plain, schema, S)).
test(no_bias_backward, S == "tst_conv_plain_backward(Tensor grad_y, Tensor x, Tensor weight, Tensor saved, SymInt padding, bool[2] output_mask) -> (Tensor, Tensor)") :-
    once(derived(tst_conv_plain, backward_schema, S)).
test(no_bias_no_activation, [B, Acts, NP] == ['', [none], false]) :-
    once(derived(tst_conv_plain, epilogue, E)), B = E.bias, NP = E.needs_preact, findall(N, ( member(J, E.activations), get_dict(name, J, N) ), Acts).
test(fixed_silu_returns_the_preactivation, S == "tst_conv_silu(Tensor x, Tensor weight, Tensor? bias=None) -> (Tensor, Tensor)") :-
    once(derived(tst_conv_silu, schema, S)).
test(fixed_silu_parts, P == [x, weight, bias, [silu], '']) :- parts(tst_conv_silu, X, W, B, Acts, AA), P = [X, W, B, Acts, AA].
test(activation_without_bias, [P, Ws] == [[x, weight, '', [relu], ''], []]) :-
    parts(tst_conv_relu, X, W, B, Acts, AA), P = [X, W, B, Acts, AA], blamed(tst_conv_relu, Ws).
test(retyped_geometry_and_unknown_attr, Ws == [component(tst_conv_attrs, attr, stride: float = 1.0), component(tst_conv_attrs, attr, eps: float = 0.1)]) :-
    blamed(tst_conv_attrs, Ws).
test(a_linear_forward_is_refused, Ws == [component(tst_conv_linear, forward, y = linear(x, weight))]) :- blamed(tst_conv_linear, Ws).
test(inputs_out_of_order) :-
    findall(M, kind_violation(conv, tst_conv_order-_-M), [M]),
    once(sub_string(M, _, _, _, "in order: [x,weight] (declared: [weight,x])")).

:- end_tests(conv_adhoc).
