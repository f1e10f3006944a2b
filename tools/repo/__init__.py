"""Repo mode's file handling: a snapshot of the user's repository in, a verified patch out."""

from __future__ import annotations

from codeagent.tools.repo.gitops import git

__all__ = ["git"]
