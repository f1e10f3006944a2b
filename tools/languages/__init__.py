"""Language adapters: one module per language, looked up by name.

``python`` and ``javascript`` are built in. A plugin package adds a language by
registering its adapter class (or any callable taking no arguments that returns
an adapter) under the entry-point group ``codeagent.languages``::

    [project.entry-points."codeagent.languages"]
    shell = "my_package.shell:ShellAdapter"

after which a workflow may say ``sandbox: {language: shell}``.
"""

from __future__ import annotations

from collections.abc import Callable

from codeagent.tools.errors import ConfigError
from codeagent.tools.languages.base import (
    PROBE_MARK,
    ImportLinking,
    LanguageAdapter,
    ProbeProgram,
    SourceAnalysis,
    TestReport,
    import_linking,
    missing_members,
    source_analysis,
)
from codeagent.tools.languages.javascript import JavaScriptAdapter
from codeagent.tools.languages.python import PythonAdapter
from codeagent.tools.plugins import load_plugin, plugin_names

__all__ = [
    "LANGUAGE_GROUP",
    "PROBE_MARK",
    "ImportLinking",
    "JavaScriptAdapter",
    "LanguageAdapter",
    "ProbeProgram",
    "PythonAdapter",
    "SourceAnalysis",
    "TestReport",
    "get_adapter",
    "import_linking",
    "language_names",
    "source_analysis",
]

LANGUAGE_GROUP = "codeagent.languages"
_BUILTIN: dict[str, Callable[[], LanguageAdapter]] = {
    "javascript": JavaScriptAdapter,
    "python": PythonAdapter,
}


def language_names() -> list[str]:
    """Names of the languages codeagent can test (built-ins and plugins)."""
    return plugin_names(LANGUAGE_GROUP, _BUILTIN)


def get_adapter(name: str) -> LanguageAdapter:
    """Return the adapter for ``name`` (e.g. ``"python"``): a built-in or a plugin's.

    Raises:
        ConfigError: When no adapter has that name (the hint lists the known ones), the
            plugin does not load, or what it makes lacks part of :class:`LanguageAdapter`.
    """
    make = load_plugin(LANGUAGE_GROUP, name, _BUILTIN, "language")
    try:
        adapter = make() if callable(make) else make
    except Exception as exc:  # a plugin's constructor failed
        raise ConfigError(
            f"language plugin {name!r} failed to create its adapter: {type(exc).__name__}: {exc}",
            hint="register a class (or a function) that takes no arguments",
        ) from None
    missing = missing_members(adapter)
    if missing:
        raise ConfigError(
            f"language plugin {name!r} is not a complete language adapter: "
            f"it lacks {', '.join(missing)}",
            hint="implement every member of codeagent.tools.languages.LanguageAdapter",
        )
    found: LanguageAdapter = adapter
    return found
