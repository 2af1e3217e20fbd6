"""The one Markdown table writer. Tables for a terminal are rich's (grimoire/cli.py); tables that go into a
Markdown file (the benchmark report, docs/spec-language.md) are written here, so every one escapes its
cells alike: a `|` or a line break in a cell can never split a row."""

from __future__ import annotations

from typing import Iterable, Sequence


def cell(text: object) -> str:
    """A cell's Markdown (code spans, bold: kept as written) on one line, with its pipes escaped."""
    return " ".join(str(text).splitlines()).replace("|", "\\|")


def markdown(head: Sequence[object], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table, one string per line: the head, its rule, then each row (a row
    of other length than the head is a bug of the caller, refused)."""
    head = list(head)
    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        row = list(row)
        if len(row) != len(head):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(head)} columns: {row!r}")
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines
