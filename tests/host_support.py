"""Programs on the host a test needs: skipped without them, but never under CI=true."""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["require_executable", "require_node"]


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
