"""Workspace path helpers shared by sandboxes, nodes and the output writer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from codeagent.tools.errors import SandboxError

__all__ = ["MAX_NAME_BYTES", "MAX_PATH_BYTES", "safe_relpath", "write_tree"]

MAX_PATH_BYTES = 1024
"""Longest workspace-relative path accepted (UTF-8 bytes); Linux allows 4096."""
MAX_NAME_BYTES = 255
"""Longest single file or directory name (UTF-8 bytes), as on every common filesystem."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME_HINT = "file names must be short, printable relative paths such as 'pkg/solution.py'"


def safe_relpath(path: str) -> str:
    """Normalise a workspace-relative path, refusing anything that escapes it.

    Args:
        path: A path as written by a model or a user, e.g. ``pkg/mod.py``.

    Returns:
        The normalised POSIX relative path.

    Raises:
        SandboxError: When the path is empty, absolute, climbs out with ``..``, holds
            NUL or control characters, or is absurdly long (:data:`MAX_PATH_BYTES`,
            :data:`MAX_NAME_BYTES`): every backend refuses such names the same way.
    """
    _check_name(path)
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


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` under ``root`` (created if needed) and return the paths written.

    ``bytes`` are written as they are, ``str`` as UTF-8.

    Raises:
        SandboxError: For a name :func:`safe_relpath` refuses, or a file that cannot be
            written (a name taken by a directory, a full disk).
    """
    written = []
    for rel, text in files.items():
        target = root / safe_relpath(rel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                target.write_bytes(text)
            else:
                target.write_text(text, encoding="utf-8")
        except (OSError, ValueError) as exc:  # ValueError: text with lone surrogates
            raise SandboxError(
                f"cannot write {rel[:80]!r}: {getattr(exc, 'strerror', None) or exc}",
                hint=_NAME_HINT,
            ) from exc
        written.append(target)
    return written


def _check_name(path: str) -> None:
    shown = repr(path[:60]) + ("..." if len(path) > 60 else "")
    if _CONTROL.search(path):
        raise SandboxError(f"path {shown} holds NUL or control characters", hint=_NAME_HINT)
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise SandboxError(f"path {shown} is not valid text", hint=_NAME_HINT) from None
    if len(encoded) > MAX_PATH_BYTES:
        raise SandboxError(f"path {shown} is {len(encoded)} bytes long", hint=_NAME_HINT)
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.split("/")):
        raise SandboxError(f"path {shown} has a name over {MAX_NAME_BYTES} bytes", hint=_NAME_HINT)
