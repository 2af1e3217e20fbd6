/*  mse_loss (rowwise): mean squared error, reduced over every element ('mean', 'sum') or not ('none'). */

entity(mse_loss).
component(mse_loss, kind, rowwise).
component(mse_loss, doc, "Mean squared error between input and target (torch.nn.functional.mse_loss).").
component(mse_loss, input, x).
component(mse_loss, input, target).
component(mse_loss, attr, reduction: choice([none, mean, sum]) = mean).
component(mse_loss, loss_reduction, reduction).
component(mse_loss, output, loss).
component(mse_loss, forward, loss = (x - target) ** 2).
component(mse_loss, peer, 'torch.nn.functional.mse_loss'(x, target, reduction = reduction)).
component(mse_loss, dtypes, [float32, float64, float16, bfloat16]).
component(mse_loss, devices, [cpu, cuda]).
component(mse_loss, module, 'MSELoss').
component(mse_loss, bench, shape([4096, 4096])).
