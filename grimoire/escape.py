"""The one escaping layer: every spec string that reaches generated code passes through one of these.

A spec is data: its free text (docs, file names, a peer's string arguments, messages)
must land in C++ and Python as the text it is, never as code. Each function here takes any str and returns
text that is safe where its name says, read back as the same text (a comment or docstring shows it, a
literal evaluates to it). They are pure, and render.py registers each one as a Jinja2 filter of the same
name. Identifiers need none of this: the checks in semantics/core/checks.pl validate them.

Where escaping cannot make a string sensible (a NUL or other control character in a doc), the spec
checks refuse it; these functions still render such text harmlessly, shown as an escape such as \\x00.
"""

from __future__ import annotations

import re

__all__ = ["oneline", "cpp_comment", "cpp_block_comment", "cpp_string", "py_string", "py_docstring",
           "py_comment", "md_text", "md_cell"]

# Line breaks as the compilers see them: C++ (GCC's cpplib) and Python's tokenizer both end a line at
# \n, \r\n and a lone \r.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Control characters (C0 but tab and newline, DEL, C1): shown as escapes wherever text lands.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The nine trigraphs (??/ is a backslash, ??= a #): C++14 and older, with -trigraphs, replace them anywhere.
_TRIGRAPH = re.compile(r"\?\?(?=[=/'()!<>\-])")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x0b": "\\v", "\x0c": "\\f", "\x00": "\\0"}


def _visible(ch: str) -> str:
    """A control character as people read it in a comment: \\n, \\r, \\x1b ..."""
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def oneline(text: str) -> str:
    """Text on one line: line breaks (\\u2028 too), tabs and other control characters shown as escapes
    (\\n, \\t, \\x1b). For text that must not span lines, such as a file name in a banner."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]", lambda m: _visible(m.group()), str(text))


def _comment(text: str, prefix: str, *, cpp: bool) -> str:
    out = []
    for line in _LINE_BREAK.split(str(text)):
        line = _CONTROL.sub(lambda m: _visible(m.group()), line)
        if cpp:
            line = _TRIGRAPH.sub("?\\\\?", line)  # ??/ would be a backslash; the others are harmless here
            line = line.replace("*/", "* /")
            # A backslash ending a line (trailing whitespace allowed, as GCC does) splices the next line
            # into the comment: trailing whitespace goes, and a last backslash is written out in words.
            line = line.rstrip(" \t")
            if line.endswith("\\"):
                line = line[:-1] + "\\(backslash)"
        out.append(line)
    return ("\n" + prefix).join(out)


def cpp_comment(text: str, prefix: str = "// ") -> str:
    """Text for a C++ line comment the template opens (`// {{ doc | cpp_comment }}`): every line after
    the first starts with `prefix`, so no line of the text leaves the comment. A trailing backslash (a
    line splice), a ??/ trigraph, */ and control characters are neutralised."""
    return _comment(text, prefix, cpp=True)


def cpp_block_comment(text: str) -> str:
    """Text inside a C++ /* ... */ comment: */ cannot close it, /* cannot nest it (-Wcomment), control
    characters are shown as escapes; line breaks stay (each continuation line starts with ` * `)."""
    return _comment(str(text).replace("/*", "/ *"), " * ", cpp=True)


def cpp_string(text: str) -> str:
    """A C++ string literal, quotes included, that evaluates to text (UTF-8): backslash, quote and control
    characters escaped (control characters in octal, which cannot swallow a following digit as \\x can),
    and ?? written ?\\? so no trigraph forms. Other characters stay as they are (UTF-8 source)."""
    def esc(ch: str) -> str:
        if ch in '\\"':
            return "\\" + ch
        if ch in "\n\r\t":
            return _NAMED[ch]
        if ch < " " or ch == "\x7f":
            return f"\\{ord(ch):03o}"
        if "\x80" <= ch <= "\x9f" or "\ud800" <= ch <= "\udfff":  # C1 control, lone surrogate: bytes, in octal
            return "".join(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogatepass"))
        return ch
    body = "".join(esc(ch) for ch in str(text)).replace("??", "?\\?")
    return f'"{body}"'


def _py_escape(ch: str) -> str:
    """A character as a Python string escape (\\n, \\x00, \\u2028, \\ud800), as repr writes it."""
    r = repr(ch)[1:-1]
    return r if r != ch else f"\\x{ord(ch):02x}"


def py_string(text: str) -> str:
    """A double-quoted Python string literal that evaluates to text: backslash and quote escaped,
    characters Python would not keep in source (control, non-printable) written as escapes."""
    def esc(ch: str) -> str:
        if ch in '\\"':
            return "\\" + ch
        return ch if ch.isprintable() else _py_escape(ch)
    return '"' + "".join(esc(ch) for ch in str(text)) + '"'


def py_docstring(text: str) -> str:
    """Text inside a Python \"\"\"docstring\"\"\", read back as the same text: backslashes doubled, a quote
    escaped where it would help form \"\"\" (followed by a quote, or last), \\r and other characters Python
    will not keep in source (control, non-printable) escaped. Newlines and tabs stay, so it reads as
    written."""
    text = str(text)
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"' and (i + 1 == len(text) or text[i + 1] == '"'):
            out.append('\\"')
        elif ch in "\n\t" or ch.isprintable():
            out.append(ch)
        else:  # \r (universal newlines would turn it into \n), NUL, other controls, separators, surrogates
            out.append(_py_escape(ch))
    return "".join(out)


def py_comment(text: str, prefix: str = "# ") -> str:
    """Text for a Python comment the template opens (`# {{ text | py_comment }}`): every line after the
    first starts with `prefix`; control characters (NUL, form feed, ...) are shown as escapes."""
    out = []
    for line in _LINE_BREAK.split(str(text)):
        line = "".join(ch if ch == "\t" or ch.isprintable() else _py_escape(ch) for ch in line)
        # PEP 263: "coding: <name>" in a comment on line 1 or 2 would set the file's source encoding.
        out.append(re.sub(r"(coding)([:=])", r"\1\\\2", line))
    return ("\n" + prefix).join(out)


# ASCII punctuation CommonMark acts on inline (emphasis, code, links, raw HTML, entities, tables).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def md_text(text: str) -> str:
    """Text for a line of Markdown: one paragraph (line breaks become spaces, control characters are
    shown as escapes), inline markup and raw HTML backslash-escaped so the text shows as written."""
    text = _LINE_BREAK.sub(" ", str(text))
    text = _CONTROL.sub(lambda m: _visible(m.group()), text).replace("\t", " ")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # At the start of a line, a list marker, a heading underline or a numbered item would still act.
    text = re.sub(r"^(\s*)([-+=])", r"\1\\\2", text)
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", text)


def md_cell(text: str) -> str:
    """Text for one cell of a Markdown table: as md_text, so one line with | escaped."""
    return md_text(text)
