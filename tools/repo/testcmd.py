"""How a repository runs its tests, and what its own instructions say (pure).

From the repo's files alone: the test command its configuration implies
(:func:`detect_test_command`), the command its ``AGENTS.md`` states
(:func:`instructed_test_command`), the instructions to show a model
(:func:`agents_instructions`: ``AGENTS.md`` as Codex and open-swe read it, and the
README's testing/development section), the pytest node ids a task names, and the
failing tests it names by their names alone (:func:`named_failing_tests`).
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

__all__ = [
    "agents_instructions",
    "detect_test_command",
    "instructed_test_command",
    "named_failing_tests",
    "pytest_node_ids",
]

PYTEST = ["python3", "-m", "pytest"]
NPM_TEST = ["npm", "test", "--silent"]
_NPM_DEFAULT = 'echo "Error: no test specified" && exit 1'
_READMES = ("README.md", "README.markdown", "README.rst", "README.txt", "README")
_SECTION_WORDS = re.compile(r"\b(?:tests?|testing|development|develop|contributing)\b", re.I)
_ATX = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)")
_SHELL_LANGS = frozenset({"", "sh", "bash", "shell", "console", "zsh", "shell-session"})
_RUNNERS = frozenset({"tox", "nox"})
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", ">", ">>", "<", "&"})
_NODE_ID = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.py)((?:::[\w\[\]\-.,]+)*)")


def detect_test_command(files: Mapping[str, str]) -> list[str] | None:
    """The command that runs the repo's tests, from its configuration; None when unknown.

    In order: pytest configured (``[tool.pytest.ini_options]`` or ``[tool.pytest]`` in
    ``pyproject.toml``, a ``pytest.ini``, ``[tool:pytest]`` in ``setup.cfg``, ``[pytest]``
    in ``tox.ini``) -> ``python3 -m pytest``; ``package.json`` with a ``scripts.test``
    other than npm's placeholder -> ``npm test --silent``; any ``test_*.py`` or
    ``*_test.py`` file -> ``python3 -m pytest``.
    """
    if _pytest_configured(files):
        return list(PYTEST)
    if _npm_test(files.get("package.json")):
        return list(NPM_TEST)
    for path in files:
        name = PurePosixPath(path).name
        if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
            return list(PYTEST)
    return None


def _pytest_configured(files: Mapping[str, str]) -> bool:
    if "pytest.ini" in files:
        return True
    if _has_section(files.get("setup.cfg"), "tool:pytest"):
        return True
    if _has_section(files.get("tox.ini"), "pytest"):
        return True
    pyproject = files.get("pyproject.toml")
    if pyproject is None:
        return False
    try:
        tool = tomllib.loads(pyproject).get("tool", {})
    except tomllib.TOMLDecodeError:
        return re.search(r"^\[tool\.pytest(?:\.ini_options)?\]", pyproject, re.M) is not None
    return isinstance(tool, dict) and isinstance(tool.get("pytest"), dict)


def _has_section(text: str | None, name: str) -> bool:
    pattern = rf"^[ \t]*\[{re.escape(name)}\][ \t]*$"
    return text is not None and re.search(pattern, text, re.M) is not None


def _npm_test(text: str | None) -> bool:
    if text is None:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    scripts = data.get("scripts") if isinstance(data, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and bool(test.strip()) and test.strip() != _NPM_DEFAULT


def agents_instructions(files: Mapping[str, str], budget_chars: int = 2000) -> str:
    """The repo's own instructions for an agent, labelled and bounded; ``""`` when none.

    The root ``AGENTS.md`` (at most 60% of the budget when a README section follows) and
    the README's sections whose heading mentions test(s), testing, development or
    contributing. The text never exceeds ``budget_chars``.
    """
    agents = _root_file(files, ("AGENTS.md",))
    readme_path = _root_file(files, _READMES)
    sections = _sections(files[readme_path]) if readme_path else []
    parts: list[str] = []
    room = budget_chars
    if agents:
        share = room * 3 // 5 if sections else room
        parts.append(_labelled(f"{agents}:", files[agents], share))
        room -= len(parts[-1]) + 2
    for heading, body in sections:
        if room <= 0:
            break
        part = _labelled(f"{readme_path} (section {heading!r}):", body, room)
        if part:
            parts.append(part)
            room -= len(part) + 2
    return "\n\n".join(p for p in parts if p)[:budget_chars]


def _root_file(files: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    by_lower = {path.lower(): path for path in files if "/" not in path}
    for name in names:
        if name in files:
            return name
        if name.lower() in by_lower:
            return by_lower[name.lower()]
    return None


def _labelled(label: str, text: str, budget: int) -> str:
    text = text.strip()
    if not text or budget < len(label) + 20:
        return ""
    room = budget - len(label) - 1
    if len(text) > room:
        keep = room - len(f"\n[... {len(text)} more characters]")
        text = text[:keep].rstrip() + f"\n[... {len(text) - keep} more characters]"
    return f"{label}\n{text}"


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """``(line index, level, title)`` of every markdown heading outside code fences."""
    found = []
    fence: str | None = None
    for i, line in enumerate(lines):
        opened = _FENCE.match(line)
        if opened:
            if fence is None:
                fence = opened.group(1)
            elif _closes(line, fence):
                fence = None
            continue
        if fence is not None:
            continue
        if atx := _ATX.match(line):
            found.append((i, len(atx.group(1)), atx.group(2).strip()))
        elif i and lines[i - 1].strip() and _SETEXT.match(line) and not _ATX.match(lines[i - 1]):
            found.append((i - 1, 1 if line.strip()[0] == "=" else 2, lines[i - 1].strip()))
    return found


def _closes(line: str, fence: str) -> bool:
    mark = line.strip()
    return len(mark) >= len(fence) and not mark.strip(fence[0])


def _sections(text: str, words: re.Pattern[str] = _SECTION_WORDS) -> list[tuple[str, str]]:
    """``(heading, body)`` of each section whose heading matches ``words`` (outermost only)."""
    lines = text.splitlines()
    headings = _headings(lines)
    out: list[tuple[str, str]] = []
    covered = -1
    for n, (start, level, title) in enumerate(headings):
        if start <= covered or not words.search(title):
            continue
        end = next((s for s, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
        body_start = start + (2 if _is_setext(lines, start) else 1)
        out.append((title, "\n".join(lines[body_start:end]).strip("\n")))
        covered = end - 1
    return out


def _is_setext(lines: list[str], start: int) -> bool:
    return start + 1 < len(lines) and _SETEXT.match(lines[start + 1]) is not None


def instructed_test_command(files: Mapping[str, str]) -> list[str] | None:
    """The test command the root ``AGENTS.md`` states, split with ``shlex``; None if none.

    Found, in document order: inline code on a line that mentions tests ("Run the tests
    with `pytest -q`"), or a command line in a shell code block under a heading that
    mentions tests. A command counts when it holds "test" or starts with tox/nox. One
    with shell operators (``&&``, ``|``, ``;``) comes back as ``["sh", "-c", command]``.
    """
    path = _root_file(files, ("AGENTS.md",))
    if path is None:
        return None
    lines = files[path].splitlines()
    testing = _test_section_lines(lines)
    fence: str | None = None
    lang = ""
    for i, line in enumerate(lines):
        opened = _FENCE.match(line)
        if opened:
            closing = fence is not None and _closes(line, fence)
            fence, lang = (None, "") if closing else (opened.group(1), opened.group(2).lower())
            continue
        if fence is not None:
            if i in testing and lang in _SHELL_LANGS and (cmd := _command(line.strip())):
                return cmd
            continue
        if re.search(r"\btest", line, re.I):
            for code in re.findall(r"`([^`\n]+)`", line):
                if cmd := _command(code.strip()):
                    return cmd
    return None


def _test_section_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines inside a section whose heading mentions tests."""
    headings = _headings(lines)
    inside: set[int] = set()
    for n, (start, level, title) in enumerate(headings):
        if re.search(r"\btest", title, re.I):
            end = next((s for s, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
            inside.update(range(start + 1, end))
    return inside


def _command(text: str) -> list[str] | None:
    text = re.sub(r"^(?:\$|>|%)[ \t]+", "", text).strip()
    if not text or text.startswith("#"):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if not words or not ("test" in text.lower() or words[0] in _RUNNERS):
        return None
    if any(word in _SHELL_OPERATORS for word in words):
        return ["sh", "-c", text]
    return words


def pytest_node_ids(text: str) -> list[str]:
    """The pytest node ids ``text`` names, in order, de-duplicated.

    ``tests/test_cli.py::test_json``, ``tests/test_a.py::TestX::test_y``,
    ``tests/test_a.py::test_p[1-2]`` and a test file alone (``tests/test_a.py``: a file
    named ``test_*.py`` / ``*_test.py`` or under a ``tests`` folder). Other ``.py`` paths
    without ``::`` are not node ids.
    """
    out: dict[str, None] = {}
    for match in _NODE_ID.finditer(text):
        path, rest = match.group(1), match.group(2).rstrip(".,")
        name = PurePosixPath(path).name
        is_test = name.startswith("test_") or name.endswith("_test.py")
        if rest or is_test or "tests" in PurePosixPath(path).parts[:-1]:
            while path.startswith("./"):
                path = path[2:]
            out.setdefault(path + rest, None)
    return list(out)


_SHORTEST_NAME = 4  # a test name shorter than this is not looked for in the task


def named_failing_tests(task: str, failing: Iterable[str]) -> list[str]:
    """The ids of ``failing`` (tests that fail now) that ``task`` names by their name.

    A pytest id (``tests/test_a.py::TestX::test_y[1]``) is named by its function's name
    (``test_y``) as a word of the task; a ``node --test`` id (``words > splits at an
    acronym``) by its own name (the part after the last ``>``), written out in the task
    (case aside): "The test "splits at an acronym" fails". Ids the task writes in full
    count as well.
    """
    folded = task.casefold()
    named: list[str] = []
    for test_id in failing:
        leaf = re.split(r"::| > ", test_id)[-1].split("[", 1)[0].strip()
        word = rf"(?<![\w-]){re.escape(leaf.casefold())}(?![\w-])"
        if test_id.casefold() in folded or (
            len(leaf) >= _SHORTEST_NAME and re.search(word, folded)
        ):
            named.append(test_id)
    return named
