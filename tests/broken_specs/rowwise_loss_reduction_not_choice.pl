% expect: 8 loss_reduction of 'bad_loss' must name an attr of type choice([none, mean, sum])
entity(bad_loss).
component(bad_loss, kind, rowwise).
component(bad_loss, doc, "Squared error.").
component(bad_loss, input, x).
component(bad_loss, attr, reduction: float = 1.0).
component(bad_loss, output, loss).
component(bad_loss, loss_reduction, reduction).
component(bad_loss, forward, loss = x * x).
