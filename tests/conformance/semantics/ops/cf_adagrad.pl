/*  cf_adagrad (optimizer): torch.optim.Adagrad, whose state is named `sum` (a Python builtin, as torch
    names it), with a step-dependent host scalar (the decayed learning rate) and an eps whose default
    is not Adam's. */
entity(cf_adagrad).
component(cf_adagrad, kind, optimizer).
component(cf_adagrad, doc, "Adagrad step: accumulated squared gradients, decayed learning rate, L2 weight decay, maximize.").
component(cf_adagrad, param, param).
component(cf_adagrad, grad, grad).
component(cf_adagrad, state, sum).
component(cf_adagrad, attr, lr: float = 0.01).
component(cf_adagrad, attr, lr_decay: float = 0.0).
component(cf_adagrad, attr, weight_decay: float = 0.0).
component(cf_adagrad, attr, eps: float = 1.0e-10).
component(cf_adagrad, attr, maximize: bool = false).
component(cf_adagrad, scalar, clr = lr / (1 + (step - 1) * lr_decay)).
component(cf_adagrad, let, g = if(maximize, -grad, grad)).
component(cf_adagrad, let, gd = if(weight_decay =\= 0, g + weight_decay * param, g)).
component(cf_adagrad, update, sum = sum + gd * gd).
component(cf_adagrad, update, param = param - clr * (gd / (sqrt(sum) + eps))).
component(cf_adagrad, requires, lr >= 0).
component(cf_adagrad, requires, lr_decay >= 0).
component(cf_adagrad, requires, weight_decay >= 0).
component(cf_adagrad, requires, eps >= 0).
component(cf_adagrad, optimizer_class, 'Adagrad').
component(cf_adagrad, dtypes, [float32, float64]).
component(cf_adagrad, devices, [cpu, cuda]).
component(cf_adagrad, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(cf_adagrad, bench, shape([10, 100000])).
