"""Plugins of the tools layer: built-ins first, then entry points of an installed package.

Language adapters (group ``codeagent.languages``) and sandbox backends (group
``codeagent.sandboxes``) are looked up here by name, the way node kinds and routes
are (``codeagent.nodes``, ``codeagent.routes``). A plugin package registers one in
its ``pyproject.toml``::

    [project.entry-points."codeagent.languages"]
    shell = "my_package.shell:ShellAdapter"

A built-in name wins over a plugin of the same name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

from codeagent.tools.errors import ConfigError

__all__ = ["import_path", "load_entry_point", "load_plugin", "plugin_names"]


def plugin_names(group: str, builtin: Iterable[str] = ()) -> list[str]:
    """The names usable in ``group``: the built-ins and every installed plugin, sorted."""
    return sorted({*builtin, *(ep.name for ep in entry_points(group=group))})


def load_plugin(group: str, name: str, builtin: Mapping[str, Any], what: str) -> Any:
    """The object registered as ``name``: a built-in, else the plugin's entry point loaded.

    Args:
        group: The entry-point group (``codeagent.languages``).
        name: The name a workflow uses.
        builtin: The built-in objects by name.
        what: What is looked up, for messages (``language``, ``sandbox backend``).

    Raises:
        ConfigError: With a hint listing the known names when ``name`` is unknown, or
            naming the plugin when its entry point does not load.
    """
    if name in builtin:
        return builtin[name]
    if name not in {ep.name for ep in entry_points(group=group)}:
        known = ", ".join(plugin_names(group, builtin))
        raise ConfigError(
            f"unknown {what} {name!r}",
            hint=f"use one of: {known}; or install a package that registers {name!r} "
            f'under [project.entry-points."{group}"]',
        )
    return load_entry_point(group, name, what)


def load_entry_point(group: str, name: str, what: str) -> Any:
    """The object the installed plugin ``name`` of ``group`` registers, loaded.

    Raises:
        ConfigError: When no plugin has that name, or its entry point does not load.
    """
    found = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        raise ConfigError(
            f"no {what} plugin {name!r} in entry-point group {group!r}",
            hint=f"install the package that registers it under [project.entry-points.{group!r}]",
        )
    try:
        return found[0].load()
    except Exception as exc:  # the plugin's module is missing or crashed on import
        raise ConfigError(
            f"cannot load {what} plugin {name!r} ({found[0].value}): {type(exc).__name__}: {exc}",
            hint="reinstall the plugin package or fix its entry point",
        ) from None


def import_path(ref: str, what: str) -> Any:
    """The object an import path ``package.module:name`` (or ``:Class.attr``) names.

    Raises:
        ConfigError: With a hint, when the path is malformed or the import fails.
    """
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(
            f"{what} {ref!r} is not a valid import path",
            hint="write it as 'package.module:function'",
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import {what} {ref!r}: {exc}",
            hint=(
                f"make '{module_name}' importable: install its package, or add the folder "
                "that holds it to PYTHONPATH"
            ),
        ) from None
    except Exception as exc:  # the user's module crashed on import
        raise ConfigError(
            f"importing {what} {ref!r} failed: {type(exc).__name__}: {exc}",
            hint=f"fix the error in module '{module_name}'",
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(
                f"cannot import {what} {ref!r}: {module_name!r} has no attribute {attr!r}",
                hint=f"check the name after ':' (defined in {getattr(obj, '__file__', '?')})",
            )
        obj = getattr(obj, part)
    return obj
