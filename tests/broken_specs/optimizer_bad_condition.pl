% expect: 9 condition nesterovv: 'nesterovv' is not a bool attr (bool attrs: nesterov)
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, attr, lr: float = 0.1).
component(bad_opt, attr, nesterov: bool = false).
component(bad_opt, let, d = if(nesterovv, 2 * grad, grad)).
component(bad_opt, update, param = if(nesterov, param - lr * d, param - lr * grad)).
