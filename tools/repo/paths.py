"""Recognising and resolving file paths written by a model or found in a task (pure)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["looks_like_path", "resolve_path"]

_SUFFIX_WORDS = """py pyi pyx js mjs cjs jsx ts tsx vue svelte json md rst txt toml yaml yml
    cfg ini in html htm css scss go rs java kt c h cc cpp hpp cs rb php sh bash sql xml csv
    env lock proto swift scala lua r jl pl ex exs erl hs ml tf gradle mk properties conf ipynb"""
_SUFFIXES = frozenset(_SUFFIX_WORDS.split())
_BARE_NAMES = frozenset({"Makefile", "Dockerfile", "Procfile", "Gemfile", "Rakefile", "Justfile"})


def looks_like_path(text: str) -> bool:
    """True when ``text`` (a ``path`` or ``path::Symbol``) reads as a file path, not a word.

    A path has a common source/config suffix (``cart.py``, ``ci.yml``), is a well-known
    bare name (``Makefile``), or has a folder and a dot (``docs/guide.adoc``); ``e.g``,
    ``Invoice.total`` or ``3.11`` do not.
    """
    path = text.split("::", 1)[0]
    name = path.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    has_suffix = bool(dot) and suffix.lower() in _SUFFIXES and (bool(stem) or name == ".env")
    return has_suffix or name in _BARE_NAMES or ("/" in path.strip("/") and "." in name)


def resolve_path(token: str, files: Mapping[str, str]) -> str | None:
    """The repo file ``token`` names: itself, the file an absolute path ends with (the
    longest such), or the only file ending with ``/token``; else None."""
    if token in files:
        return token
    if "." not in token and "/" not in token:
        return None
    longer = [f for f in files if token.endswith("/" + f)]  # an absolute path in the sandbox
    if longer:
        return max(longer, key=lambda f: (len(f), f))
    shorter = [f for f in files if f.endswith("/" + token.lstrip("/"))]
    return shorter[0] if len(shorter) == 1 else None
