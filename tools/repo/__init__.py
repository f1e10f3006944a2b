"""Repo mode: a user's existing repository as the workspace (pure helpers)."""

__all__: list[str] = []
