% expect: 8 update param of 'bad_opt': unknown name 'd'
% A rule reads a let written after it: rules run in order.
entity(bad_opt).
component(bad_opt, kind, optimizer).
component(bad_opt, doc, "A step.").
component(bad_opt, param, param).
component(bad_opt, grad, grad).
component(bad_opt, update, param = param - d).
component(bad_opt, let, d = 0.1 * grad).
