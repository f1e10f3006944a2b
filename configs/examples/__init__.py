"""Example workflows and the custom nodes and routes they use (copy them to start your own)."""

from __future__ import annotations

__all__: list[str] = []
