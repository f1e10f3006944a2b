"""Prompt templates: load a template file and render it into chat messages (pure)."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from codeagent.tools.errors import ConfigError

__all__ = ["load_template", "render"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_SECTION = re.compile(r"^<<(system|user)>>\s*$", re.MULTILINE)


def load_template(kind: str, override: Path | None = None) -> str:
    """Text of the template for a node ``kind``, or of the user's ``override`` file.

    Raises:
        ConfigError: When the override file cannot be read.
    """
    path = override or _TEMPLATES / f"{kind}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read prompt template: {exc}",
            file=str(path),
            hint="prompt paths are relative to the workflow file",
        ) from None


def render(template: str, **values: str) -> list[tuple[str, str]]:
    """Fill ``$name`` placeholders and split into ``(role, text)`` messages.

    A template has a ``<<system>>`` section and a ``<<user>>`` section; text
    before the first section marker is a comment and is dropped. Unknown
    placeholders are left as they are, so code with ``$`` survives.
    """
    parts = _SECTION.split(template)
    messages = []
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        text = Template(body).safe_substitute(values).strip()
        if text:
            messages.append((role, text))
    if not messages:
        raise ConfigError(
            "a prompt template needs a <<system>> and/or <<user>> section",
            hint="see nodes/templates/ for examples",
        )
    return messages
