% expect: 2 never updates its param 'param'
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, state, velocity).
component(bad_opt, update, velocity = grad).
