% expect: 2 op name 'bаd_op' is not usable: its character 2 is 'а' (U+0430), not ASCII: write names
entity(bаd_op).
component(bаd_op, kind, elementwise).
component(bаd_op, doc, "A test op.").
component(bаd_op, input, x).
component(bаd_op, output, y).
component(bаd_op, forward, y = x * 2).
