"""The workflows that ship with codeagent (copy one and edit it to make your own)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["shipped_workflows", "workflow_path"]

_HERE = Path(__file__).resolve().parent


def workflow_path(name: str) -> Path | None:
    """Path of the shipped workflow called ``name`` (e.g. ``"default"``), or None."""
    path = _HERE / f"{name}.yaml"
    return path if path.is_file() else None


def shipped_workflows() -> list[str]:
    """Names of the shipped workflows."""
    return sorted(p.stem for p in _HERE.glob("*.yaml"))
