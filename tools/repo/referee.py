"""The repository's existing tests are the judge of a change: a change may add to them,
never rewrite them (pure).

A repo job passes when the tests the task names pass and nothing that passed before
fails. A change that edits the named test itself (a new expected value, a removed
assertion) could make it pass on wrong code, so the tester refuses a change that
removes or alters lines of an existing test file; adding tests, imports or fixtures
to one is fine. Blank lines and trailing spaces are not counted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from codeagent.tools.repo.repomap import is_test_file

__all__ = ["rewritten_tests"]


def rewritten_tests(base: Mapping[str, str], changes: Mapping[str, str]) -> list[str]:
    """The existing test files (in ``base``) whose lines ``changes`` alters or removes."""
    return sorted(
        path
        for path, text in changes.items()
        if path in base and is_test_file(path) and not _only_adds(base[path], text)
    )


def _only_adds(old: str, new: str) -> bool:
    before, after = _lines(old), _lines(new)
    opcodes = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in opcodes)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]
