"""The escaping layer (grimoire/escape.py): hostile spec strings land in generated C++ and Python as text.

Unit tests check each function against the language it targets (Python's own compiler; a small C++
tokenizer that knows line splices, trigraphs, comments and literals; g++'s comment removal where g++ is
installed). End to end, the bundled extension is rendered with hostile docs, file names and peer strings
and every generated file is checked: Python compiles and holds the text as data, C++ holds it only in
comments and literals. Nothing is built.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grimoire import escape, knowledge, model, render
from grimoire.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent

# A payload a broken escape would turn into code: a call of a name nothing defines, in both languages.
PAYLOAD = 'EVIL_PAYLOAD("rm -rf /")'
MARKER = "EVIL_PAYLOAD"

HOSTILE = [
    "plain text",
    "",
    "line one\n" + PAYLOAD,
    "ends with a backslash \\\n" + PAYLOAD,
    "backslash then spaces \\  \t\n" + PAYLOAD,
    "trigraph backslash ??/\n" + PAYLOAD,
    "carriage return\r" + PAYLOAD,
    "crlf\r\n" + PAYLOAD,
    "form feed\f" + PAYLOAD + "\v vertical tab",
    "closes a block */ " + PAYLOAD + " /* opens one",
    'triple """ quotes """ ' + PAYLOAD + ' """',
    "ends with a quote\"",
    "ends with two quotes\"\"",
    "four \"\"\"\" quotes",
    "single ''' quotes ' and \" doubles",
    "backslashes \\ \\\\ \\n \\x41 \\N{DASH} \\u0041 \\",
    "NUL \x00 bell \x07 escape \x1b[31m DEL \x7f C1 \x85",
    "unicode: ünïcødé — 数学 🙂 \u2028 line separator \u2029 \u200b zero width",
    "coding: utf-7 +AAo-" + PAYLOAD,
    "{braces} {{jinja}} %s %(x)s",
    "lone surrogate \ud800 here",
]


# ---------------------------------------------------------------------------------------------------
# A small C++ lexer: enough to find what the compiler would see as code.

_TRIGRAPHS = {"=": "#", "/": "\\", "'": "^", "(": "[", ")": "]", "!": "|", "<": "{", ">": "}", "-": "~"}


def cpp_code_only(src: str, *, trigraphs: bool = True) -> str:
    """The source with comments, string and character literals removed (each leaves a space or ""),
    after translation phases 1-2: trigraphs (as -trigraphs / -std=c++14 would) and line splices."""
    src = src.replace("\r\n", "\n").replace("\r", "\n")  # GCC ends a line at \n, \r\n and a lone \r
    if trigraphs:
        src = re.sub(r"\?\?([=/'()!<>\-])", lambda m: _TRIGRAPHS[m.group(1)], src)
    src = re.sub(r"\\[ \t\f\v]*\n", "", src)  # GCC splices a backslash followed by whitespace too
    out, i, n = [], 0, len(src)
    special = re.compile(r"//|/\*|\"|(?<![\w])'")  # a ' after a letter or digit is a digit separator
    while i < n:
        m = special.search(src, i)
        if m is None:
            out.append(src[i:])
            break
        out.append(src[i:m.start()])
        tok, i = m.group(), m.start()
        if tok == "//":
            j = src.find("\n", i)
            i = n if j < 0 else j
            out.append(" ")
        elif tok == "/*":
            j = src.find("*/", i + 2)
            assert j >= 0, "unterminated block comment"
            i = j + 2
            out.append(" ")
        else:
            j = i + 1
            while src[j] != tok:
                assert src[j] != "\n", f"newline in a literal: {src[i:j + 1]!r}"
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            out.append('""')
    return "".join(out)


def cpp_string_value(literal: str) -> bytes:
    """What a C++ narrow string literal (as cpp_string writes them) evaluates to, in UTF-8."""
    assert literal[0] == literal[-1] == '"'
    body, out, i = literal[1:-1], bytearray(), 0
    simple = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'", "?": b"?"}
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt in simple:
                out += simple[nxt]
                i += 2
            else:
                m = re.match(r"[0-7]{1,3}", body[i + 1:])
                assert m, f"unknown escape in {literal!r}"
                out.append(int(m.group(), 8))
                i += 1 + len(m.group())
        else:
            assert ch not in '"\n\r', literal
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
    return bytes(out)


