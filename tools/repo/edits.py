"""Edits a small model gets right: three formats, a strict parser, an all-or-nothing applier.

Pure: the repo is a ``Mapping`` of repo-relative path -> text; nothing is read or
written. A model answers in one of :data:`EDIT_FORMATS` (the prompt carries
:func:`format_instructions`); :func:`parse_edits` reads the answer into edits;
:func:`apply_edits` computes the new text of every changed file in memory, or raises
:class:`EditError` (whose message is meant for the model when it is asked again) with
nothing applied.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from codeagent.tools.repo.edit_types import (
    Edit,
    EditError,
    SearchReplace,
    SymbolEdit,
    WholeFile,
    repo_path,
)
from codeagent.tools.repo.paths import looks_like_path
from codeagent.tools.repo.repomap import is_test_file
from codeagent.tools.repo.search_replace import newline_of, replace_once, with_newline
from codeagent.tools.repo.splice import splice_symbols
from codeagent.tools.repo.splice_js import js_balance_problem, splice_js_symbols
from codeagent.tools.repo.symbols import JS_SUFFIXES, file_symbols, parse_python

__all__ = [
    "EDIT_FORMATS",
    "Edit",
    "EditError",
    "SearchReplace",
    "SymbolEdit",
    "WholeFile",
    "apply_edits",
    "code_blocks",
    "format_instructions",
    "parse_edits",
]

EDIT_FORMATS = ("whole", "symbol", "search_replace")
"""The edit formats, by name."""

_GREET, _CART = "src/greet.py", "src/shop/cart.py"  # the examples' made-up paths
_EXAMPLE_PATHS = frozenset({_GREET, _CART})
"""The made-up paths of the instructions' examples (small models copy them)."""

_INSTRUCTIONS = {
    "whole": (
        "To change a file, write its path alone on one line, then the complete new file "
        "in a fenced code block. The block replaces the whole file, so leave nothing "
        "out. A new path creates a new file.\n\n"
        f"{_GREET}\n```python\n"
        'def greet(name):\n    return f"Hello, {name}!"\n```'
    ),
    "symbol": (
        "To change a function, method or class, write `path::Name` (a method: "
        "`path::Class.method`) alone on one line, then its complete new version in a "
        "fenced code block. Only the definitions in the block change; the rest of the "
        "file stays as it is. A definition the file does not have yet is added. A new "
        "test file is written as `path` alone on one line, then the whole file.\n\n"
        f"{_CART}::Cart.total\n```python\ndef total(self):\n"
        "    return sum(item.price for item in self.items)\n```"
    ),
    "search_replace": (
        "To change a file, write its path alone on one line, then a fenced code block "
        "with one or more SEARCH/REPLACE blocks. SEARCH copies the current lines exactly, "
        "indentation included, and must match one place in the file; REPLACE holds the "
        "new lines. To create a file, leave SEARCH empty.\n\n"
        f"{_CART}\n```python\n<<<<<<< SEARCH\n    return sum(self.prices)\n"
        "=======\n    return sum(self.prices) * (1 + self.tax)\n>>>>>>> REPLACE\n```"
    ),
}

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(.*?)[ \t]*$")
_PLACEHOLDER = re.compile(r"[\w./-]*::([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)")  # path::Cart.total
_OPENING = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*[A-Za-z][\w+.-]*[ \t]*$")  # ```python
_LABEL = re.compile(r"[\w.\-/]+(?:::[A-Za-z_][\w.]*)?")
_MARKS = re.compile(r"^(?:#+|//+|--|\*+|-|>)[ \t]*")
_KEYWORD = re.compile(r"^(?:file|path|filename)[ \t]*:[ \t]*", re.IGNORECASE)
_SEARCH = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")


def format_instructions(fmt: str) -> str:
    """The instruction text and one tiny example for ``fmt``, to put in a prompt.

    Raises:
        EditError: ``fmt`` is not one of :data:`EDIT_FORMATS`.
    """
    _check_format(fmt)
    return _INSTRUCTIONS[fmt]


