"""Unified diffs as data: split into per-file sections, filter by path (pure).

A patch is what ``git diff`` writes (``diff --git a/x b/x`` headers) or a plain
unified diff (``--- a/x`` / ``+++ b/x``); both are read. Hunk headers are followed
by their line counts, so a removed line that happens to start with ``-- `` is never
taken for a file header.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FileDiff", "added_lines", "filter_patch", "parse_patch", "patch_paths"]

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_NEW_START = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)")
_GIT_HEADER = re.compile(r'^diff --git ("?)a/(.+?)\1 ("?)b/(.+?)\3$')
_RENAME = re.compile(r"^(?:rename|copy) (?:from|to) (.+)$")


@dataclass(frozen=True)
class FileDiff:
    """One file's part of a patch.

    Attributes:
        paths: The paths it names (old and new; one when they are the same), no
            ``a/`` / ``b/`` prefix and no ``/dev/null``.
        text: The section, header included, ending in a newline.
        added: Lines it adds.
        removed: Lines it removes.
    """

    paths: tuple[str, ...]
    text: str
    added: int
    removed: int


def parse_patch(patch: str) -> list[FileDiff]:
    """The per-file sections of ``patch``, in order (text before the first is dropped)."""
    sections: list[list[str]] = []
    lines = patch.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git ") or _plain_header(lines, i, sections):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
            match = _HUNK.match(line)
            if match:  # copy the hunk body whole: its lines are never headers
                body = _hunk_length(lines, i + 1, match)
                sections[-1].extend(lines[i + 1 : i + 1 + body])
                i += body
        i += 1
    return [_file_diff(section) for section in sections]


def added_lines(patch: str) -> dict[str, set[int]]:
    """The line numbers the added lines of ``patch`` have in each new file (a renamed
    file under its new path; a deleted file has none)."""
    out: dict[str, set[int]] = {}
    for diff in parse_patch(patch):
        lines = diff.text.splitlines(keepends=True)
        for i, header in enumerate(lines):
            match = _HUNK.match(header)
            start = _NEW_START.match(header)
            if match is None or start is None:
                continue
            number = int(start.group(1))
            for line in lines[i + 1 : i + 1 + _hunk_length(lines, i + 1, match)]:
                if line.startswith("+"):
                    out.setdefault(diff.paths[-1], set()).add(number)
                if line[:1] in ("+", " ", "\n", "\r", ""):
                    number += 1
    return out


def patch_paths(patch: str) -> list[str]:
    """Every path ``patch`` touches (old and new names of a rename), in order, once each."""
    seen: dict[str, None] = {}
    for diff in parse_patch(patch):
        seen.update(dict.fromkeys(diff.paths))
    return list(seen)


def filter_patch(patch: str, keep: Callable[[str], bool]) -> tuple[str, list[str]]:
    """The sections of ``patch`` whose every path passes ``keep``, and the paths dropped.

    Returns:
        The kept sections joined (``""`` when none), and the paths of the dropped ones.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for diff in parse_patch(patch):
        if all(keep(path) for path in diff.paths):
            kept.append(diff.text)
        else:
            dropped.extend(p for p in diff.paths if p not in dropped)
    return "".join(kept), dropped


def _plain_header(lines: list[str], i: int, sections: list[list[str]]) -> bool:
    """A ``--- x`` / ``+++ y`` pair that starts a section of a patch without git headers."""
    if not (lines[i].startswith("--- ") and i + 1 < len(lines)):
        return False
    if not lines[i + 1].startswith("+++ "):
        return False
    # in a git section the pair belongs to the section's own header
    return not (sections and sections[-1][0].startswith("diff --git ") and not _has_hunk(sections))


def _has_hunk(sections: list[list[str]]) -> bool:
    return any(_HUNK.match(line) for line in sections[-1])


def _hunk_length(lines: list[str], start: int, match: re.Match[str]) -> int:
    """How many lines after a hunk header belong to the hunk."""
    old = int(match.group(1)) if match.group(1) is not None else 1
    new = int(match.group(2)) if match.group(2) is not None else 1
    count = 0
    while start + count < len(lines) and (old > 0 or new > 0):
        line = lines[start + count]
        kind = line[:1]
        if kind == "-":
            old -= 1
        elif kind == "+":
            new -= 1
        elif kind in (" ", "\n", "\r", ""):
            old, new = old - 1, new - 1
        elif kind != "\\":  # anything else ends a hunk whose counts were wrong
            break
        count += 1
    while start + count < len(lines) and lines[start + count].startswith("\\"):
        count += 1  # "\ No newline at end of file"
    return count


def _file_diff(section: list[str]) -> FileDiff:
    paths: list[str] = []
    added = removed = 0
    in_hunk = False
    for line in section:
        if _HUNK.match(line):
            in_hunk = True
        elif in_hunk and line.startswith("+"):
            added += 1
        elif in_hunk and line.startswith("-"):
            removed += 1
        elif not in_hunk:
            paths.extend(_header_paths(line))
    text = "".join(section)
    unique = tuple(dict.fromkeys(p for p in paths if p))
    return FileDiff(unique, text if text.endswith("\n") else text + "\n", added, removed)


def _header_paths(line: str) -> list[str]:
    line = line.rstrip("\n").rstrip("\r")
    if match := _GIT_HEADER.match(line):
        return [_unquote(match.group(2)), _unquote(match.group(4))]
    if line.startswith(("--- ", "+++ ")):
        name = line[4:].split("\t", 1)[0].strip().strip('"')
        if name == "/dev/null":
            return []
        return [_unquote(name[2:] if name.startswith(("a/", "b/")) else name)]
    if match := _RENAME.match(line):
        return [_unquote(match.group(1).strip('"'))]
    return []


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual names (``\\t``, ``\\"``, octal bytes)."""
    if "\\" not in path:
        return path
    raw = path.encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")
