"""Apply one SEARCH/REPLACE edit to a file's text (pure), the way aider does.

The SEARCH text must occur exactly once. When it occurs nowhere, a second pass
compares lines with their leading and trailing whitespace ignored (blank lines around
the SEARCH text dropped) and, when that matches exactly one place, replaces those lines,
shifting REPLACE by the indentation difference. Failures say what the file holds
instead: the closest lines (``difflib``), or every line where an ambiguous SEARCH starts.
"""

from __future__ import annotations

import difflib

from codeagent.tools.repo.edit_types import EditError

__all__ = ["newline_of", "replace_once", "with_newline"]

_SHOWN_LINES = 12
_RATIO_CANDIDATES = 25


def newline_of(text: str) -> str:
    """The line ending most lines of ``text`` use: ``"\\r\\n"`` or ``"\\n"``."""
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def with_newline(text: str, newline: str) -> str:
    """``text`` with every line ending turned into ``newline``."""
    text = text.replace("\r\n", "\n")
    return text.replace("\n", newline) if newline != "\n" else text


def replace_once(path: str, text: str, search: str, replace: str) -> str:
    """``text`` with the one occurrence of ``search`` replaced by ``replace``.

    An empty (or blank) ``search`` appends ``replace`` to the file. Line endings of
    ``search`` and ``replace`` are converted to the file's own.

    Raises:
        EditError: ``search`` occurs nowhere (the message shows the closest lines) or
            more than once (the message says how often and where).
    """
    newline = newline_of(text)
    search, replace = with_newline(search, newline), with_newline(replace, newline)
    if not search.strip():
        if text and not text.endswith(("\n", "\r")):
            text += newline
        return text + replace
    count = text.count(search)
    if count == 1:
        return text.replace(search, replace, 1)
    if count > 1:
        starts = _exact_starts(text, search)
        raise _ambiguous(path, count, starts)
    return _replace_loose(path, text, search, replace, newline)


def _exact_starts(text: str, search: str) -> list[int]:
    starts, at = [], text.find(search)
    while at != -1:
        starts.append(text.count("\n", 0, at) + 1)
        at = text.find(search, at + 1)
    return starts


def _ambiguous(path: str, count: int, lines: list[int]) -> EditError:
    where = ", ".join(str(n) for n in lines[:10])
    return EditError(
        f"the SEARCH text occurs {count} times in {path} (starting at lines {where}); "
        "it must match exactly one place",
        path=path,
        hint="add a few more unchanged lines around the change to SEARCH (and REPLACE) "
        "so that it matches only the place you mean",
    )


def _replace_loose(path: str, text: str, search: str, replace: str, newline: str) -> str:
    lines = text.splitlines(keepends=True)
    wanted = search.splitlines()
    lead = _blank_run(wanted)
    trail = _blank_run(wanted[::-1])
    key = [line.strip() for line in wanted[lead : len(wanted) - trail]]
    size = len(key)
    found = [
        i
        for i in range(len(lines) - size + 1)
        if all(lines[i + j].strip() == key[j] for j in range(size))
    ]
    if len(found) > 1:
        raise _ambiguous(path, len(found), [i + 1 for i in found])
    if not found:
        raise _not_found(path, lines, key)
    start = found[0]
    shift = (_indent(wanted[lead]), _indent(lines[start]))
    new = replace.splitlines()
    new = new[min(lead, _blank_run(new)) :]
    if trail:
        new = new[: len(new) - min(trail, _blank_run(new[::-1]))]
    ending = lines[start + size - 1][len(lines[start + size - 1].rstrip("\r\n")) :]
    out = [_reindent(line, *shift) + newline for line in new]
    if out and not ending:
        out[-1] = out[-1][: -len(newline)]  # the matched lines ended the file unterminated
    return "".join([*lines[:start], *out, *lines[start + size :]])


def _blank_run(lines: list[str]) -> int:
    count = 0
    while count < len(lines) and not lines[count].strip():
        count += 1
    return count


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _reindent(line: str, written: str, actual: str) -> str:
    """``line`` moved from the indentation the model wrote to the one the file has."""
    if not line.strip() or written == actual:
        return line
    if actual.startswith(written):
        return actual[len(written) :] + line
    if written.startswith(actual):
        extra = written[len(actual) :]
        return line[len(extra) :] if line.startswith(extra) else line.lstrip(" \t")
    return line


def _not_found(path: str, lines: list[str], key: list[str]) -> EditError:
    start, size = _closest(lines, key)
    shown = [
        f"{n + 1:>5} | {lines[n].rstrip(chr(13) + chr(10))}"
        for n in range(start, min(start + size, start + _SHOWN_LINES, len(lines)))
    ]
    closest = (
        f"; the closest lines in the file are {start + 1}-{start + len(shown)}:\n"
        + "\n".join(shown)
        if shown
        else f"; {path} is empty"
    )
    return EditError(
        f"the SEARCH text was not found in {path}{closest}",
        path=path,
        hint="copy the lines to change exactly as the file has them (the closest lines "
        "are shown with their line numbers, which are not part of the file)",
    )


def _closest(lines: list[str], key: list[str]) -> tuple[int, int]:
    """``(start, size)`` of the window of ``lines`` most like ``key`` (whitespace-stripped)."""
    stripped = [line.strip() for line in lines]
    size = max(1, min(len(key), len(lines)))
    target = "\n".join(key)
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    scored = []
    for i in range(max(1, len(lines) - size + 1)):
        matcher.set_seq1("\n".join(stripped[i : i + size]))
        scored.append((matcher.quick_ratio(), -i))
    best = sorted(scored, reverse=True)[:_RATIO_CANDIDATES]
    ranked = []
    for _, neg in best:
        matcher.set_seq1("\n".join(stripped[-neg : -neg + size]))
        ranked.append((matcher.ratio(), neg))
    _, neg = max(ranked) if ranked else (0.0, 0)
    return -neg, size
