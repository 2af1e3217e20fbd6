/*  SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD): one in-place step
    over lists of tensors. torch starts the momentum buffer as a copy of the first gradient; here
    the buffer starts at zero and the first step weighs it by 0 and the gradient by 1, the same. */

entity(sgd_step).
component(sgd_step, kind, optimizer).
component(sgd_step, doc, "SGD step: optional momentum (with dampening or Nesterov), L2 weight decay, maximize.").
component(sgd_step, param, param).
component(sgd_step, grad, grad).
component(sgd_step, state, momentum_buffer).
component(sgd_step, attr, lr: float = 0.001).
component(sgd_step, attr, momentum: float = 0.0).
component(sgd_step, attr, dampening: float = 0.0).
component(sgd_step, attr, weight_decay: float = 0.0).
component(sgd_step, attr, nesterov: bool = false).
component(sgd_step, attr, maximize: bool = false).

component(sgd_step, scalar, keep = if(step =:= 1, 0, momentum)).
component(sgd_step, scalar, mix = if(step =:= 1, 1, 1 - dampening)).

component(sgd_step, let, g = if(maximize, -grad, grad)).
component(sgd_step, let, gd = if(weight_decay =\= 0, g + weight_decay * param, g)).
component(sgd_step, update, momentum_buffer = if(momentum =\= 0, keep * momentum_buffer + mix * gd, momentum_buffer)).
component(sgd_step, let, direction = if(momentum =\= 0, if(nesterov, gd + momentum * momentum_buffer, momentum_buffer), gd)).
component(sgd_step, update, param = param - lr * direction).

component(sgd_step, requires, lr >= 0).
component(sgd_step, requires, momentum >= 0).
component(sgd_step, requires, weight_decay >= 0).
component(sgd_step, requires, (nesterov -> momentum > 0, dampening =:= 0)).

component(sgd_step, optimizer_class, 'SGD').
component(sgd_step, bench_attrs, [momentum = 0.9]).
component(sgd_step, dtypes, [float32, float64]).
component(sgd_step, devices, [cpu, cuda]).
component(sgd_step, cuda_dtypes, [float32, float64, float16, bfloat16]).
component(sgd_step, bench, shape([10, 1000000])).
component(sgd_step, bench, shape([160, 65536])).      % about as many elements over many tensors
component(sgd_step, bench, shape([32, 1048576])).     % 33M elements
% On the GPU, as torch.optim's users meet them: a few large tensors, many mid-sized, many small.
component(sgd_step, bench, cuda(shape([10, 1000000]))).
component(sgd_step, bench, cuda(shape([160, 65536]))).
component(sgd_step, bench, cuda(shape([32, 1048576]))).
component(sgd_step, bench, cuda(shape([1000, 10000]))).
