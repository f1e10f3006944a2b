"""What a JavaScript source defines and imports, at the level regular expressions allow (pure).

Used through :class:`~codeagent.tools.languages.javascript.JavaScriptAdapter`. It reads
conventionally formatted CommonJS or ES modules: top-level definitions start at column 0,
and a top-level function's body ends at the first later line starting with ``}``.
Stubbing function bodies is not supported (arrow functions with expression bodies
cannot be found reliably without a parser), so JavaScript tests are never checked
against a stub: none is reported vacuous.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["defined_names", "imports_module", "remove_definitions", "remove_self_checks"]

_FUNCTION = re.compile(r"^(?:export[ \t]+)?(?:async[ \t]+)?function\*?[ \t]*([A-Za-z_$][\w$]*)")
_CLASS = re.compile(r"^(?:export[ \t]+)?class[ \t]+([A-Za-z_$][\w$]*)")
_CHECK = re.compile(r"^(?:console\.assert|assert(?:\.[A-Za-z]+)?)\(.*\);?[ \t]*$")
_BINDING = re.compile(r"^(?:export[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*=(.*)$")


def _definition(line: str) -> tuple[str, bool] | None:
    """``(name, is_block)`` when ``line`` starts a top-level definition (not an import)."""
    for pattern in (_FUNCTION, _CLASS):
        if found := pattern.match(line):
            return found.group(1), True
    found = _BINDING.match(line)
    if found and "require(" not in found.group(2):
        return found.group(1), line.rstrip().endswith(("{", "=>", "(", "["))
    return None


def defined_names(source: str) -> set[str]:
    """The top-level functions, classes and bindings ``source`` defines (not its imports)."""
    found = (_definition(line) for line in source.splitlines())
    return {d[0] for d in found if d is not None}


def imports_module(source: str, module: str) -> bool:
    """True when ``source`` requires or imports ``./module`` (with or without ``.js``)."""
    path = re.escape(module.replace(".", "/"))
    pattern = rf"""(?:require\s*\(|from\s+|import\s*\(?)\s*['"]\./{path}(?:\.[cm]?js)?['"]"""
    return re.search(pattern, source) is not None


def remove_definitions(source: str, names: Collection[str]) -> tuple[str, list[str]]:
    """``source`` without its top-level definitions named in ``names``; and the names removed."""
    lines = source.splitlines(keepends=True)
    kept: list[str] = []
    removed: list[str] = []
    skipping = False
    for line in lines:
        if skipping:
            skipping = not line.startswith("}")
            continue
        found = _definition(line)
        if found and found[0] in names:
            removed.append(found[0])
            skipping = found[1] and not line.rstrip().endswith("}")
            continue
        kept.append(line)
    return "".join(kept), removed


def remove_self_checks(source: str) -> tuple[str, int]:
    """``source`` without its one-line top-level checks (``console.assert(...)``,
    ``assert.equal(...)`` at column 0); and how many were removed."""
    lines = source.splitlines(keepends=True)
    kept = [line for line in lines if not _CHECK.match(line.rstrip("\r\n"))]
    removed = len(lines) - len(kept)
    return ("".join(kept).rstrip() + "\n", removed) if removed else (source, 0)
