"""The spec-language reference, made from the vocabulary itself (knowledge.vocabulary): `grimoire vocab`
prints it as text; `grimoire vocab --markdown` writes docs/spec-language.md, which a test keeps in step."""

from __future__ import annotations

import textwrap
from typing import Any

from . import tables

INTRO = """\
A spec file under `semantics/ops/` holds facts and nothing else: `entity(Op).` and
`component(Op, Key, Value).`, one component per fact. Anything else (directives, rules, other
predicates) is refused at its file:line and nothing in the file runs. The vocabulary below is
read from `semantics/core/` and `semantics/kinds/`; a component with any other key is an error."""

NOTES = """\
Names (ops, inputs, outputs, attrs, modules) are ASCII lower_snake_case identifiers (modules
CamelCase) of at most {max_len} characters that clash with nothing below. Every query over the specs
runs under a {time_s} s and {inferences:,}-inference limit: a spec that loops is stopped and blamed."""


def _help_text(help_: str, key: str) -> str:
    """The vocabulary's help strings start with "key: "; the reference shows the key beside it."""
    return help_[len(key) + 2:] if help_.startswith(key + ": ") else help_


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False) or [indent]


def _dtypes(d: Any) -> str:
    return "every dtype" if d == "all" else ", ".join(d)


def text(v: dict[str, Any], width: int = 80) -> str:
    """The reference as plain text, `width` columns wide."""
    out: list[str] = [*textwrap.fill(INTRO.replace("`", ""), width).splitlines(), ""]
    out.append("COMPONENTS (every op; `many` may be written more than once)")
    for c in v["components"]:
        out.append(f"  {c['key']}  [{c['cardinality']}, {c['scope']}]")
        out += _wrap(_help_text(c["help"], c["key"]), width, "      ")
    out.append("")
    out.append("KINDS (component(Op, kind, Kind))")
    for k in v["kinds"]:
        devices = "; ".join(f"{d['device']}: {_dtypes(d['dtypes'])}" for d in k["devices"])
        out.append(f"  {k['name']}")
        out += _wrap(f"{k['doc']}. Kernels for {devices}.", width, "      ")
        for c in k["components"]:
            out.append(f"      {c['key']}  [{c['cardinality']}]")
            out += _wrap(_help_text(c["help"], c["key"]), width, "          ")
    out.append("")
    g = v["grammar"]
    out.append("EXPRESSIONS (forward, gradient, stat, ...)")
    for f in g["forms"]:
        out.append(f"  {f['form']}")
        out += _wrap(f["meaning"], width, "      ")
    out += _wrap("unary functions: " + ", ".join(g["unary"]), width, "  ")
    out += _wrap("row reductions (rowwise): " + ", ".join(f"{r}(E)" for r in g["row_reductions"])
                 + "; builtins n (row length) and col (column index)", width, "  ")
    out += _wrap("constants: " + ", ".join(c["name"] for c in g["constants"]), width, "  ")
    out.append("")
    out.append("TYPES")
    out += _wrap("attr types: " + ", ".join(v["attr_types"]) + " (attr: name: type = default, or no default "
                 "for a required attr)", width, "  ")
    out += _wrap("dtypes: " + ", ".join(v["dtypes"]), width, "  ")
    out += _wrap("devices: " + ", ".join(v["devices"]), width, "  ")
    out.append("")
    out.append("RESERVED NAMES")
    for line in NOTES.format(max_len=v["max_name_length"], **v["limits"]).split("\n\n"):
        out += textwrap.fill(line.replace("\n", " "), width, initial_indent="  ",
                             subsequent_indent="  ").splitlines()
    for r in v["roles"]:
        out += _wrap(f"{r['role']} names may not be: " + ", ".join(n.replace("_", " ") for n in r["namespaces"]),
                     width, "  ")
    for r in v["reserved"]:
        out += _wrap(f"{r['namespace']} ({r['doc']}):", width, "  ")
        out += _wrap(" ".join(r["words"]) or "(none)", width, "      ")
    return "\n".join(out) + "\n"


def markdown(v: dict[str, Any]) -> str:
    """docs/spec-language.md."""
    out = ["# The spec language", "",
           "<!-- Made by `grimoire vocab --markdown` from semantics/core and semantics/kinds; "
           "tests/test_vocab.py keeps it in step. -->", "", INTRO, "",
           "## Components", "", "`many`: the component may be written more than once. Scope `op`: an op's; "
           "`extension`: the extension entity's.", ""]
    out += tables.markdown(["component", "cardinality", "scope", "meaning"],
                           ([f"`{c['key']}`", c["cardinality"], c["scope"], _help_text(c["help"], c["key"])]
                            for c in v["components"]))
    out += ["", "## Kinds", "", "`component(Op, kind, Kind)` picks one.", ""]
    for k in v["kinds"]:
        devices = "; ".join(f"{d['device']}: {_dtypes(d['dtypes'])}" for d in k["devices"])
        out += [f"### `{k['name']}`", "", f"{k['doc']}. Kernels for {devices}.", ""]
        if k["components"]:
            out += tables.markdown(["component", "cardinality", "meaning"],
                                   ([f"`{c['key']}`", c["cardinality"], _help_text(c["help"], c["key"])]
                                    for c in k["components"]))
            out.append("")
    g = v["grammar"]
    out += ["## Expressions", "", "`forward`, `gradient`, `stat` and the optimizer's rules are expressions over "
            "the op's inputs, attrs and constants:", ""]
    out += tables.markdown(["form", "meaning"], ([f"`{f['form']}`", f["meaning"]] for f in g["forms"]))
    out += ["", "Unary functions: " + ", ".join(f"`{u}`" for u in g["unary"]) + ".", "",
            "Row reductions (rowwise kind): " + ", ".join(f"`{r}(E)`" for r in g["row_reductions"])
            + "; the builtins `n` (the row length) and `col` (the column index). An expression with no element "
            "outside a reduction gives one value per row.", "",
            "Constants: " + ", ".join(f"`{c['name']}`" for c in g["constants"]) + ".", "",
            "## Types", "",
            "Attr types: " + ", ".join(f"`{t}`" for t in v["attr_types"]) + ". Write `attr, name: type = default`, "
            "or leave the default out for a required attr.", "",
            "Dtypes: " + ", ".join(f"`{d}`" for d in v["dtypes"]) + ". Devices: "
            + ", ".join(f"`{d}`" for d in v["devices"]) + ".", "",
            "## Names and limits", "", NOTES.format(max_len=v["max_name_length"], **v["limits"]), ""]
    out += tables.markdown(["role", "may not be"],
                           ([r["role"], ", ".join(n.replace("_", " ") for n in r["namespaces"])] for r in v["roles"]))
    out.append("")
    for r in v["reserved"]:
        out += [f"**{r['namespace'].replace('_', ' ')}** ({r['doc']}): "
                + (", ".join(f"`{w}`" for w in r["words"]) or "none") + ".", ""]
    return "\n".join(out).rstrip() + "\n"
