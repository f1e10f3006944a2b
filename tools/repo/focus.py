"""The one function a small model rewrites, found without asking the model (pure).

A 1.5B model shown a repository map and several files copies what it was shown back
unchanged, rewrites the tests, or writes edit labels wrong. Shown one function, the test
it fails and the error, and asked for that function corrected (the shape of a HumanEval
repair), it does far better. :func:`focus_targets` ranks the functions and methods of
the repository's non-test source files against the task and the failing run;
:func:`focus_edits` reads the model's answer (a code block, labelled or not) into edits
of the target's file.

Signals, strongest first:

1. traceback locations (``File "/workspace/src/a.py", line 12``, pytest's
   ``src/a.py:12: ValueError``, node's ``at f (file:///workspace/lib/a.js:3:9)``): the
   function holding that line, the innermost frame far above the others;
2. names the task writes as code (``Money.allocate``, ``parse_due(``, in backticks);
3. names the failing tests call (``.allocate(`` in the test's source, the run's output,
   or the test lines a stack points at);
4. names the task writes as prose (``allocate`` in a sentence) and the overlap between
   the task's words and the function's name;
5. what the read step (if any) asked to open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from codeagent.tools.repo.edit_types import EditError, SymbolEdit
from codeagent.tools.repo.edits import code_blocks
from codeagent.tools.repo.paths import resolve_path
from codeagent.tools.repo.repomap import is_test_file, split_words
from codeagent.tools.repo.symbols import JS_SUFFIXES, Symbol, file_symbols

__all__ = [
    "FocusTarget",
    "focus_edits",
    "focus_targets",
    "pointed_test_source",
    "source_of",
    "symbol_source",
]

_SOURCE_SUFFIXES = (".py", *JS_SUFFIXES)
_LOCATION = re.compile(
    r'File "(?P<a>[^"\n]+)", line (?P<al>\d+)'  # Python traceback
    r"|(?P<b>[\w./\\-]+\.(?:py|[cm]?js|jsx|tsx?)):(?P<bl>\d+)(?::\d+)?"  # pytest, node
)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")

_INNERMOST = 100.0  # the innermost traceback frame in the repository's code
_FRAME = 40.0  # any other frame
_IN_CODE = 25.0  # a name the task writes as code
_CALLED = 12.0  # a name the failing tests call
_IN_PROSE = 6.0  # a name the task writes as a word
_WORD = 2.0  # each word of the name the task uses
_ASKED = 4.0  # the read step asked for it
_BODY = 0.5  # each word of the task a pointed-at function's code uses (at most 3)
_BODY_WORDS = 6


@dataclass(frozen=True)
class FocusTarget:
    """A function or method to show the model, with its score (only order matters)."""

    path: str
    symbol: Symbol
    score: float

    @property
    def label(self) -> str:
        """``path::Name``."""
        return f"{self.path}::{self.symbol.name}"

    @property
    def short_name(self) -> str:
        """``allocate`` for ``Money.allocate``."""
        return self.symbol.name.rsplit(".", 1)[-1]


def focus_targets(
    files: Mapping[str, str],
    task: str,
    run_output: str = "",
    tests_source: str = "",
    asked: Sequence[str] = (),
) -> list[FocusTarget]:
    """The functions and methods of the non-test source files, best match first.

    Args:
        files: The repository, path -> text.
        task: What the user asked.
        run_output: The failing run's output (tracebacks, assertion messages).
        tests_source: The source of the tests the task names.
        asked: ``path`` / ``path::Name`` requests of a read step.

    Only functions and methods with a positive score are returned; ties go to the
    earlier file and line.
    """
    candidates = {
        (path, symbol.name): symbol
        for path, text in sorted(files.items())
        if path.endswith(_SOURCE_SUFFIXES) and not is_test_file(path)
        for symbol in file_symbols(path, text)
        if symbol.kind in ("function", "method")
    }
    scores = dict.fromkeys(candidates, 0.0)
    frames = _frames(run_output, files, candidates)
    for key in frames:
        scores[key] = _INNERMOST if key == frames[-1] else _FRAME
    in_code = _code_names(task)
    in_prose = set(_IDENT.findall(task))
    called = _called_names("\n".join([tests_source, run_output, *_test_lines(run_output, files)]))
    task_words = set(split_words(task))
    file_lines: dict[str, list[str]] = {}
    for key, symbol in candidates.items():
        short = symbol.name.rsplit(".", 1)[-1]
        named = short if len(short) >= 3 and not short.startswith("__") else None
        if named and (named in in_code or symbol.name in in_code):
            scores[key] += _IN_CODE
        elif named and named in in_prose:
            scores[key] += _IN_PROSE
        if named and named in called:
            scores[key] += _CALLED
        scores[key] += _WORD * len(set(split_words(short)) & task_words)
        if any(_asks_for(request, key) for request in asked):
            scores[key] += _ASKED
        if scores[key] > 0:  # a tie-break among the functions something points at
            lines = file_lines.setdefault(key[0], files[key[0]].splitlines())
            body = set(split_words("\n".join(lines[symbol.line - 1 : symbol.end_line])))
            scores[key] += _BODY * min(len(body & task_words), _BODY_WORDS)
    ranked = [
        FocusTarget(path, candidates[(path, name)], round(score, 4))
        for (path, name), score in scores.items()
        if score > 0
    ]
    return sorted(ranked, key=lambda t: (-t.score, t.path, t.symbol.line))


def _frames(
    output: str, files: Mapping[str, str], candidates: Mapping[tuple[str, str], Symbol]
) -> list[tuple[str, str]]:
    """The candidate functions a traceback's frames fall in, outermost first."""
    found: list[tuple[str, str]] = []
    for path, line in _locations(output, files):
        if is_test_file(path):
            continue
        inside = [
            (p, name)
            for (p, name), s in candidates.items()
            if p == path and s.line <= line <= s.end_line
        ]
        if inside:  # a method inside a function's span is the more precise one
            key = min(inside, key=lambda k: candidates[k].end_line - candidates[k].line)
            if key in found:
                found.remove(key)
            found.append(key)
    return found


