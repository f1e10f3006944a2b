"""Pure parsing of model output: fenced code blocks -> files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["STARTUP_HOOKS", "CodeBlock", "code_blocks", "files_from_blocks", "without_hooks"]

STARTUP_HOOKS = frozenset({"conftest.py", "sitecustomize.py", "usercustomize.py"})
"""File names Python or pytest run before any test (so could rig the run); ``*.pth`` too."""

_NAME = re.compile(r"([\w./-]+\.[A-Za-z0-9]{1,5})\b")
_FENCE = re.compile(r"^\s*```")


@dataclass(frozen=True)
class CodeBlock:
    """A fenced block and the file name the model gave it, if any."""

    path: str | None
    body: str


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced code block in ``text`` with its file name.

    The name is taken from the info string (```python solution.py), the line
    before the fence (``solution.py:``, ``**solution.py**``, ``# File: x.py``)
    or a first-line comment in the block (``# solution.py``).
    """
    lines = text.splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        if not _FENCE.match(lines[i]):
            i += 1
            continue
        info = lines[i].strip()[3:].strip()
        before = _previous_line(lines, i)
        j = i + 1
        while j < len(lines) and not _FENCE.match(lines[j]):
            j += 1
        body = lines[i + 1 : j]
        while j == len(lines) and body and set(body[-1].strip()) <= {"`"}:
            body = body[:-1]  # an answer cut off inside its closing fence: "``"
        name = _name_in(info) or _name_in(before, strict=True)
        if name is None and body:
            first = re.match(r"^\s*(?:#|//)\s*(?:file(?:name)?:)?\s*(\S+)\s*$", body[0], re.I)
            if first and _name_in(first.group(1), strict=True):
                name = _name_in(first.group(1))
                body = body[1:]
        blocks.append(CodeBlock(name, "\n".join(body).rstrip() + "\n"))
        i = j + 1
    return blocks


def files_from_blocks(blocks: list[CodeBlock], default_path: str, suffix: str) -> dict[str, str]:
    """Map blocks to files; unnamed blocks go to ``default_path`` (the longest wins).

    Blocks in another language (a shell snippet, sample output) are dropped: a
    named block must end in ``suffix``; an unnamed one must not be empty.
    """
    files: dict[str, str] = {}
    unnamed = [b for b in blocks if b.path is None and b.body.strip()]
    for block in blocks:
        if block.path is not None and block.path.endswith(suffix) and block.body.strip():
            files[block.path.lstrip("./")] = block.body
    if unnamed and default_path not in files:
        files[default_path] = max(unnamed, key=lambda b: len(b.body)).body
    return files


def without_hooks(files: dict[str, str], task: str) -> dict[str, str]:
    """``files`` less the start-up hooks (:data:`STARTUP_HOOKS`, ``*.pth``) the task does not name.

    A hook runs before the tests and in the scorer's interpreter, where it could
    rewrite results; a solution only needs one when the task asks for that file.
    """
    kept = {}
    for path, body in files.items():
        name = PurePosixPath(path).name
        hook = name in STARTUP_HOOKS or name.endswith(".pth")
        if not hook or name in task:
            kept[path] = body
    return kept


def _previous_line(lines: list[str], i: int) -> str:
    for k in range(i - 1, max(-1, i - 3), -1):
        if lines[k].strip():
            return lines[k]
    return ""


def _name_in(text: str, strict: bool = False) -> str | None:
    cleaned = text.strip().strip("*`#:\"' ").removeprefix("File").strip(": ")
    match = _NAME.search(cleaned)
    if match is None:
        return None
    name = match.group(1)
    if strict and len(cleaned) > len(name) + 24:
        return None  # a sentence that happens to mention a file, not a file label
    return name
