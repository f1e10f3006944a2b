"""Running git in tests: a fixed identity, the output as text, a failure raises."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["git"]


def git(repo: Path, *args: str) -> str:
    """``git -C repo ARGS`` with a test identity; its standard output."""
    ident = ("-c", "user.name=Test", "-c", "user.email=test@example.com")
    proc = subprocess.run(
        ["git", "-C", str(repo), *ident, *args], capture_output=True, text=True, check=True
    )
    return proc.stdout
