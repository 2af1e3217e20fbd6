% expect: 7 state 'velocity' of 'bad_opt' is never updated
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, state, velocity).
component(bad_opt, attr, lr: float = 0.1).
component(bad_opt, update, param = param - lr * velocity).
