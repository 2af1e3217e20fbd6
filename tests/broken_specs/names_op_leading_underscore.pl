% expect: 2 op name '_hidden' is not usable: names starting with _ are the generated code's own:
entity('_hidden').
component('_hidden', kind, elementwise).
component('_hidden', doc, "A test op.").
component('_hidden', input, x).
component('_hidden', output, y).
component('_hidden', forward, y = x * 2).
