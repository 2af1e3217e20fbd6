% expect: 7 column_input gamma of 'bad_norm' is not an input
entity(bad_norm).
component(bad_norm, kind, rowwise).
component(bad_norm, doc, "Scales the row by a column weight.").
component(bad_norm, input, x).
component(bad_norm, output, y).
component(bad_norm, column_input, gamma).
component(bad_norm, forward, y = x / sum(x)).
