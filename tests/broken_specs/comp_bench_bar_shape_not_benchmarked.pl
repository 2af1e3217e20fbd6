% expect: 9 is at shape [2048], which is not one of its cuda bench shapes
entity(bad_op).
component(bad_op, kind, elementwise).
component(bad_op, doc, "A test op.").
component(bad_op, input, x).
component(bad_op, output, y).
component(bad_op, forward, y = x * 2).
component(bad_op, bench, cuda(shape([1024]))).
component(bad_op, bench_bar, cuda(forward, shape([2048]), compile >= 1.0)).
