"""A compact, ranked view of a repository for a small model: which files matter for a task.

Pure: the repo is a ``Mapping`` of repo-relative path -> text. :func:`rank_files` scores
every file against the task (or a failing traceback), :func:`repo_map` renders the best
ones with their symbols' signatures inside a character budget. Everything is
deterministic (ties broken by path), so prompts are reproducible and tests compare text.

Ranking, strongest signal first:

1. paths the task names (:func:`referenced_paths`: plain paths, pytest node ids,
   traceback frames, dotted module names, symbol names written as ``name(`` or in
   backticks); the innermost traceback frame ranks above the other named files;
2. files defining symbols the task names as identifiers (``Invoice.total``, ``parse_row``);
3. overlap between the task's words and each file's path parts and symbol names
   (snake_case and camelCase split, lowercased, stop-words and 1-2 letter words dropped,
   rare words weighing more);
4. a test file (``tests/test_invoice.py``, ``invoice.test.js``) gets a share of the score
   of the source file it is named after, so it sits just below it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import PurePosixPath

from codeagent.tools.repo.paths import resolve_path
from codeagent.tools.repo.symbols import Symbol, file_symbols

__all__ = [
    "Symbol",
    "file_symbols",
    "is_test_file",
    "rank_files",
    "referenced_paths",
    "repo_map",
    "resolve_path",
    "split_words",
]

_REFERENCED = 100.0  # a named file, minus one per later mention (at most 9)
_INNERMOST_FRAME = 10.0
_SYMBOL_HIT = 10.0
_MAX_SYMBOL_HITS = 3
_TEST_OWN = 0.5  # a test file keeps this share of its own word overlap ...
_TEST_SHARE = 0.4  # ... and gets this share of its source file's score
_SIGNATURE_CHARS = 160

_PATH_TOKEN = re.compile(r"[\w./\\-]+")
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CALL = re.compile(r"([A-Za-z_][\w.]*)\(")
_BACKTICK = re.compile(r"`([^`\n]+)`")
_CODE_NAME = re.compile(r"([A-Za-z_][\w.]*)(?:\(.*\))?")
_FRAME = re.compile(r'File "([^"\n]+)", line \d+|^[ \t]*([\w./\\-]+):\d+: in ', re.MULTILINE)
_IDENT = re.compile(r"[A-Za-z_][\w.]*")
_WORD_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TEST_NAME = re.compile(r"^(?:test_(?P<a>.+)|(?P<b>.+)_test|(?P<c>.+)\.(?:test|spec))$")
_STOP_TEXT = """about above after again all also and any are because been before being both but
    can cannot could did does doing done each either else every few for from further had
    has have having here how into its itself just like make makes more most much must
    need needs not now off once only other our out over own please same should should
    some such than that the their them then there these they this those through too
    under until use used uses using very want was way were what when where whether which
    while who why will with within without would you your fix fixes fixed bug issue
    problem wrong correct correctly instead currently"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def split_words(text: str) -> list[str]:
    """The lowercased words of identifiers and prose in ``text``, in order.

    ``parseRowHTML_v2`` -> ``parse``, ``row``, ``html``; stop-words, 1-2 letter words and
    numbers are dropped.
    """
    words = []
    for part in re.split(r"[^A-Za-z0-9]+", text):
        for word in _WORD_PART.findall(part):
            low = word.lower()
            if len(low) > 2 and not low.isdigit() and low not in _STOP_WORDS:
                words.append(low)
    return words


def is_test_file(path: str) -> bool:
    """True for ``test_x.py``, ``x_test.py``, ``x.test.js``, ``x.spec.ts`` and files under a
    ``tests``/``test``/``__tests__`` folder."""
    pure = PurePosixPath(path)
    if _TEST_NAME.match(pure.stem) or pure.stem in ("tests", "conftest"):
        return True
    return any(part in ("tests", "test", "__tests__") for part in pure.parts[:-1])


@lru_cache(maxsize=4096)
def _symbols(path: str, text: str) -> tuple[Symbol, ...]:
    return tuple(file_symbols(path, text))


def _all_symbols(files: Mapping[str, str]) -> dict[str, tuple[Symbol, ...]]:
    return {path: _symbols(path, text) for path, text in files.items()}


