/*  The conformance suite's extension: toy ops that combine the spec components the way a user's
    own specs may, where the bundled ops never do (tests/conformance/README.md). */

entity(conformance_ops).
component(conformance_ops, kind, extension).
component(conformance_ops, doc, "Conformance ops: the spec language's combinations, one toy op each.").
component(conformance_ops, namespace, conformance_ops).
component(conformance_ops, package, conformance_ops).
