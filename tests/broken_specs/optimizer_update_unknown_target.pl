% expect: 8 assigns velocity, which is neither the param
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, attr, lr: float = 0.1).
component(bad_opt, update, velocity = grad).
component(bad_opt, update, param = param - lr * grad).
