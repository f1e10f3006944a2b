"""Language adapters: one module per language, looked up by name."""

from __future__ import annotations

from codeagent.tools.errors import ConfigError
from codeagent.tools.languages.base import PROBE_MARK, LanguageAdapter, ProbeProgram, TestReport
from codeagent.tools.languages.javascript import JavaScriptAdapter
from codeagent.tools.languages.python import PythonAdapter

__all__ = [
    "PROBE_MARK",
    "JavaScriptAdapter",
    "LanguageAdapter",
    "ProbeProgram",
    "PythonAdapter",
    "TestReport",
    "get_adapter",
    "language_names",
]

_ADAPTERS: dict[str, type] = {"javascript": JavaScriptAdapter, "python": PythonAdapter}


def language_names() -> list[str]:
    """Names of the languages codeagent can test."""
    return sorted(_ADAPTERS)


def get_adapter(name: str) -> LanguageAdapter:
    """Return the adapter for ``name`` (e.g. ``"python"``).

    Raises:
        ConfigError: When no adapter has that name.
    """
    try:
        adapter: LanguageAdapter = _ADAPTERS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown language {name!r}",
            hint=f"use one of: {', '.join(language_names())}",
        ) from None
    return adapter
