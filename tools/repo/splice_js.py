"""Replace JavaScript/TypeScript functions, classes and methods by their position (pure).

The JavaScript side of :mod:`~codeagent.tools.repo.splice`. Symbols are found the way
:mod:`~codeagent.tools.repo.symbols` finds them (conventionally formatted code: a
top-level definition starts at column 0, its block ends at the first later ``}`` there),
so no parser is needed. Which part of the file a block of new code replaces:

* a top-level ``function f``, ``const f = (...) =>`` or ``class C`` replaces the file's
  top-level ``f`` / ``C`` (a comment right above it in the new code replaces the one
  above it in the file; without one the file's comment stays);
* ``class C`` holding only some of the file's ``C``'s methods (or labelled
  ``path::C.m``) is a wrapper: each method is spliced into ``C``, the rest is kept;
* under the label ``path::C.m``, code that is not a class is the new method ``m``,
  re-indented to the method's level;
* a definition the file does not have yet goes before the file's ``module.exports`` /
  ``export { ... }`` statement, else at the end (a method: before its class's ``}``);
* ``require`` / ``import`` lines the file lacks go after its last one; a
  ``module.exports = ...`` or ``export { ... }`` statement replaces the file's own;
  any other line must already be in the file (it is then left alone).

:func:`js_balance_problem` (strings, template literals, comments and regular expression
literals skipped) is the check :func:`~codeagent.tools.repo.edits.apply_edits` runs on
every JavaScript edit, of any format: brackets that no longer balance, nothing applied.
"""

from __future__ import annotations

import re
import textwrap

from codeagent.tools.repo.edit_types import EditError
from codeagent.tools.repo.line_ops import LineOps
from codeagent.tools.repo.search_replace import newline_of
from codeagent.tools.repo.symbols import Symbol, file_symbols, js_statement_end

__all__ = ["js_balance_problem", "splice_js_symbols"]

_IMPORT = re.compile(r"^(?:(?:const|let|var)\s+.+=\s*require\(.+\)\s*;?\s*$|import\s.+)")
_EXPORTS = re.compile(r"^(?:module\.exports\s*=|export\s*\{|export\s+default\s+\{)")
_COMMENT = re.compile(r"^\s*(?://|/\*|\*)")
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}
_REGEX_AFTER_WORDS = frozenset(
    {
        "return",
        "typeof",
        "case",
        "do",
        "else",
        "in",
        "of",
        "new",
        "delete",
        "void",
        "throw",
        "yield",
        "await",
    }
)
_PAIRS = {")": "(", "]": "[", "}": "{"}


def splice_js_symbols(path: str, text: str, code: str, label: str = "") -> str:
    """``text`` (the JavaScript file at ``path``) with the definitions ``code`` holds
    spliced in (see the module doc).

    Raises:
        EditError: The code defines nothing the label or the file can place, holds a
            statement the file does not have. (Brackets that no longer balance are
            refused by :func:`~codeagent.tools.repo.edits.apply_edits`, for every format.)
    """
    return _JsSplicer(path, text, code, label).result()


