% expect: 8 scalar decay of 'bad_opt': unknown name 'beta3'
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, attr, beta: float = 0.9).
component(bad_opt, scalar, decay = 1 - pow(beta3, step)).
component(bad_opt, update, param = param - decay * grad).
