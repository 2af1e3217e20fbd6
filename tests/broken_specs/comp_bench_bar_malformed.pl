% expect: 8 bench_bar cuda(forward,shape([1024]),1.5) of 'bad_op' must read Device(Pass, shape([D1, ...]), Peer >= Ratio)
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, bench_bar, cuda(forward, shape([1024]), 1.5)).
