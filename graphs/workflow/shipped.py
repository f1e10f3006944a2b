"""The workflows that ship with codeagent, found as package data of ``codeagent.configs``.

Found by resource lookup, not by import: ``configs`` holds data and user-level examples
that import graphs, so graphs never imports it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["configs_dir", "shipped_workflows", "workflow_path"]

_PACKAGE = "codeagent.configs"


def configs_dir() -> Path:
    """The folder of the shipped workflow files (``configs/`` in a checkout)."""
    return Path(str(files(_PACKAGE)))


def workflow_path(name: str) -> Path | None:
    """Path of the shipped workflow called ``name`` (e.g. ``"default"``), or None."""
    path = configs_dir() / f"{name}.yaml"
    return path if path.is_file() else None


def shipped_workflows() -> list[str]:
    """Names of the shipped workflows."""
    return sorted(p.stem for p in configs_dir().glob("*.yaml"))
