% expect: 7 name 'step' in 'bad_opt' is reserved for the step count
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, state, step).
component(bad_opt, update, step = step + grad).
component(bad_opt, update, param = param - 0.1 * step).