def referenced_paths(text: str, files: Mapping[str, str]) -> list[str]:
    """The repo paths ``text`` mentions, in order of first mention.

    Recognised: plain paths (``billing/invoice.py``, a suffix of ``src/billing/invoice.py``
    when only one file ends so), pytest node ids (``tests/test_cli.py::test_json``),
    traceback frames (``File "/workspace/src/pkg/mod.py", line 12`` and pytest's
    ``src/pkg/mod.py:12: in f``), dotted module names (``pkg.mod`` -> ``src/pkg/mod.py`` or
    ``pkg/mod.py``), and symbol names defined in exactly one file, written as ``name(`` or
    in backticks.
    """
    return _referenced(text, files, _all_symbols(files))


def _referenced(
    text: str, files: Mapping[str, str], symbols: Mapping[str, Iterable[Symbol]]
) -> list[str]:
    found: list[tuple[int, int, str]] = []
    for match in _PATH_TOKEN.finditer(text):
        if path := _resolve_token(match.group(), files):
            found.append((match.start(), 0, path))
    owners = _symbol_owners(symbols)
    for pattern in (_CALL, _BACKTICK):
        for match in pattern.finditer(text):
            code = _CODE_NAME.fullmatch(match.group(1).strip())
            if code and (path := _owner(code.group(1), owners)):
                found.append((match.start(), 1, path))
    ordered: dict[str, None] = {}
    for _, _, path in sorted(found):
        ordered.setdefault(path, None)
    return list(ordered)


def _resolve_token(token: str, files: Mapping[str, str]) -> str | None:
    token = token.replace("\\", "/").rstrip(".-/")
    while token.startswith("./"):
        token = token[2:]
    if not token:
        return None
    if path := resolve_path(token, files):
        return path
    if _MODULE.fullmatch(token):
        return _resolve_module(token, files)
    return None


def _resolve_module(token: str, files: Mapping[str, str]) -> str | None:
    parts = token.split(".")
    for size in range(len(parts), 0, -1):
        base = "/".join(parts[:size])
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            for exact in (candidate, f"src/{candidate}"):
                if exact in files:
                    return exact
            if size >= 2:
                ends = [f for f in files if f.endswith("/" + candidate)]
                if len(ends) == 1:
                    return ends[0]
    return None


def _symbol_owners(symbols: Mapping[str, Iterable[Symbol]]) -> dict[str, set[str]]:
    owners: dict[str, set[str]] = defaultdict(set)
    for path, found in symbols.items():
        for symbol in found:
            owners[symbol.name].add(path)
            owners[symbol.name.rsplit(".", 1)[-1]].add(path)
    return owners


def _owner(name: str, owners: Mapping[str, set[str]]) -> str | None:
    for key in (name, name.rsplit(".", 1)[-1]):
        paths = owners.get(key)
        if paths is not None:
            return next(iter(paths)) if len(paths) == 1 else None
    return None


def _frames(text: str, files: Mapping[str, str]) -> list[str]:
    """The repo files of a traceback's frames, outermost first."""
    paths = []
    for match in _FRAME.finditer(text):
        if path := _resolve_token(match.group(1) or match.group(2), files):
            paths.append(path)
    return paths


def rank_files(files: Mapping[str, str], query: str) -> list[tuple[str, float]]:
    """Every file of ``files`` with its relevance to ``query``, best first, ties by path.

    See the module docstring for the signals and their order. Scores are rounded to
    4 decimals; only their order is meant to be relied on.
    """
    symbols = _all_symbols(files)
    scores = dict.fromkeys(files, 0.0)
    for i, path in enumerate(_referenced(query, files, symbols)):
        scores[path] += _REFERENCED - min(i, 9)
    if frames := _frames(query, files):
        scores[frames[-1]] += _INNERMOST_FRAME
    named = _named_identifiers(query)
    for path, found in symbols.items():
        hits = {s.name for s in found if _is_named(s.name, named)}
        scores[path] += _SYMBOL_HIT * min(len(hits), _MAX_SYMBOL_HITS)
    for path, overlap in _overlaps(files, symbols, query).items():
        scores[path] += overlap * (_TEST_OWN if is_test_file(path) else 1.0)
    scores = _share_with_tests(scores)
    ranked = [(path, round(score, 4)) for path, score in scores.items()]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def _named_identifiers(query: str) -> set[str]:
    """Identifiers written in the query that look like code, not prose."""
    names = set()
    for match in _IDENT.finditer(query):
        name = match.group().rstrip(".")
        in_code = query[match.end() : match.end() + 1] == "(" or "." in name
        if in_code or "_" in name or any(c.isupper() for c in name[1:]) or name[0].isupper():
            names.add(name)
            names.update(name.split("."))
    return names


