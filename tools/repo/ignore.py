"""``.gitignore`` rules for a directory that is not a git work tree, and the walk that obeys them.

The same semantics as git for what users write: comments, blank lines, ``!`` negation
(last match wins, a deeper ``.gitignore`` overrides a shallower one), ``*`` / ``?`` /
``[...]`` within one name, ``**`` across directories, a trailing ``/`` for
directories only, and a leading or middle ``/`` anchoring the pattern to the
``.gitignore``'s own directory. An ignored directory is not entered, so (as in git)
nothing below it can be re-included. ``.git`` is always skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IgnoreRule", "is_ignored", "parse_gitignore", "walk_files"]


@dataclass(frozen=True)
class IgnoreRule:
    """One pattern line of a ``.gitignore``.

    Attributes:
        base: The directory of the ``.gitignore``, relative to the walk's root
            (``""`` at the root, else ``"sub/dir/"``).
        regex: The pattern, compiled to match a path relative to ``base``.
        negated: ``!pattern``: a match re-includes.
        dir_only: ``pattern/``: only directories match.
    """

    base: str
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def parse_gitignore(text: str, base: str = "") -> list[IgnoreRule]:
    """The rules of one ``.gitignore`` file, in order.

    Args:
        text: The file's content.
        base: Its directory relative to the walk's root, ``""`` or ending in ``/``.
    """
    rules = []
    for raw in text.splitlines():
        line = _strip_trailing_spaces(raw)
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):  # "\#": a name that starts with #
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        pattern = body if anchored else f"(?:.*/)?{body}"
        rules.append(IgnoreRule(base, re.compile(pattern, re.DOTALL), negated, dir_only))
    return rules


def is_ignored(path: str, is_dir: bool, rules: list[IgnoreRule]) -> bool:
    """Whether ``path`` (relative to the walk's root) is ignored: the last matching rule decides."""
    ignored = False
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if not path.startswith(rule.base):
            continue
        if rule.regex.fullmatch(path[len(rule.base) :]):
            ignored = not rule.negated
    return ignored


def walk_files(root: Path) -> Iterator[str]:
    """Every non-directory entry under ``root`` that no ``.gitignore`` excludes, as POSIX paths.

    Yields files, symbolic links (never followed, also to directories) and other
    non-directory entries in sorted order; unreadable directories are passed over.
    """
    yield from _walk(root, "", [])


def _walk(root: Path, rel_dir: str, inherited: list[IgnoreRule]) -> Iterator[str]:
    here = root / rel_dir if rel_dir else root
    try:
        entries = sorted(os.scandir(here), key=lambda e: e.name)
    except OSError:
        return
    rules = inherited + _rules_in(here, rel_dir)
    for entry in entries:
        if entry.name == ".git":
            continue
        rel = rel_dir + entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_ignored(rel, is_dir, rules):
            continue
        if is_dir:
            yield from _walk(root, rel + "/", rules)
        else:
            yield rel


def _rules_in(directory: Path, rel_dir: str) -> list[IgnoreRule]:
    try:
        text = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_gitignore(text, rel_dir)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "  # "foo\ " keeps one escaped space
    return stripped


def _translate(pattern: str) -> str:
    """A glob with ``/`` separators as a regular expression (``**`` spans directories)."""
    segments = pattern.split("/")
    out = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:.*/)?")
            continue
        out.append(_translate_segment(segment))
        if not last:
            out.append("/")
    return "".join(out)


def _translate_segment(segment: str) -> str:
    out, i = [], 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        elif char == "[":
            end = _class_end(segment, i)
            if end < 0:
                out.append(re.escape(char))
            else:
                out.append(_char_class(segment[i + 1 : end]))
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _class_end(segment: str, start: int) -> int:
    i = start + 1
    if i < len(segment) and segment[i] in "!^":
        i += 1
    if i < len(segment) and segment[i] == "]":
        i += 1
    end = segment.find("]", i)
    return end


def _char_class(body: str) -> str:
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    escaped = body.replace("\\", "\\\\").replace("[", "\\[")
    if escaped.startswith("]"):
        escaped = "\\" + escaped
    return f"[^/{escaped}]" if negated else f"(?!/)[{escaped}]"