def _check_format(fmt: str) -> None:
    if fmt not in EDIT_FORMATS:
        raise EditError(
            f"unknown edit format {fmt!r}",
            hint=f"choose one of {', '.join(EDIT_FORMATS)}",
        )


@dataclass(frozen=True)
class _Block:
    """One fenced code block of a model's answer."""

    number: int  # 1-based, in the answer
    line: int  # 1-based line of the opening fence
    info: str
    body: list[str]
    before: list[str]  # the non-blank lines just above the fence, nearest first (<= 3)
    fence: str = "```"


def parse_edits(text: str, fmt: str, files: Mapping[str, str] | None = None) -> list[Edit]:
    """The edits a model's answer ``text`` holds, written in format ``fmt``.

    ``whole``: a path line then a fenced block (also ```` ```python path ```` and a
    first line ``# path`` / ``// path`` inside the block). ``symbol``: a fenced block
    labelled ``path`` or ``path::Symbol`` the same ways. ``search_replace``: a path line,
    then (usually fenced) ``<<<<<<< SEARCH`` / ``=======`` / ``>>>>>>> REPLACE`` blocks.

    With ``files`` (the repository), a ``symbol`` block without a file name goes to the
    one file that defines the functions and classes it holds (small models often leave
    the name out).

    Raises:
        EditError: Unknown format, no edits found, a code block that is never closed, a
            block without a file name (that ``files`` cannot place), a malformed
            SEARCH/REPLACE block.
    """
    _check_format(fmt)
    if fmt == "search_replace":
        return _parse_search_replace(text)
    edits: list[Edit] = []
    for block in _blocks(text):
        try:
            label, body = _block_label(block)
        except EditError:
            found = _symbol_label(block, files) if fmt == "symbol" and files else None
            if found is None:
                raise
            label, body = found
        path, _, symbol = label.partition("::")
        code = "".join(line + "\n" for line in body)
        edits.append(WholeFile(path, code) if fmt == "whole" else SymbolEdit(path, code, symbol))
    if not edits:
        raise EditError(
            "the answer holds no fenced code block, so no file was changed",
            hint=format_instructions(fmt),
        )
    return edits


def code_blocks(text: str) -> list[str]:
    """The code of each fenced block of ``text``, in order, without a label on its first
    line (``# src/a.py``, ``src/a.py::f``) or a fence opened again inside it.

    Raises:
        EditError: A code block that is never closed (it may be cut short).
    """
    out = []
    for block in _blocks(text):
        body = block.body
        if body and _first_line_label(_MARKS.sub("", body[0].strip()).split(" (")[0]):
            body = body[1:]
        body = _past_reopened(body, block.fence)
        out.append("".join(line + "\n" for line in body))
    return out


def _blocks(text: str) -> list[_Block]:
    lines = text.splitlines()
    blocks: list[_Block] = []
    i, free = 0, 0  # free: first line not inside an earlier block
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        fence = opened.group(1)
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), None)
        if end is None:
            raise EditError(
                f"the code block opened at line {i + 1} is never closed, so it may be cut "
                "short; no file was changed",
                hint=f"end every code block with {fence} on a line of its own",
            )
        above = [line for line in lines[free:i] if line.strip()][-3:][::-1]
        number, info, body = len(blocks) + 1, opened.group(2), lines[i + 1 : end]
        blocks.append(_Block(number, i + 1, info, body, above, fence))
        i = free = end + 1
    return blocks


def _block_label(block: _Block) -> tuple[str, list[str]]:
    """The block's ``path`` / ``path::Symbol`` and its body without a label comment."""
    label = _info_label(block.info)
    for n, line in enumerate(block.before):
        # the line right above may be prose naming the file; farther up, a path line only
        label = label or _line_label(line, strict=n > 0)
    first = _first_line_label(block.body[0]) if block.body else None
    body = block.body
    if first and (label is None or first == label or first == label.split("::")[0]):
        label, body = label or first, body[1:]
    # a fence opened again inside the block (```python, then the label, then ```python
    # once more: small models do this) is not code; a shorter fence inside a longer one
    # (a Markdown file's own ``` in a ```` block) is
    body = _past_reopened(body, block.fence)
    if label is None:
        start = next((line.strip() for line in block.body if line.strip()), "")
        raise EditError(
            f"code block {block.number} (line {block.line}, starting {start[:60]!r}) has no "
            "file name, so it is not clear which file it changes; no file was changed",
            hint="write the file's path alone on the line before the opening ```",
        )
    return label, body


