"""A job's changes as a git-style unified diff, and its statistics.

Pure functions: the diff is built from the snapshot's bytes and the job's new texts,
in the form ``git diff`` writes (``diff --git`` headers, new/deleted file modes, blob
ids, 3 lines of context, ``\\ No newline at end of file``), so ``git apply`` and
``patch -p1`` both take it. Changes hold text only: a binary file cannot be changed.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from codeagent.tools.errors import RepoError, SandboxError
from codeagent.tools.repo.diffs import parse_patch
from codeagent.tools.repo.snapshot import decode_text
from codeagent.tools.workspace import safe_relpath

__all__ = ["PatchStats", "check_changes", "make_patch", "patch_stats"]

_NO_EOL = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class PatchStats:
    """What a patch touches.

    Attributes:
        files: The paths it changes, sorted (a renamed file by its new name).
        added: Lines added.
        removed: Lines removed.
        bytes: Its size in UTF-8 bytes.
    """

    files: tuple[str, ...] = ()
    added: int = 0
    removed: int = 0
    bytes: int = 0


def check_changes(
    base: Mapping[str, bytes], changes: Mapping[str, str | None]
) -> dict[str, str | None]:
    """The changes that really change something, with every path checked.

    Args:
        base: The snapshot's files.
        changes: Path -> new text, or None to delete.

    Returns:
        The same changes with normalised paths, files whose text equals the base and
        deletions of files the base lacks left out.

    Raises:
        RepoError: Naming every path that escapes the repository, lies in ``.git``,
            is binary in the base, holds text that cannot be encoded, or would be a
            file where the base has a folder (or the other way round).
    """
    kept: dict[str, str | None] = {}
    problems = []
    for raw, text in changes.items():
        path, problem = _path_problem(base, raw, text)
        if problem:
            problems.append(problem)
        elif (text is None and path in base) or (
            text is not None and base.get(path) != text.encode("utf-8")
        ):
            kept[path] = text
    problems += _layout_problems(base, kept)
    if problems:
        raise RepoError(
            "the changes cannot be applied to the repository: " + "; ".join(problems),
            hint="changes hold text files inside the repository, by relative path",
        )
    return dict(sorted(kept.items()))


def make_patch(base: Mapping[str, bytes], changes: Mapping[str, str | None]) -> str:
    """A git-style unified diff turning ``base`` into ``base`` + ``changes``.

    Args:
        base: The snapshot's files (path -> bytes).
        changes: Path -> new text, or None to delete.

    Returns:
        The diff, files sorted, unchanged files left out; ``""`` when nothing changes.

    Raises:
        RepoError: As :func:`check_changes`.
    """
    todo = check_changes(base, changes)
    return "".join(_file_diff(path, base.get(path), text) for path, text in todo.items())


def patch_stats(patch: str) -> PatchStats:
    """Count the files and lines a unified diff (git-style or plain) changes."""
    diffs = parse_patch(patch)
    files = sorted({diff.paths[-1] for diff in diffs if diff.paths})  # a rename: its new name
    return PatchStats(
        tuple(files),
        sum(d.added for d in diffs),
        sum(d.removed for d in diffs),
        len(patch.encode("utf-8")),
    )


def _path_problem(base: Mapping[str, bytes], raw: str, text: str | None) -> tuple[str, str]:
    """The normalised path, and what is wrong with changing it (``""``: nothing)."""
    try:
        path = safe_relpath(raw)
    except SandboxError as exc:
        return raw, exc.message
    if ".git" in path.split("/"):
        return path, f"{path}: inside .git"
    if path in base and decode_text(base[path]) is None:
        return path, f"{path}: a binary file, which a patch of texts cannot change"
    if text is not None and _encodable(text) is None:
        return path, f"{path}: the new text is not valid Unicode"
    return path, ""


def _layout_problems(base: Mapping[str, bytes], kept: Mapping[str, str | None]) -> list[str]:
    """New files that would need a file and a folder of the same name."""
    final = {p for p in base if kept.get(p, "") is not None}
    final |= {p for p, text in kept.items() if text is not None}
    folders = {str(parent) for p in final for parent in PurePosixPath(p).parents[:-1]}
    problems = []
    for path in (p for p, text in kept.items() if text is not None and p not in base):
        if path in folders:
            problems.append(f"{path}: a folder in the repository")
        elif file := next((str(f) for f in PurePosixPath(path).parents if str(f) in final), ""):
            problems.append(f"{path}: {file} is a file in the repository")
    return problems


def _file_diff(path: str, old: bytes | None, text: str | None) -> str:
    new = None if text is None else text.encode("utf-8")
    a_name, b_name = _quote("a/" + path), _quote("b/" + path)
    out = [f"diff --git {a_name} {b_name}\n"]
    if old is None:
        out.append("new file mode 100644\n")
    elif new is None:
        out.append("deleted file mode 100644\n")
    out.append(f"index {_blob_id(old)}..{_blob_id(new)}\n")
    old_lines = _lines(old.decode("utf-8")) if old is not None else []
    new_lines = _lines(text) if text is not None else []
    if not old_lines and not new_lines:
        return "".join(out)  # an empty file created or deleted: headers only, as git writes
    tab = "\t" if " " in path else ""  # as git: lets `patch` find where a name with spaces ends
    out.append(f"--- {a_name}{tab}\n" if old is not None else "--- /dev/null\n")
    out.append(f"+++ {b_name}{tab}\n" if new is not None else "+++ /dev/null\n")
    hunks = difflib.unified_diff(old_lines, new_lines, n=3, lineterm="\n")
    for line in list(hunks)[2:]:  # difflib's own ---/+++ lines are replaced above
        out.append(line if line.endswith("\n") else line + "\n" + _NO_EOL)
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept, split on ``\\n`` only (``\\r``, U+2028 stay inside lines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _blob_id(data: bytes | None) -> str:
    if data is None:
        return "0" * 40
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _quote(name: str) -> str:
    if '"' not in name and "\\" not in name:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encodable(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text