class _JsSplicer:
    def __init__(self, path: str, text: str, code: str, label: str) -> None:
        self.path, self.text, self.label = path, text, label
        self.newline = newline_of(text)
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.code = textwrap.dedent(code.replace("\r\n", "\n")).strip("\n").split("\n")
        self.symbols = {s.name: s for s in file_symbols(path, "\n".join(self.lines))}
        self.new = [s for s in file_symbols(path, "\n".join(self.code)) if "." not in s.name]
        self.ops = LineOps(path)
        self.done: set[str] = set()

    def result(self) -> str:
        cls, _, member = self.label.rpartition(".")
        if cls and not any(s.name == cls and s.kind == "class" for s in self.new):
            self._method(cls, member, self.code)  # a bare method under path::C.m
        else:
            if not self.new:
                raise EditError(
                    f"the new code for {self.path} defines no function or class",
                    path=self.path,
                    hint="send the complete new definition, from its 'function' or 'class' "
                    "line to its closing }",
                )
            for symbol in self.new:
                self._top_level(symbol)
            self._other_lines()
        if self.label and self.label not in self.done:
            raise self._not_found(
                f"the label says {self.label} but the code defines "
                f"{', '.join(sorted(self.done)) or 'nothing'}"
            )
        return self._apply()

    # -- definitions ---------------------------------------------------------------
    def _top_level(self, symbol: Symbol) -> None:
        body = self._with_comment(self.code, symbol)
        existing = self.symbols.get(symbol.name)
        if symbol.kind == "class" and existing is not None and self.label != symbol.name:
            methods = [
                s
                for s in file_symbols(self.path, "\n".join(self.code))
                if s.name.startswith(symbol.name + ".")
            ]
            file_methods = {n for n in self.symbols if n.startswith(symbol.name + ".")}
            if methods and (
                file_methods - {m.name for m in methods} or self.label.startswith(symbol.name + ".")
            ):
                for method in methods:
                    lines = self._with_comment(self.code, method)
                    self._method(symbol.name, method.name.split(".", 1)[1], lines)
                return
        if existing is not None:
            commented = len(body) > symbol.end_line - symbol.line + 1
            start = self._comment_start(self.lines, existing) if commented else existing.line - 1
            self._add(start, existing.end_line, body)
        else:
            at = self._exports_line()
            if at is None:  # at the end
                at, lines = len(self._content_lines()), ["", *body]
            else:  # before the exports
                lines = ["", *body, ""] if at and self.lines[at - 1].strip() else [*body, ""]
            self._add(at, at, lines)
        self.done.add(symbol.name)

    def _method(self, cls: str, member: str, code: list[str]) -> None:
        owner = self.symbols.get(cls)
        if owner is None or owner.kind != "class":
            raise self._not_found(f"class {cls} is not in {self.path}")
        existing = self.symbols.get(f"{cls}.{member}")
        if existing is not None:
            indent = _indent(self.lines[existing.line - 1])
            start = existing.line - 1
            if _COMMENT.match(code[0]):
                start = self._comment_start(self.lines, existing)
            self._add(start, existing.end_line, _reindent(code, indent))
        else:
            siblings = [s for n, s in self.symbols.items() if n.startswith(cls + ".")]
            indent = _indent(self.lines[siblings[0].line - 1]) if siblings else "  "
            at = owner.end_line - 1  # the class's closing }
            self._add(
                at, at, ["", *_reindent(code, indent)] if siblings else _reindent(code, indent)
            )
        self.done.add(f"{cls}.{member}")

    # -- everything else in the new code -------------------------------------------
    def _other_lines(self) -> None:
        covered: set[int] = set()
        for symbol in self.new:
            first = self._comment_start(self.code, symbol)
            covered.update(range(first, symbol.end_line))
        kept = {line.strip() for line in self.lines}
        i = 0
        while i < len(self.code):
            line = self.code[i]
            if i in covered or not line.strip() or _COMMENT.match(line):
                i += 1
                continue
            if _EXPORTS.match(line):
                end = js_statement_end(self.code, i)
                self._exports(self.code[i : end + 1])
                i = end + 1
                continue
            if _IMPORT.match(line) and line.strip() not in kept:
                at = self._imports_end()
                self._add(at, at, [line])
            elif line.strip() not in kept:
                raise EditError(
                    f"the new code for {self.path} holds a statement at line {i + 1} that "
                    f"is neither a definition nor in the file: {line.strip()[:80]}",
                    path=self.path,
                    hint="a symbol edit holds only functions, classes, imports and the "
                    "exports; use a SEARCH/REPLACE block for other statements",
                )
            i += 1

    def _exports(self, statement: list[str]) -> None:
        at = self._exports_line()
        if at is None:
            end = len(self._content_lines())
            self._add(end, end, ["", *statement])
            return
        last = js_statement_end(self.lines, at)
        if [s.strip() for s in self.lines[at : last + 1]] != [s.strip() for s in statement]:
            self._add(at, last + 1, statement)

    def _exports_line(self) -> int | None:
        found = [i for i, line in enumerate(self.lines) if _EXPORTS.match(line)]
        return found[-1] if found else None

    def _imports_end(self) -> int:
        found = [i for i, line in enumerate(self.lines) if _IMPORT.match(line)]
        if found:
            return found[-1] + 1
        strict = [i for i, line in enumerate(self.lines[:5]) if "use strict" in line]
        return strict[0] + 1 if strict else 0

    def _content_lines(self) -> list[str]:
        """The file's lines without the trailing empty ones (its final newline)."""
        end = len(self.lines)
        while end and not self.lines[end - 1].strip():
            end -= 1
        return self.lines[:end]

    # -- helpers ---------------------------------------------------------------------
    @staticmethod
    def _comment_start(lines: list[str], symbol: Symbol) -> int:
        """0-based first line of the comment right above ``symbol`` (its own line if none)."""
        start = symbol.line - 1
        while start > 0 and _COMMENT.match(lines[start - 1]) and lines[start - 1].strip():
            start -= 1
        return start

    def _with_comment(self, lines: list[str], symbol: Symbol) -> list[str]:
        return lines[self._comment_start(lines, symbol) : symbol.end_line]

    def _add(self, start: int, end: int, lines: list[str]) -> None:
        self.ops.add(start, end, lines)

    def _apply(self) -> str:
        return self.newline.join(self.ops.apply(self.lines))

    def _not_found(self, why: str) -> EditError:
        names = ", ".join(list(self.symbols)[:40]) or "no symbols"
        return EditError(
            f"symbol {self.label or '?'} not found: {why}; {self.path} defines: {names}",
            path=self.path,
            hint="label the block with one of the names above, or send the whole class",
        )


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(lines: list[str], indent: str) -> list[str]:
    body = textwrap.dedent("\n".join(lines)).split("\n")
    return [indent + line if line.strip() else "" for line in body]


