"""Programs on the host a test needs: skipped without them, but never under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["require_executable", "require_model", "require_node"]


def require_executable(name: str, install: str) -> None:
    """Skip the test when ``name`` is not on PATH, or fail under ``CI=true`` (CI installs
    it: ``install`` says how)."""
    if shutil.which(name) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (CI must install it: {install})")
        pytest.skip(f"{name} is not installed")


def require_node() -> None:
    """Node.js, for the JavaScript language, workflows and repository tasks."""
    require_executable("node", "apt-get install nodejs")


def require_model(name: str) -> None:
    """The embedded model ``name`` installed (``codeagent models install NAME``)."""
    from codeagent.tools.models.store import installed_path

    if installed_path(name) is None:
        message = f"the embedded model {name} is not installed (codeagent models install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