def py_has_payload_code(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == MARKER for n in ast.walk(tree))


# ---------------------------------------------------------------------------------------------------
# Unit tests


@pytest.mark.parametrize("text", HOSTILE)
def test_cpp_comment_keeps_text_in_the_comment(text):
    src = f"int a; // {escape.cpp_comment(text)}\nint b;\n"
    code = cpp_code_only(src)
    assert MARKER not in code
    assert code.split() == ["int", "a;", "int", "b;"]
    assert "*/" not in escape.cpp_comment(text)


def test_cpp_comment_prefixes_every_line_and_keeps_plain_text():
    assert escape.cpp_comment("Parametric Swish: x * sigmoid(beta * x)") == "Parametric Swish: x * sigmoid(beta * x)"
    assert escape.cpp_comment("a\nb\r\nc\rd") == "a\n// b\n// c\n// d"
    assert escape.cpp_comment("a\nb", prefix="//   ") == "a\n//   b"
    assert escape.cpp_comment("ends \\") == "ends \\(backslash)"
    assert escape.cpp_comment("x ??/") == "x ?\\?/"
    assert escape.cpp_comment("bell\x07") == "bell\\x07"


@pytest.mark.parametrize("text", HOSTILE)
def test_cpp_block_comment_cannot_close(text):
    src = f"int a; /* {escape.cpp_block_comment(text)} */ int b;\n"
    code = cpp_code_only(src)
    assert MARKER not in code and code.split() == ["int", "a;", "int", "b;"]
    assert "/*" not in escape.cpp_block_comment(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_cpp_string_is_one_literal_of_the_text(text):
    lit = escape.cpp_string(text)
    assert cpp_code_only(f"f({lit});") == 'f("");'
    assert "\n" not in lit and "\r" not in lit and "??" not in lit
    assert cpp_string_value(lit) == text.encode("utf-8", "surrogatepass")


def test_cpp_string_of_a_schema_is_unchanged():
    schema = 'mse_loss(Tensor x, Tensor target, str reduction="mean") -> Tensor'
    assert escape.cpp_string(schema) == '"mse_loss(Tensor x, Tensor target, str reduction=\\"mean\\") -> Tensor"'
    # An octal escape stops after three digits, so a digit after a control character stays a digit.
    assert cpp_string_value(escape.cpp_string("\x01" + "7")) == b"\x017"


@pytest.mark.parametrize("text", HOSTILE)
def test_py_string_evaluates_to_the_text(text):
    lit = escape.py_string(text)
    tree = ast.parse(f"x = {lit}\n")
    assert ast.literal_eval(tree.body[0].value) == text
    assert lit.startswith('"') and "\n" not in lit and "\r" not in lit and "\x00" not in lit


@pytest.mark.parametrize("text", HOSTILE)
def test_py_docstring_reads_back_as_the_text(text):
    for src in (f'"""{escape.py_docstring(text)}"""\n',
                f'"""name: {escape.py_docstring(text)}"""\n',
                f'def f():\n    """{escape.py_docstring(text)}\n\n    Args: none.\n    """\n'):
        code = compile(src, "<doc>", "exec", flags=ast.PyCF_ONLY_AST)
        node = code.body[0] if isinstance(code.body[0], ast.Expr) else code.body[0].body[0]
        assert text in node.value.value
        assert not py_has_payload_code(code)


def test_py_docstring_stays_readable():
    assert escape.py_docstring("Adam: x' = x - lr * m / (sqrt(v) + eps)") == "Adam: x' = x - lr * m / (sqrt(v) + eps)"
    assert escape.py_docstring("two\nlines\ttab") == "two\nlines\ttab"
    assert escape.py_docstring('say "hi"') == 'say "hi\\"'
    assert escape.py_docstring('a """ b') == 'a \\"\\"" b'
    assert escape.py_docstring("a \\ b") == "a \\\\ b"


@pytest.mark.parametrize("text", HOSTILE)
def test_py_comment_keeps_text_in_the_comment(text):
    src = f"# {escape.py_comment(text)}\nx = 1\n"
    tree = ast.parse(src)
    assert [type(n) for n in tree.body] == [ast.Assign]
    assert not re.search(r"coding[:=]", src)  # no PEP 263 declaration can form on line 1 or 2
    assert "\x00" not in src


def test_oneline_is_one_line():
    assert escape.oneline("semantics/ops/gelu.pl") == "semantics/ops/gelu.pl"
    assert escape.oneline("a\nb\rc\td\x00e") == "a\\nb\\rc\\td\\0e"
    for text in HOSTILE:
        assert len(escape.oneline(text).splitlines()) <= 1


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cell_stays_in_its_cell(text):
    cell = escape.md_cell(text)
    assert "\n" not in cell and "\r" not in cell
    assert not re.search(r"(?<!\\)\|", cell)  # every | escaped
    assert not re.search(r"(?<!\\)[<`*_\[]", cell)  # no raw HTML, code, emphasis or link opens
    assert escape.md_text("gelu_tanh | 1.5x") == "gelu\\_tanh \\| 1.5x"


# ---------------------------------------------------------------------------------------------------
# End to end: the bundled extension rendered with hostile strings

HOSTILE_DOC = ("Evil doc */ /* \\\n" + PAYLOAD + '\n"""' + PAYLOAD + '"""\n\\\n??/\n' + PAYLOAD
               + "\r" + PAYLOAD + "\f" + PAYLOAD + "\x00 'q' \"dq\" ünï \\N{BULLET} \\")
HOSTILE_FILE = "semantics/ops/evil\n" + PAYLOAD + "\\\n" + PAYLOAD + "\r*/.pl"


@pytest.fixture(scope="module")
def ext():
    return model.build_model(knowledge.load(ROOT / "semantics"))


def _hostile(ext: model.Extension) -> model.Extension:
    ops = tuple(dataclasses.replace(op, doc=HOSTILE_DOC, location=model.Location(HOSTILE_FILE, 1))
                for op in ext.ops)
    return dataclasses.replace(ext, doc=HOSTILE_DOC, ops=ops)


CPP_SUFFIXES = (".cpp", ".cu", ".h", ".cuh")


def check_rendering(rendering: render.Rendering, *, doc: str | None) -> None:
    py_files = [f for f in rendering.files if f.path.endswith(".py")]
    cpp_files = [f for f in rendering.files if f.path.endswith(CPP_SUFFIXES)]
    assert py_files and cpp_files
    for f in py_files:
        try:
            tree = compile(f.content, f.path, "exec", flags=ast.PyCF_ONLY_AST)
        except SyntaxError as exc:
            raise AssertionError(f"{f.path} does not compile: {exc}") from None
        assert not py_has_payload_code(tree), f.path
        first = f.content.splitlines()[:2]
        assert all(line.startswith("#") for line in first if line), f.path
        if doc is not None and (f.path.startswith("ops/") and f.path != "ops/__init__.py" or f.path == "__init__.py"):
            assert doc in ast.get_docstring(tree, clean=False), f.path
    for f in cpp_files:
        code = cpp_code_only(f.content)
        assert MARKER not in code, f"{f.path}: the payload is code"
        assert f.content.startswith("//") or f.content.startswith("#"), f.path


def _py_shape(src: str) -> str:
    """A Python file's syntax tree with every string constant blanked: its code, not its text."""
    tree = ast.parse(src)
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            n.value = ""
    return ast.dump(tree)


def test_hostile_docs_and_file_names_stay_text(ext, root):
    rendering = render.render(_hostile(ext), root / "templates")
    check_rendering(rendering, doc=HOSTILE_DOC)
    # Not a token of code differs from the benign rendering's: the strings only ever landed in text.
    benign = {f.path: f.content for f in render.render(ext, root / "templates").files}
    for f in rendering.files:
        if f.path.endswith(CPP_SUFFIXES):
            assert cpp_code_only(f.content).split() == cpp_code_only(benign[f.path]).split(), f.path
        elif f.path.endswith(".py"):
            assert _py_shape(f.content) == _py_shape(benign[f.path]), f.path
    # The op's doc reads, line by line, in its kernel's comment.
    cpu = next(f.content for f in rendering.files if f.path == "csrc/gelu_cpu.cpp")
    assert "// " + PAYLOAD in cpu.splitlines()


@pytest.mark.skipif(shutil.which("g++") is None, reason="no g++")
def test_gpp_sees_hostile_docs_only_as_comments(ext, root, tmp_path):
    rendering = render.render(_hostile(ext), root / "templates")
    cpp = [f for f in rendering.files if f.path.endswith(CPP_SUFFIXES)]
    for f in cpp:  # with -trigraphs, as -std=c++14 would
        out = subprocess.run(["g++", "-fpreprocessed", "-dD", "-E", "-trigraphs", "-w", "-x", "c++", "-"],
                             input=f.content.encode(), capture_output=True, check=True).stdout.decode()
        assert MARKER not in out, f.path


def test_bundled_specs_render_as_before(ext, root):
    """Benign strings are unchanged by the escaping: a doc in a comment and a docstring reads as written."""
    op = ext.op("parametric_swish")
    files = {f.path: f.content for f in render.render(ext, root / "templates").files}
    assert f"// parametric_swish (elementwise, CPU): {op.doc}\n" in files["csrc/parametric_swish_cpu.cpp"]
    assert f'"""parametric_swish: {op.doc}"""' in files["ops/parametric_swish.py"]
    assert "from semantics/ops/parametric_swish.pl — do not edit." in files["ops/parametric_swish.py"]


# Through the loader: a spec whose doc and peer carry quotes, backslashes and newlines (which the checks
# allow) generates code that holds them as text; a control character in a doc is refused at file:line.

def _semantics_with(tmp_path: Path, op_file: str, text: str) -> Path:
    target = tmp_path / "semantics"
    shutil.copytree(ROOT / "semantics", target, ignore=shutil.ignore_patterns("*.plt"))
    (target / "ops" / op_file).write_text(text)
    return target


def _prolog_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


SPEC_DOC = 'Doc */ with "quotes", \'ticks\', a \\ backslash,\n' + PAYLOAD + '\n""" and a last \\'
PEER_ARG = 'tanh", ' + PAYLOAD + ', "'


def test_hostile_spec_doc_and_peer_through_the_loader(root, tmp_path):
    spec = (root / "semantics" / "ops" / "gelu_tanh.pl").read_text()
    doc = re.search(r'component\(gelu_tanh, doc, (".*?")\)\.\n', spec, re.S).group(1)
    spec = spec.replace(doc, _prolog_string(SPEC_DOC))
    spec = spec.replace('approximate = "tanh"', "approximate = " + _prolog_string(PEER_ARG))
    assert PAYLOAD.split("(")[0] in spec
    ext = model.build_model(knowledge.load(_semantics_with(tmp_path, "gelu_tanh.pl", spec)))
    op = ext.op("gelu_tanh")
    assert op.doc == SPEC_DOC
    call = ast.parse(op.peer, mode="eval").body
    assert isinstance(call, ast.Call) and call.keywords[0].value.value == PEER_ARG
    rendering = render.render(ext, root / "templates")
    check_rendering(rendering, doc=None)
    files = {f.path: f.content for f in rendering.files}
    assert SPEC_DOC in ast.get_docstring(ast.parse(files["ops/gelu_tanh.py"]), clean=False)


@pytest.mark.parametrize("char", ["\\r", "\\x00\\", "\\e", "\\x85\\"])
def test_control_characters_in_a_doc_are_refused(char, root, tmp_path):
    spec = (root / "semantics" / "ops" / "gelu.pl").read_text()
    doc = re.search(r'component\(gelu, doc, (".*?")\)\.\n', spec, re.S).group(1)
    line = spec[:spec.index(doc)].count("\n") + 1
    spec = spec.replace(doc, doc[:-1] + "bad" + char + "doc" + '"')
    with pytest.raises(SpecError) as info:
        knowledge.load(_semantics_with(tmp_path, "gelu.pl", spec))
    [d] = info.value.diagnostics
    assert Path(d.file).name == "gelu.pl" and d.line == line, d.render()
    assert "control character" in d.message, d.render()


def test_markdown_tables_keep_each_cell_in_its_row():
    """grimoire/tables.py, the one Markdown table writer (the benchmark report, docs/spec-language.md): a `|` or
    a line break in a cell is escaped or joined, so a row never splits; the cell's own Markdown is kept."""
    from grimoire import tables

    lines = tables.markdown(["form", "meaning"], [["`a | b`", "two\nlines"], ["**bold**", ""]])
    assert lines == ["| form | meaning |", "|---|---|", "| `a \\| b` | two lines |", "| **bold** |  |"]
    with pytest.raises(ValueError, match="a row of 1 cells in a table of 2 columns"):
        tables.markdown(["form", "meaning"], [["only one"]])
