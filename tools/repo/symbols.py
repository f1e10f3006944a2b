"""The functions, classes and methods a source file defines, with their one-line signatures.

Pure: a path and a text in, :class:`Symbol` records out. Python is read with ``ast``
(exact; a file that does not parse has no symbols). JavaScript and TypeScript are read
with regular expressions, so only conventionally formatted code is understood: a
top-level definition starts at column 0 and its block ends at the first later line that
starts with ``}`` (a class method's block: at the first ``}`` back at the method's
indentation). Exported and ``const``/``let``/``var`` bindings of arrow functions and
function expressions count as functions.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["JS_SUFFIXES", "Symbol", "file_symbols", "js_statement_end", "parse_python"]

JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx")
"""File suffixes read as JavaScript/TypeScript."""

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Symbol:
    """One definition in a file.

    Attributes:
        path: Repo-relative path of the file.
        name: Qualified name: ``f``, ``C`` or ``C.method``.
        kind: ``function``, ``class`` or ``method``.
        signature: The header as written, on one line, without the trailing colon or
            brace: ``def total(self, tax: Decimal = ZERO) -> Decimal``.
        line: 1-based first line, decorators included.
        end_line: 1-based last line.
    """

    path: str
    name: str
    kind: str
    signature: str
    line: int
    end_line: int


def parse_python(text: str) -> ast.Module | None:
    """``text`` parsed by ``ast``, or None when it is not valid Python."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def file_symbols(path: str, text: str) -> list[Symbol]:
    """The symbols ``text`` (the file at ``path``) defines, in source order.

    Python: top-level functions and classes, and the methods of top-level classes.
    JavaScript/TypeScript (``.js .mjs .cjs .jsx .ts .tsx``): top-level functions, classes,
    their methods and function bindings, conventionally formatted code only. Any other
    file, or Python that does not parse: ``[]``.
    """
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in (".py", ".pyi"):
        return _python_symbols(path, text)
    if suffix in JS_SUFFIXES:
        return _js_symbols(path, text)
    return []


def _python_symbols(path: str, text: str) -> list[Symbol]:
    tree = parse_python(text)
    if tree is None:
        return []
    lines = text.splitlines(keepends=True)
    found: list[Symbol] = []
    for node in tree.body:
        if not isinstance(node, _DEFS):
            continue
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        found.append(_python_symbol(path, lines, node, node.name, kind))
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, _FUNCS):
                    name = f"{node.name}.{member.name}"
                    found.append(_python_symbol(path, lines, member, name, "method"))
    return found


def _python_symbol(path: str, lines: list[str], node: ast.stmt, name: str, kind: str) -> Symbol:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    end = node.end_lineno or node.lineno
    return Symbol(path, name, kind, python_header(lines, node.lineno), first, end)


def python_header(lines: list[str], lineno: int) -> str:
    """The ``def``/``class`` header starting at 1-based ``lineno``, joined onto one line.

    Spacing on each physical line is kept as written; line breaks inside brackets become
    one space (none after an opening or before a closing bracket), comments are dropped
    and a trailing comma before a closing bracket on a later line goes.
    """
    tokens: list[tokenize.TokenInfo] = []
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(lines[lineno - 1 :])).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT):
                continue
            if tok.type == tokenize.OP and tok.string == ":" and depth == 0:
                return _join(tokens, lines, lineno)
            if tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.type == tokenize.OP and tok.string in (")", "]", "}"):
                depth -= 1
            tokens.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass
    return lines[lineno - 1].strip().rstrip(":").rstrip()


def _join(tokens: list[tokenize.TokenInfo], lines: list[str], lineno: int) -> str:
    out: list[str] = []
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.string == "," and nxt and nxt.string in ")]}" and nxt.start[0] != tok.end[0]:
            continue  # the trailing comma of a bracket split over lines
        if out:
            prev = tokens[i - 1]
            if prev.end[0] == tok.start[0]:
                row = lines[lineno - 2 + tok.start[0]]
                out.append(row[prev.end[1] : tok.start[1]])
            elif out[-1] not in ("(", "[", "{") and tok.string not in (")", "]", "}"):
                out.append(" ")
        out.append(tok.string)
    return "".join(out)


_JS_NAME = r"[A-Za-z_$][\w$]*"
_JS_FUNCTION = re.compile(
    rf"^(?:export\s+(?:default\s+)?)?(?:async\s+)?function\s*\*?\s*({_JS_NAME})\s*[(<]"
)
_JS_CLASS = re.compile(
    rf"^(?:export\s+(?:default\s+)?)?(?:abstract\s+)?class\s+({_JS_NAME})(?![\w$])"
)
_JS_BINDING = re.compile(
    rf"^(?:export\s+)?(?:const|let|var)\s+({_JS_NAME})\s*(?::[^=]+)?=\s*(?:async\s+)?"
    rf"(?:function\b|\([^()]*\)\s*(?::[^=]+)?=>|{_JS_NAME}\s*=>)"
)
_JS_METHOD = re.compile(
    r"^([ \t]+)(?:(?:public|private|protected|static|async|get|set|override|readonly)\s+)*"
    rf"(#?{_JS_NAME})\s*(?:<[^>]*>)?\([^;]*\)\s*(?::[^{{;]+)?\{{\s*$"
)
_JS_KEYWORDS = frozenset({"if", "for", "while", "switch", "catch", "function", "return", "with"})


def _js_symbols(path: str, text: str) -> list[Symbol]:
    lines = text.splitlines()
    found: list[Symbol] = []
    for i, line in enumerate(lines):
        if match := _JS_FUNCTION.match(line):
            kind = "function"
        elif match := _JS_CLASS.match(line):
            kind = "class"
        elif match := _JS_BINDING.match(line):
            kind = "function"
        else:
            continue
        end = js_statement_end(lines, i, "")
        found.append(Symbol(path, match.group(1), kind, _js_signature(line), i + 1, end + 1))
        if kind == "class":
            found.extend(_js_methods(path, lines, match.group(1), i, end))
    return found


def _js_methods(path: str, lines: list[str], cls: str, start: int, end: int) -> list[Symbol]:
    found: list[Symbol] = []
    indent: str | None = None
    for i in range(start + 1, end):
        match = _JS_METHOD.match(lines[i])
        if not match or match.group(2) in _JS_KEYWORDS:
            continue
        indent = match.group(1) if indent is None else indent
        if match.group(1) != indent:
            continue  # nested deeper: a function inside a method
        last = js_statement_end(lines, i, indent)
        name = f"{cls}.{match.group(2)}"
        found.append(Symbol(path, name, "method", _js_signature(lines[i]), i + 1, last + 1))
    return found


def js_statement_end(lines: list[str], start: int, indent: str = "") -> int:
    """0-based last line of the definition (or statement) starting at ``start``: a block
    opened on its first line ends at the first later ``}`` at ``indent``; anything else
    at the first line ending in ``;`` or ``}``, or before a blank line (see the module doc)."""
    first = lines[start].rstrip()
    if first.endswith("{") or first.endswith("=> {"):
        for j in range(start + 1, len(lines)):
            rest = lines[j][len(indent) :] if lines[j].startswith(indent) else None
            if rest is not None and rest.startswith("}"):
                return j
        return len(lines) - 1
    for j in range(start, len(lines)):
        if lines[j].rstrip().endswith((";", "}")) or (j > start and not lines[j].strip()):
            return j if lines[j].strip() else j - 1
    return len(lines) - 1


def _js_signature(line: str) -> str:
    text = line.strip()
    if "=>" in text:
        return text[: text.index("=>") + 2]
    return text.rstrip("{").rstrip()
