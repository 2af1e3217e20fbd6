% expect: 9 requires of 'bad_opt': unknown name 'lr_max'
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, attr, lr: float = 0.1).
component(bad_opt, update, param = param - lr * grad).
component(bad_opt, requires, lr =< lr_max).
