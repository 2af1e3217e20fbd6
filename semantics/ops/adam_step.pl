/*  Adam and AdamW (torch.optim.Adam / AdamW): one in-place step over lists of tensors.
    The rules follow torch's own order of operations, so float32 results agree to rounding. */

entity(adam_step).
component(adam_step, kind, optimizer).
component(adam_step, doc, "Adam / AdamW step: moment estimates with bias correction, optional AMSGrad, L2 or decoupled weight decay.").
component(adam_step, param, param).
component(adam_step, grad, grad).
component(adam_step, state, exp_avg).
component(adam_step, state, exp_avg_sq).
component(adam_step, state, max_exp_avg_sq).
component(adam_step, attr, lr: float = 0.001).
component(adam_step, attr, beta1: float = 0.9).
component(adam_step, attr, beta2: float = 0.999).
component(adam_step, attr, eps: float = 1.0e-8).
component(adam_step, attr, weight_decay: float = 0.0).
component(adam_step, attr, amsgrad: bool = false).
component(adam_step, attr, maximize: bool = false).
component(adam_step, attr, decoupled_weight_decay: bool = false).

% Once per tensor, on the host: step is this step's count (1 at the first step).
component(adam_step, scalar, bias_correction1 = 1 - pow(beta1, step)).
component(adam_step, scalar, bias_correction2 = 1 - pow(beta2, step)).
component(adam_step, scalar, step_size = -(lr / bias_correction1)).
component(adam_step, scalar, bias_correction2_sqrt = sqrt(bias_correction2)).

% Per element, in order.
component(adam_step, let, g = if(maximize, -grad, grad)).
component(adam_step, let, gd = if((weight_decay =\= 0, \+ decoupled_weight_decay), g + weight_decay * param, g)).
component(adam_step, update, param = if((weight_decay =\= 0, decoupled_weight_decay), param * (1 - lr * weight_decay), param)).
% torch's lerp(exp_avg, gd, 1 - beta1): from the nearer end, so infinities give what torch's do
% (a weight of 0.5 or more: gd - (gd - exp_avg) * beta1, which is NaN for an inf gradient).
component(adam_step, update, exp_avg = if(beta1 > 0.5, exp_avg + (1 - beta1) * (gd - exp_avg),
                                             gd - (gd - exp_avg) * beta1)).
component(adam_step, update, exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * gd * gd).
% maximum(max_exp_avg_sq, exp_avg_sq) as torch: a NaN in exp_avg_sq wins (it stays NaN once it is).
component(adam_step, update, max_exp_avg_sq = if(amsgrad, where(max_exp_avg_sq >= exp_avg_sq, max_exp_avg_sq, exp_avg_sq), max_exp_avg_sq)).
component(adam_step, let, second = if(amsgrad, max_exp_avg_sq, exp_avg_sq)).
component(adam_step, let, denom = sqrt(second) / bias_correction2_sqrt + eps).
component(adam_step, update, param = param + step_size * exp_avg / denom).

component(adam_step, requires, lr >= 0).
component(adam_step, requires, eps >= 0).
component(adam_step, requires, (beta1 >= 0, beta1 < 1)).
component(adam_step, requires, (beta2 >= 0, beta2 < 1)).
component(adam_step, requires, weight_decay >= 0).

component(adam_step, optimizer_class, 'Adam'(betas = (beta1, beta2))).
component(adam_step, optimizer_class, 'AdamW'(betas = (beta1, beta2), weight_decay = 0.01, decoupled_weight_decay := true)).
component(adam_step, dtypes, [float32, float64]).
component(adam_step, devices, [cpu, cuda]).
component(adam_step, cuda_dtypes, [float32, float64, float16, bfloat16]).
% [tensors, elements per tensor]: ten tensors of one million elements, ...
component(adam_step, bench, shape([10, 1000000])).
component(adam_step, bench, shape([160, 65536])).      % about as many elements over many tensors
component(adam_step, bench, shape([32, 1048576])).     % 33M elements
% On the GPU, as torch.optim's users meet them: a few large tensors, many mid-sized, many small.
component(adam_step, bench, cuda(shape([10, 1000000]))).
component(adam_step, bench, cuda(shape([160, 65536]))).
component(adam_step, bench, cuda(shape([32, 1048576]))).
component(adam_step, bench, cuda(shape([1000, 10000]))).