def js_balance_problem(text: str) -> str | None:
    """Why the brackets of JavaScript ``text`` do not balance, or None when they do.

    Strings, template literals (with their ``${...}``), comments and regular expression
    literals (a ``/`` where a value may start) are skipped. A heuristic, not a parser.
    """
    stack: list[tuple[str, int]] = []  # opener, line; "`" marks a template literal
    line, i, n = 1, 0, len(text)
    prev = ""  # the last significant character outside strings and comments
    word = ""  # the identifier or keyword that ends at ``prev``, if it is one
    while i < n:
        ch = text[i]
        if stack and stack[-1][0] == "`":  # inside a template literal
            if ch == "\\":
                i += 2
                continue
            if ch == "`":
                stack.pop()
                prev, word = "`", ""
            elif text.startswith("${", i):
                stack.append(("${", line))
                i += 1
            line += ch == "\n"
            i += 1
            continue
        if ch == "\n":
            line += 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return f"the comment opened on line {line} is never closed"
            line += text.count("\n", i, end)
            i = end + 2
            continue
        elif ch in "'\"":
            end = _string_end(text, i, ch)
            if end < 0:
                return f"the string opened on line {line} is never closed"
            i, prev, word = end + 1, ch, ""
            continue
        elif ch == "`":
            stack.append(("`", line))
        elif ch == "/" and (prev in _REGEX_BEFORE or word in _REGEX_AFTER_WORDS):
            end = _regex_end(text, i)
            if end > 0:
                i, prev, word = end + 1, "/", ""
                continue
        elif ch in "([{":
            stack.append((ch, line))
        elif ch in ")]}":
            want = "{" if ch == "}" and stack and stack[-1][0] == "${" else _PAIRS[ch]
            if not stack or stack[-1][0].lstrip("$") != want:
                return f"a '{ch}' on line {line} closes nothing that was opened"
            stack.pop()
        if not ch.isspace():
            word = word + ch if ch.isalnum() or ch in "_$" else ""
            prev = "a" if word else ch
        i += 1
    if stack:
        opener, at = stack[-1]
        what = "template literal" if opener == "`" else f"'{opener.lstrip('$')}'"
        return f"the {what} opened on line {at} is never closed"
    return None


def _string_end(text: str, start: int, quote: str) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        if text[i] == "\n":
            return -1
        i += 1
    return -1


def _regex_end(text: str, start: int) -> int:
    """The index of the ``/`` that closes the regex literal at ``start``, or -1."""
    i, in_class = start + 1, False
    while i < len(text) and text[i] != "\n":
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            return i
        i += 1
    return -1
