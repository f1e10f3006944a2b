"""The edits a model may write against a repo, and the one error they raise (pure data).

Kept apart from :mod:`codeagent.tools.repo.edits` so the parsers and the appliers
(:mod:`~codeagent.tools.repo.splice`) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from codeagent.tools.errors import CodeAgentError, SandboxError
from codeagent.tools.workspace import safe_relpath

__all__ = ["Edit", "EditError", "SearchReplace", "SymbolEdit", "WholeFile", "repo_path"]


class EditError(CodeAgentError):
    """An edit cannot be parsed or applied; nothing was changed.

    The message is written to be shown to the model when it is asked again: which file,
    which symbol or SEARCH text, what is wrong, and what exists instead.

    Args:
        message: The precise reason.
        path: The repo path the edit names, when there is one.
        hint: The next step to take.
    """

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path


@dataclass(frozen=True)
class WholeFile:
    """The complete new text of one file (created when it does not exist)."""

    path: str
    text: str


@dataclass(frozen=True)
class SymbolEdit:
    """New versions of one or more functions, methods or classes of one Python or JavaScript file.

    Attributes:
        path: The file.
        code: The new code; which symbols it replaces is read from the code itself.
        symbol: The label's symbol (``Invoice.total`` from ``path::Invoice.total``), or
            ``""``; it places a bare ``def`` written at column 0 inside its class.
    """

    path: str
    code: str
    symbol: str = ""


@dataclass(frozen=True)
class SearchReplace:
    """Replace the one place ``search`` occurs in the file by ``replace``.

    An empty ``search`` creates the file (when it does not exist) or appends to it.
    """

    path: str
    search: str
    replace: str


Edit = WholeFile | SymbolEdit | SearchReplace
"""Any one edit."""


def repo_path(path: str) -> str:
    """``path`` normalised to a repo-relative POSIX path.

    Raises:
        EditError: For a path outside the repo (absolute, ``..``) or inside ``.git/``.
    """
    try:
        clean = safe_relpath(path)
    except SandboxError as exc:
        raise EditError(
            f"{exc.message}; edits must name files inside the repository",
            path=path,
            hint="write repo-relative paths such as 'src/pkg/mod.py'",
        ) from None
    if ".git" in PurePosixPath(clean).parts:
        raise EditError(
            f"path {path!r} is inside .git/, which edits may not touch",
            path=path,
            hint="edit the project's own files; git metadata is not part of the change",
        )
    return clean