def _is_named(name: str, named: set[str]) -> bool:
    last = name.rsplit(".", 1)[-1]
    return len(last) >= 3 and (name in named or last in named)


def _overlaps(
    files: Mapping[str, str], symbols: Mapping[str, Iterable[Symbol]], query: str
) -> dict[str, float]:
    wanted = set(split_words(query))
    if not wanted:
        return {}
    path_words = {p: set(split_words(p.rsplit(".", 1)[0])) & wanted for p in files}
    symbol_words = {
        p: set(split_words(" ".join(s.name for s in symbols[p]))) & wanted for p in files
    }
    frequency: dict[str, int] = defaultdict(int)
    for path in files:
        for word in path_words[path] | symbol_words[path]:
            frequency[word] += 1
    total = len(files)
    weight = {w: math.log(1 + total / n) for w, n in sorted(frequency.items())}
    out = {}
    for path in files:
        in_path = sum(2 * weight[w] for w in sorted(path_words[path]))
        in_symbols = sum(weight[w] for w in sorted(symbol_words[path] - path_words[path]))
        out[path] = in_path + in_symbols
    return out


def _share_with_tests(scores: dict[str, float]) -> dict[str, float]:
    """Each test file plus a share of its source file's score, never lifted above it."""
    by_stem: dict[str, float] = defaultdict(float)
    for path, score in scores.items():
        if not is_test_file(path):
            stem = PurePosixPath(path).name.split(".", 1)[0]
            by_stem[stem] = max(by_stem[stem], score)
    out = dict(scores)
    for path, own in scores.items():
        source = by_stem.get(_tested_stem(path) or "", 0.0)
        if source:
            out[path] = min(own + _TEST_SHARE * source, max(own, source - 0.01))
    return out


def _tested_stem(path: str) -> str | None:
    """``invoice`` for ``test_invoice.py``, ``invoice_test.py``, ``invoice.test.js``."""
    name = PurePosixPath(path).name
    for stem in (name.split(".", 1)[0], name.rsplit(".", 1)[0]):
        if match := _TEST_NAME.match(stem):
            return match.group("a") or match.group("b") or match.group("c")
    return None


def repo_map(files: Mapping[str, str], query: str, budget_chars: int = 6000) -> str:
    """The files ranked against ``query``, each with its symbols' signatures, as text.

    Best files first; methods indented under their class. Symbols take at most three
    quarters of ``budget_chars``; after that, files are listed by path alone while room
    remains, and a last line ``... and N more files`` counts the rest. The text never
    exceeds ``budget_chars`` (``""`` when not even that last line fits) and has no
    trailing newline.
    """
    ranked = [path for path, _ in rank_files(files, query)]
    symbols = _all_symbols(files)
    reserve = len(f"... and {len(ranked)} more files") + 1
    symbol_budget = budget_chars * 3 // 4
    lines: list[str] = []
    used = 0
    with_symbols = True
    shown = 0
    for path in ranked:
        if used + len(path) + 1 + reserve > budget_chars:
            break
        lines.append(path)
        used += len(path) + 1
        shown += 1
        if with_symbols:
            block = [_symbol_line(s) for s in symbols[path]]
            fitting = _fit(block, min(symbol_budget, budget_chars - reserve) - used)
            lines.extend(fitting)
            used += sum(len(line) + 1 for line in fitting)
            with_symbols = len(fitting) == len(block)
    if shown < len(ranked):
        lines.append(f"... and {len(ranked) - shown} more files")
    text = "\n".join(lines)
    return text if len(text) <= budget_chars else ""  # a budget too small for one line


def _symbol_line(symbol: Symbol) -> str:
    indent = "    " if symbol.kind == "method" else "  "
    text = symbol.signature
    if len(text) > _SIGNATURE_CHARS:
        text = text[: _SIGNATURE_CHARS - 3] + "..."
    return indent + text


def _fit(block: list[str], room: int) -> list[str]:
    """``block`` whole when it fits in ``room``, else its head and a ``... N more`` line."""
    if sum(len(line) + 1 for line in block) <= room:
        return block
    out: list[str] = []
    used = 0
    for i, line in enumerate(block):
        more = f"  ... {len(block) - i} more symbols"
        if used + len(line) + 1 + len(more) + 1 > room:
            return [*out, more] if used + len(more) + 1 <= room else out
        out.append(line)
        used += len(line) + 1
    return out