def _test_lines(output: str, files: Mapping[str, str]) -> list[str]:
    """The lines of test files the output points at (an assertion's line in a stack):
    node's TAP shows no source, so what the failing test calls is read there."""
    return [
        files[path].splitlines()[number - 1]
        for path, numbers in _test_places(output, files).items()
        for number in numbers
    ]


def pointed_test_source(output: str, files: Mapping[str, str], most: int = 12) -> str:
    """The test code a failing run points at, for a runner whose output shows none
    (``node --test``): per test file, its lines from the first to the last place named
    (a test's start, its failing assertion), at most ``most`` lines each (pure)."""
    parts = []
    for path, numbers in _test_places(output, files).items():
        first, last = min(numbers), min(max(numbers), min(numbers) + most - 1)
        lines = files[path].splitlines()[first - 1 : last]
        parts.append(f"// {path}, lines {first}-{last}\n" + "\n".join(lines))
    return "\n\n".join(parts)


def _test_places(output: str, files: Mapping[str, str]) -> dict[str, list[int]]:
    """Test file -> the line numbers the output names in it, in order of appearance."""
    places: dict[str, list[int]] = {}
    for path, number in _locations(output, files):
        if not is_test_file(path):
            continue
        if 1 <= number <= len(files[path].splitlines()) and number not in places.get(path, []):
            places.setdefault(path, []).append(number)
    return places


def _locations(output: str, files: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """The (repository path, line) of each location the output names, in order (a
    traceback frame, pytest's ``a.py:12:``, node's ``(file:///workspace/a.js:3:9)``)."""
    for match in _LOCATION.finditer(output):
        token = (match.group("a") or match.group("b") or "").replace("\\", "/")
        path = resolve_path(token.removeprefix("file://"), files)
        if path is not None:
            yield path, int(match.group("al") or match.group("bl"))


def _code_names(task: str) -> set[str]:
    """Names the task writes as code: in backticks, called, or dotted."""
    names: set[str] = set()
    for span in _CODE_SPAN.findall(task):
        names.update(_IDENT.findall(span))
    names.update(re.findall(r"([A-Za-z_]\w*)\(", task))
    for dotted in re.findall(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", task):
        names.add(dotted)
        names.update(dotted.split("."))
    return names


def _called_names(code: str) -> set[str]:
    return set(re.findall(r"([A-Za-z_]\w*)\s*\(", code))


def _asks_for(request: str, key: tuple[str, str]) -> bool:
    path, _, name = request.partition("::")
    return path == key[0] and (not name or name == key[1] or key[1].startswith(name + "."))


def source_of(files: Mapping[str, str], target: FocusTarget) -> str:
    """The target's lines as the file has them (decorators included)."""
    return symbol_source(files[target.path], target.symbol)


def symbol_source(text: str, symbol: Symbol) -> str:
    """``symbol``'s lines in ``text``, the file that defines it."""
    return "\n".join(text.splitlines()[symbol.line - 1 : symbol.end_line])


def focus_edits(text: str, target: FocusTarget, files: Mapping[str, str]) -> list[SymbolEdit]:
    """The edits a model's answer to a focus prompt holds: its first code block that
    defines functions, spliced into the target's file (the target's own name at the
    target's place; other names as the file has them, or added).

    A block holding only tests (``test_...`` functions, ``describe``/``test`` calls) is
    skipped: the task is to change the code, and the tests judge it.

    Raises:
        EditError: No code block, or none that defines a function; the message says
            what to write instead.
    """
    blocks = code_blocks(text)
    if not blocks:
        raise EditError(
            "the answer holds no fenced code block, so nothing was changed",
            path=target.path,
            hint=f"write the complete new `{target.short_name}` in one fenced code block",
        )
    suffix = PurePosixPath(target.path).suffix.lower()
    probe = "code" + (suffix if suffix in _SOURCE_SUFFIXES else ".py")
    for code in blocks:
        defined = [s.name for s in file_symbols(probe, code)]
        if not defined or all(_is_test_name(name) for name in defined):
            continue
        return [SymbolEdit(target.path, code, _label(target, defined))]
    raise EditError(
        f"no code block of the answer defines a function: write the whole of "
        f"`{target.short_name}`, from its first line "
        f"(`{target.symbol.signature.strip()[:80]}`) to its last; nothing was changed",
        path=target.path,
        hint="write the complete new function, not only the lines that change",
    )


def _label(target: FocusTarget, defined: Iterable[str]) -> str:
    """The label that places the block: the target's when it rewrites the target."""
    tops = {name.rsplit(".", 1)[-1] for name in defined}
    return target.symbol.name if target.short_name in tops else ""


def _is_test_name(name: str) -> bool:
    short = name.rsplit(".", 1)[-1]
    return short.startswith("test") or short in ("describe", "it")
