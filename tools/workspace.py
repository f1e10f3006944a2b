"""Workspace path helpers shared by sandboxes, nodes and the output writer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from codeagent.tools.errors import SandboxError

__all__ = ["safe_relpath", "write_tree"]


def safe_relpath(path: str) -> str:
    """Normalise a workspace-relative path, refusing anything that escapes it.

    Args:
        path: A path as written by a model or a user, e.g. ``pkg/mod.py``.

    Returns:
        The normalised POSIX relative path.

    Raises:
        SandboxError: When the path is empty, absolute or climbs out with ``..``.
    """
    text = path.strip().replace("\\", "/")
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or ".." in pure.parts or text.startswith("~"):
        raise SandboxError(
            f"path {path!r} is outside the workspace",
            hint="generated files must use relative paths such as 'solution.py'",
        )
    parts = [p for p in pure.parts if p not in ("", ".")]
    if not parts:
        raise SandboxError(f"path {path!r} names no file")
    return "/".join(parts)


def write_tree(root: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``files`` under ``root`` (created if needed) and return the paths written."""
    written = []
    for rel, text in files.items():
        target = root / safe_relpath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
