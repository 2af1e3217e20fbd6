% expect: 2 op name 'BadOp' is not usable: it has upper-case letters: write lower_snake_case, e.g.
entity('BadOp').
component('BadOp', kind, elementwise).
component('BadOp', doc, "A test op.").
component('BadOp', input, x).
component('BadOp', output, y).
component('BadOp', forward, y = x * 2).
