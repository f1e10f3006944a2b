"""The ``codeagent`` command line (console script ``codeagent = codeagent.graphs.cli:main``)."""

from __future__ import annotations

from codeagent.graphs.cli.main import app, main

__all__ = ["app", "main"]