def _symbol_label(block: _Block, files: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """A label for a block without a file name, from the repository: ``X::Name`` where X
    is no path (``path::Invoice.to_dict``, the instructions' placeholder copied) names the
    one non-test file defining ``Invoice``; else the one file defining what the block holds.
    """
    body = block.body
    places = [(token, False) for token in block.info.split()]
    places += [(line, False) for line in block.before[:1]] + [(line, True) for line in body[:1]]
    for text, in_body in places:
        label = _placeholder_label(_MARKS.sub("", text.strip()).strip("*`'\" :"), files)
        if label:
            return label, _past_reopened(body[1:] if in_body else body, block.fence)
    inferred = _inferred_label(block, files)
    return None if inferred is None else (inferred, _past_reopened(body, block.fence))


def _placeholder_label(text: str, files: Mapping[str, str]) -> str | None:
    """``X::...`` with X no path, read against the repository: ``path::src/a.py::f`` is
    ``src/a.py::f``; ``path::Cart.total`` names the one file defining ``Cart``;
    ``path::dates.parse_due`` the one module ``dates`` defining ``parse_due``."""
    head, sep, rest = text.partition("::")
    if not sep or _is_label(head) or not rest:
        return None
    if _is_label(rest) and "/" in rest.split("::")[0]:
        return rest
    named = _PLACEHOLDER.fullmatch(text)
    if named is None:
        return None
    symbol = named.group(1)
    first, _, inner = symbol.partition(".")
    path = _defining_file(first, files)
    if path:
        return f"{path}::{symbol}"
    module = _defining_file(inner, files, stem=first) if inner else None
    return f"{module}::{inner}" if module else None


def _defining_file(name: str, files: Mapping[str, str], stem: str | None = None) -> str | None:
    """The one non-test source file with a top-level ``name`` (and, given ``stem``, named
    ``stem``), or None: none, or several."""
    found = [
        path
        for path, text in files.items()
        if path.endswith((".py", *JS_SUFFIXES))
        and not is_test_file(path)
        and (stem is None or path.rsplit("/", 1)[-1].rsplit(".", 1)[0] == stem)
        and any(s.name == name for s in file_symbols(path, text))
    ]
    return found[0] if len(found) == 1 else None


def _inferred_label(block: _Block, files: Mapping[str, str]) -> str | None:
    """For a block with no file name: the one file defining (most of) the symbols in it."""
    code = "\n".join(block.body) + "\n"
    suffixes = (".py",) if parse_python(code) is not None else JS_SUFFIXES
    names = {s.name for s in file_symbols("code" + suffixes[0], code) if "." not in s.name}
    if not names:
        return None
    hits: dict[str, int] = {}
    for path, text in files.items():
        if path.endswith(suffixes) and not is_test_file(path):
            defined = {s.name.rsplit(".", 1)[-1] for s in file_symbols(path, text)}
            if count := len(names & defined):
                hits[path] = count
    best = [p for p, n in hits.items() if n == max(hits.values(), default=0)]
    return best[0] if len(best) == 1 else None


def _is_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None and looks_like_path(text)


def _info_label(info: str) -> str | None:
    for token in info.replace("{", " ").replace("}", " ").split():
        token = token.strip("`'\",")
        if token.lower().startswith(("title=", "file=", "path=")):
            token = token.split("=", 1)[1].strip("'\"")
        if _is_label(token):
            return token
    return None


def _line_label(line: str, *, strict: bool) -> str | None:
    """A path label written alone on ``line`` (marks, quotes and a trailing colon allowed);
    unless ``strict``, also one in backticks or as the line's last word."""
    text = _KEYWORD.sub("", _MARKS.sub("", line.strip())).strip("*`'\" ").rstrip(":")
    text = text.strip("*`'\" ")
    if _is_label(text):
        return text
    if strict:
        return None
    for inner in re.findall(r"`([^`]+)`", line):
        if _is_label(inner.strip()):
            return inner.strip()
    words = text.split()
    last = words[-1].strip("*`'\":") if words else ""
    return last if words and _is_label(last) else None


def _past_reopened(body: list[str], fence: str) -> list[str]:
    """``body`` without leading lines that open a fence at least as long as the block's
    own (``fence``): ```python written again inside the block is not code."""
    while body and (inner := _OPENING.match(body[0])):
        if inner.group(1)[0] != fence[0] or len(inner.group(1)) < len(fence):
            break
        body = body[1:]
    return body


def _first_line_label(line: str) -> str | None:
    """A label on a block's first line: ``# path``, ``// path``, or the label alone (no
    code line reads ``src/shop/cart.py::Cart.total``)."""
    found = re.fullmatch(r"[ \t]*(?:(?:#|//)[ \t]*)?(\S+)[ \t]*", line)
    return found.group(1) if found and _is_label(found.group(1)) else None


def _parse_search_replace(text: str) -> list[Edit]:
    lines = text.splitlines()
    edits: list[Edit] = []
    path: str | None = None
    i = 0
    while i < len(lines):
        if _SEARCH.match(lines[i]):
            if path is None:
                raise EditError(
                    f"the SEARCH/REPLACE block at line {i + 1} has no file name before it; "
                    "no file was changed",
                    hint="write the file's path alone on the line before the opening ```",
                )
            edit, i = _search_block(lines, i, path)
            edits.append(edit)
            continue
        fenced = _FENCE.match(lines[i])
        label = _info_label(fenced.group(2)) if fenced else _line_label(lines[i], strict=True)
        path = label.split("::")[0] if label else path
        i += 1
    if not edits:
        raise EditError(
            "the answer holds no SEARCH/REPLACE block, so no file was changed",
            hint=format_instructions("search_replace"),
        )
    return edits


def _search_block(lines: list[str], start: int, path: str) -> tuple[SearchReplace, int]:
    """The block whose ``<<<<<<< SEARCH`` is at ``start``, and the line after it."""
    parts: list[list[str]] = [[], []]
    part = 0
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if _SEARCH.match(line):
            break
        if part == 0 and _DIVIDER.match(line):
            part = 1
        elif part == 1 and _REPLACE.match(line):
            search, replace = ("".join(x + "\n" for x in p) for p in parts)
            return SearchReplace(path, search, replace), i + 1
        elif _REPLACE.match(line):
            break
        else:
            parts[part].append(line)
    missing = "=======" if part == 0 else ">>>>>>> REPLACE"
    raise EditError(
        f"the SEARCH/REPLACE block for {path} at line {start + 1} has no {missing} line; "
        "no file was changed",
        path=path,
        hint="write each block as <<<<<<< SEARCH, the old lines, =======, the new lines, "
        ">>>>>>> REPLACE",
    )


def apply_edits(
    files: Mapping[str, str], edits: Sequence[Edit], *, task: str = ""
) -> dict[str, str]:
    """The new full text of every file ``edits`` change (only those), computed in memory.

    An instructions' example path the repository lacks is refused unless ``task`` (the
    user's request) names it: then creating it is what was asked for.

    Edits apply in order, so several may change one file. Python files must still parse
    afterwards (unless they did not parse before). ``files`` is never modified.

    Raises:
        EditError: Any edit fails: a path outside the repo or in ``.git/``, the
            instructions' example path (a file the repository lacks), SEARCH text
            found nowhere or more than once, an unknown symbol, a symbol edit on a missing
            file, Python that no longer parses. Nothing is applied.
    """
    current: dict[str, str] = {}
    for edit in edits:
        path = repo_path(edit.path)
        if path in _EXAMPLE_PATHS and path not in files and path not in task:
            raise EditError(
                f"{path} is the made-up example of the instructions, not a file of this "
                "repository; no file was changed",
                path=path,
                hint="write the path of the repository's file you change, as the prompt shows it",
            )
        old = current[path] if path in current else files.get(path)
        current[path] = _apply_one(path, old, edit, files)
    changed = {path: text for path, text in current.items() if files.get(path) != text}
    for path, text in changed.items():
        _check_parses(path, files.get(path), text)
    return changed


def _apply_one(path: str, old: str | None, edit: Edit, files: Mapping[str, str]) -> str:
    if isinstance(edit, WholeFile):
        if old and (lost := _lost_definitions(path, old, edit.text)):
            shown = ", ".join(lost[:8]) + (f" and {len(lost) - 8} more" if len(lost) > 8 else "")
            raise EditError(
                f"the new {path} leaves out {shown}, which the file defines now; a whole-file"
                " edit replaces the file, so none was changed",
                path=path,
                hint="write the complete file, every definition kept (change only what the"
                " task needs)",
            )
        return with_newline(edit.text, newline_of(old)) if old else edit.text
    if isinstance(edit, SymbolEdit):
        if old is None and is_test_file(path):  # a new test file: the block is the file
            return edit.code
        if old is not None and path.endswith(JS_SUFFIXES):
            return splice_js_symbols(path, old, edit.code, edit.symbol)
        return splice_symbols(path, old, edit.code, edit.symbol)
    if old is None:
        if edit.search.strip():
            raise EditError(
                f"{path} does not exist, so its SEARCH text cannot be found"
                + _similar_paths(path, files),
                path=path,
                hint="to create a new file, leave SEARCH empty and put its content in REPLACE",
            )
        return edit.replace
    return replace_once(path, old, edit.search, edit.replace)


def _lost_definitions(path: str, old: str, new: str) -> list[str]:
    """The functions, classes and methods ``old`` defines that ``new`` does not (none when
    ``new`` is Python that does not parse: the parse check says why then)."""
    if path.endswith((".py", ".pyi")) and parse_python(new) is None:
        return []
    kept = {s.name for s in file_symbols(path, new)}
    return [s.name for s in file_symbols(path, old) if s.name not in kept]


def _similar_paths(path: str, files: Mapping[str, str]) -> str:
    name = path.rsplit("/", 1)[-1]
    alike = [f for f in sorted(files) if f.rsplit("/", 1)[-1] == name]
    alike += [f for f in difflib.get_close_matches(path, sorted(files), n=3) if f not in alike]
    return f"; files with similar names: {', '.join(alike[:5])}" if alike else ""


def _check_parses(path: str, before: str | None, after: str) -> None:
    """Refuse Python that no longer compiles (parsing alone misses a misplaced
    ``from __future__`` import or ``await`` outside ``async def``) and JavaScript whose
    brackets no longer balance; nothing runs."""
    if path.endswith(JS_SUFFIXES):
        problem = js_balance_problem(after)
        if problem and (before is None or js_balance_problem(before) is None):
            raise EditError(
                f"{path} would no longer be valid after the edit: {problem}; no file was changed",
                path=path,
                hint="check the brackets and quotes of the new code",
            )
        return
    if not path.endswith((".py", ".pyi")) or _compile_error(after) is None:
        return
    if before is not None and _compile_error(before) is not None:
        return  # it was broken before: not this edit's doing
    exc = _compile_error(after)
    lines = after.splitlines()
    line = getattr(exc, "lineno", None)
    shown = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
    where = f"line {line}: " if line else ""
    reason = getattr(exc, "msg", None) or str(exc)
    raise EditError(
        f"{path} would no longer parse after the edit: {where}{reason}"
        + (f": {shown}" if shown else "")
        + "; no file was changed",
        path=path,
        hint="check the indentation and the brackets of the new code",
    )


def _compile_error(text: str) -> Exception | None:
    try:
        compile(text, "<edit>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return exc
    return None
