"""The bounded read step: the model asks to open a few files or symbols, and sees them.

Pure. :func:`parse_open_requests` reads what a model asked for (JSON, or one request
per line / in backticks, prose and code fences tolerated); :func:`render_opened` shows
the files or single symbols within a character budget.

Shown text format: a header line outside the fence names the request and the lines
shown, ``src/billing/invoice.py (lines 1-40 of 212)`` or
``src/billing/invoice.py::Invoice.total (lines 52-61 of 212)``, then the code verbatim in
a fenced block, so a model can copy lines into a SEARCH block without stripping a
margin, and count lines from the stated start. A file too big for its share is cut
after its head; a line in square brackets says how many lines were left out and which
symbols they define, so the model can ask for one of them.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from codeagent.tools.repo.paths import looks_like_path, resolve_path
from codeagent.tools.repo.symbols import Symbol, file_symbols

__all__ = ["parse_open_requests", "render_opened"]

_REQUEST = re.compile(r"[\w.\-/]+(?:::[A-Za-z_][\w.]*)?")
_IN_PROSE = re.compile(r"[\w.\-/]*[\w\-]\.[A-Za-z]\w{0,9}(?:::[A-Za-z_][\w.]*)?")
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
_OPEN_WORD = re.compile(r"^(?:open|read|show|file|files)\b[ \t]*:?[ \t]*", re.IGNORECASE)
_LINE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")
_LANGS = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
          ".ts": "typescript", ".tsx": "tsx", ".jsx": "jsx", ".json": "json", ".md": "markdown",
          ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".sh": "sh", ".cfg": "ini",
          ".ini": "ini"}  # fmt: skip
_MAX_OUTLINE = 12


def parse_open_requests(text: str, limit: int) -> list[str]:
    """The files and symbols a model's answer ``text`` asks to open, at most ``limit``.

    Reads JSON first (``{"open": ["src/x.py", "src/x.py::Invoice.total"]}`` or a bare list,
    also inside a code fence or after prose), else one request per line or in backticks
    (bullets, ``open:`` prefixes and quotes allowed; paths with an extension are picked
    out of prose lines). De-duplicated in order; ``path:12`` line suffixes are dropped.
    """
    found = _json_requests(text)
    if found is None:
        found = _line_requests(text)
    out: dict[str, None] = {}
    for item in found:
        clean = _clean(item)
        if clean and len(out) < max(limit, 0):
            out.setdefault(clean, None)
    return list(out)


def _clean(item: str) -> str:
    text = item.strip().strip("`'\"").strip()
    text = _LINE_SUFFIX.sub("", text.rstrip(".,;:)"))
    while text.startswith("./"):
        text = text[2:]
    return text if _REQUEST.fullmatch(text) else ""


def _json_requests(text: str) -> list[str] | None:
    for start, end in (("{", "}"), ("[", "]")):
        first, last = text.find(start), text.rfind(end)
        if first == -1 or last <= first:
            continue
        try:
            data = json.loads(text[first : last + 1])
        except ValueError:
            continue
        items = _json_items(data)
        if items is not None:
            return items
    return None


def _json_items(data: object) -> list[str] | None:
    """The strings of ``{"open": [...]}`` (or the one list a dict holds) or of a list."""
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        value = data.get("open", lists[0] if len(lists) == 1 else None)
        if value == [] and "open" in data:
            return []  # asked to open nothing
        return _json_items(value) if isinstance(value, list) else None
    if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        return list(data)
    return None


def _line_requests(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith(("```", "~~~")):
            continue
        quoted = re.findall(r"`([^`\n]+)`", line)
        if quoted:
            found.extend(q for q in quoted if _clean(q))
            continue
        bare = _OPEN_WORD.sub("", _BULLET.sub("", line).strip()).strip()
        if _clean(bare):
            found.append(bare)
        else:
            found.extend(m.group() for m in _IN_PROSE.finditer(line) if looks_like_path(m.group()))
    return found


def render_opened(
    files: Mapping[str, str], requests: Sequence[str], budget_chars: int
) -> tuple[str, list[str], list[str]]:
    """The text showing ``requests`` (``path`` or ``path::Symbol``) within ``budget_chars``.

    Returns:
        ``(text, opened, not_found)``: the text to show the model (see the module doc;
        requests not found are explained at its end with the closest existing names);
        the requests opened (shown, maybe cut), as resolved ``path`` / ``path::Symbol``;
        the requests as given that name no file or symbol. A request in neither list
        found no room left in the budget, which the text says.
    """
    shown: list[tuple[str, str, int, int]] = []  # (label, path, first line, last line)
    notes: list[str] = []
    not_found: list[str] = []
    for request in requests:
        found = _resolve(files, request)
        if isinstance(found, str):
            notes.append(found)
            not_found.append(request)
        elif found[0] not in [s[0] for s in shown]:
            shown.append(found)
    note_text = _bounded("\n".join(notes), budget_chars)
    room = budget_chars - len(note_text) - (2 if note_text and shown else 0)
    parts: list[str] = []
    opened: list[str] = []
    for i, (label, path, first, last) in enumerate(shown):
        share = (room - 2 * (len(shown) - i - 1)) // (len(shown) - i)
        part, visible = _render(label, path, files[path], first, last, share)
        if part:
            parts.append(part)
            room -= len(part) + 2
        if part and visible:
            opened.append(label)
    text = "\n\n".join(p for p in [*parts, note_text] if p)
    return text, opened, not_found


def _resolve(files: Mapping[str, str], request: str) -> tuple[str, str, int, int] | str:
    """``(label, path, first, last)`` for a request, or the note saying why it is not found."""
    name, _, symbol = request.strip().partition("::")
    path = resolve_path(name.strip(), files)
    if path is None:
        return f"[not found: {request}: no such file{_suggest(name, sorted(files))}]"
    total = len(files[path].splitlines())
    if not symbol:
        return path, path, 1, total
    symbols = file_symbols(path, files[path])
    match = _find_symbol(symbols, symbol)
    if match is None:
        names = [s.name for s in symbols]
        close = difflib.get_close_matches(symbol, names, n=3, cutoff=0.5)
        listed = ", ".join(names[:30]) or "no functions or classes"
        guess = f"; did you mean {', '.join(f'{path}::{c}' for c in close)}?" if close else ""
        return f"[not found: {request}: {path} defines {listed}{guess}]"
    return f"{path}::{match.name}", path, match.line, match.end_line


def _find_symbol(symbols: list[Symbol], name: str) -> Symbol | None:
    exact = [s for s in symbols if s.name == name]
    if exact:
        return exact[0]
    tail = [s for s in symbols if s.name.rsplit(".", 1)[-1] == name]
    return tail[0] if len(tail) == 1 else None


def _suggest(name: str, paths: list[str]) -> str:
    base = PurePosixPath(name).name
    alike = [p for p in paths if PurePosixPath(p).name == base]
    alike += [p for p in difflib.get_close_matches(name, paths, n=3, cutoff=0.5) if p not in alike]
    return f"; did you mean {', '.join(alike[:3])}?" if alike else ""


def _bounded(text: str, budget: int) -> str:
    """``text``, or its head and `` ...`` when longer than ``budget`` (``""`` for none)."""
    if len(text) <= budget:
        return text
    if budget < 8:
        return ""
    return text[: budget - 4].rstrip() + " ..."


def _render(
    label: str, path: str, text: str, first: int, last: int, budget: int
) -> tuple[str, bool]:
    """One request's header and fenced lines, cut after its head to fit ``budget``; and
    whether any of it is shown."""
    lines = text.splitlines()
    if not lines:
        return _bounded(f"{label} (empty file)", budget), True
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    opening = fence + _LANGS.get(PurePosixPath(path).suffix.lower(), "")
    body = lines[first - 1 : last]
    sizes = [0]
    for line in body:
        sizes.append(sizes[-1] + len(line) + 1)

    def header(count: int) -> str:
        return f"{label} (lines {first}-{first + count - 1} of {len(lines)})"

    def size(count: int) -> int:  # header, fences and the first ``count`` lines
        return len(header(count)) + len(opening) + len(fence) + 2 + sizes[count]

    if size(len(body)) <= budget:
        return "\n".join([header(len(body)), opening, *body, fence]), True
    symbols = [s for s in file_symbols(path, text) if first <= s.line <= last]
    count = max((n for n in range(len(body)) if size(n) <= budget), default=0)
    while count > 0:
        marker = _left_out(path, symbols, first + count, last)
        if size(count) + 1 + len(marker) <= budget:
            return "\n".join([header(count), opening, *body[:count], fence, marker]), True
        count -= 1
    note = f"{label} ({last - first + 1} lines, not shown: no room left in this answer)"
    return _bounded(note, budget), False


def _left_out(path: str, symbols: list[Symbol], start: int, last: int) -> str:
    """The marker after a cut block: how many lines were left out and what they define."""
    inside = [s for s in symbols if start <= s.line <= last]
    names = ", ".join(f"{s.name} (line {s.line})" for s in inside[:_MAX_OUTLINE])
    more = f" and {len(inside) - _MAX_OUTLINE} more" if len(inside) > _MAX_OUTLINE else ""
    defines = f"; they define {names}{more}; open {path}::Name to read one" if inside else ""
    return f"[{last - start + 1} lines left out: {start}-{last}{defines}]"


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(r) for r in runs), default=0)
