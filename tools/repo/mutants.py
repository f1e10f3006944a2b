"""Deliberately broken copies of a Python module, to check that tests catch a broken code (pure).

A test that passes on today's code shows little until it fails on a wrong one: each
:class:`Mutant` is the module with one small change inside one function (a flipped
comparison, ``+`` for ``-``, a negated ``if``, ``return None``, ``True`` for ``False``,
a comparison's integer off by one). Only function bodies are changed (never module or
class level code, decorators or default values), so a mutant still imports; each one
is checked with ``compile()``. The changed text is spliced in at the node's position,
so the rest of the file (comments, layout) stays byte for byte.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from codeagent.tools.repo.symbols import parse_python

__all__ = ["Mutant", "mutants"]

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE,
    ast.LtE: ast.Gt,
    ast.Gt: ast.LtE,
    ast.GtE: ast.Lt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
}
# within one function the strongest mutants come first: a changed result is caught by
# any test that checks the result, an off-by-one only by a test at the boundary
_RETURN, _COMPARE, _ARITH, _NEGATE, _BOOL, _OFF_BY_ONE = range(6)
_SHOWN = 40  # characters of code quoted in a description
_CONTEXT = 12  # characters quoted before the first difference of a long change


@dataclass(frozen=True)
class Mutant:
    """One broken copy of a module.

    Attributes:
        path: The module's repo-relative path.
        description: What was changed, for a person (and a model) to read.
        text: The whole module with the change.
        line: The 1-based line of the change.
    """

    path: str
    description: str
    text: str
    line: int


@dataclass(frozen=True)
class _Change:
    kind: int
    owner: str
    node: ast.AST
    replacement: str
    description: str


def mutants(
    path: str, text: str, limit: int = 8, *, lines: Collection[int] | None = None
) -> list[Mutant]:
    """Up to ``limit`` mutants of the module ``text``, sorted by line.

    They are spread over the module's functions: each function gives its strongest
    change in turn (``return None`` first, then comparisons, arithmetic, negated
    conditions, booleans, off-by-one) before any gives a second. Deterministic.

    Args:
        path: The module's path (kept on each mutant and given to ``compile``).
        text: The module's source.
        limit: How many mutants at most.
        lines: Only change these 1-based lines (e.g. the lines the tests execute);
            None: any line.

    Returns:
        The mutants; ``[]`` for a module that does not parse or has no function.
    """
    tree = parse_python(text)
    if tree is None or limit <= 0:
        return []
    source = _Source(text)
    by_owner: dict[str, list[_Change]] = {}
    for change in _changes(tree, source):
        if lines is None or _line(change.node) in lines:
            by_owner.setdefault(change.owner, []).append(change)
    queues = [
        sorted(c, key=lambda c: (c.kind, _line(c.node), _col(c.node))) for c in by_owner.values()
    ]
    chosen: list[tuple[int, int, Mutant]] = []
    seen = {text}
    while queues and len(chosen) < limit:
        still: list[list[_Change]] = []
        for queue in queues:
            if len(chosen) == limit:
                break
            mutant = _next_valid(queue, path, source, seen)
            if mutant is not None:
                chosen.append(mutant)
                still.append(queue)
        queues = still
    return [m for _, _, m in sorted(chosen, key=lambda c: (c[0], c[1]))]


def _next_valid(
    queue: list[_Change], path: str, source: _Source, seen: set[str]
) -> tuple[int, int, Mutant] | None:
    """The first change of ``queue`` that compiles and is new (consumed from the queue)."""
    while queue:
        change = queue.pop(0)
        text = source.replace(change.node, change.replacement)
        if text in seen or not _compiles(text, path):
            continue
        seen.add(text)
        line = _line(change.node)
        return line, _col(change.node), Mutant(path, change.description, text, line)
    return None


def _compiles(text: str, path: str) -> bool:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _col(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0))


class _Source:
    """The module's text, addressed by ``ast`` positions (lines 1-based, columns in UTF-8 bytes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1].encode("utf-8")
        return self.starts[lineno - 1] + len(line[:col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(_line(node), _col(node))
        end_line = getattr(node, "end_lineno", None) or _line(node)
        end = self.offset(end_line, int(getattr(node, "end_col_offset", 0) or 0))
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def replace(self, node: ast.AST, replacement: str) -> str:
        start, end = self.span(node)
        return self.text[:start] + replacement + self.text[end:]


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method (nested ones too) with its qualified name, in source order."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        elif not isinstance(node, ast.Lambda):
            yield from _functions(node, prefix)


def _body_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``function``'s body, not of the functions and classes nested in it."""
    stack: list[ast.AST] = list(reversed(getattr(function, "body", [])))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield node
        if isinstance(node, ast.AnnAssign):  # an annotation is not run code
            children: list[ast.AST] = [node.target, *([node.value] if node.value else [])]
        elif isinstance(node, ast.JoinedStr):
            # f-string parts: positions inside them are unreliable before Python 3.12
            children = []
        else:
            children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))


def _changes(tree: ast.Module, source: _Source) -> Iterator[_Change]:
    for owner, function in _functions(tree):
        nodes = list(_body_nodes(function))
        generator = any(isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes)
        for node in nodes:
            yield from _node_changes(owner, node, source, generator=generator)


def _node_changes(
    owner: str, node: ast.AST, source: _Source, *, generator: bool
) -> Iterator[_Change]:
    where = f"in `{owner}` (line {_line(node)})"
    if isinstance(node, ast.Return) and node.value is not None and not generator:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            shown = _short(source.segment(node.value))
            yield _Change(
                _RETURN,
                owner,
                node.value,
                "None",
                f"`{owner}` returns None instead of `{shown}` (line {_line(node)})",
            )
    elif isinstance(node, ast.Compare):
        yield from _compare_changes(owner, node, source, where)
    elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
        new = ast.BinOp(left=node.left, op=_SWAP[type(node.op)](), right=node.right)
        yield _rewrite(_ARITH, owner, node, f"({ast.unparse(new)})", source, where)
    elif isinstance(node, ast.AugAssign) and type(node.op) in _SWAP:
        new_stmt = ast.AugAssign(target=node.target, op=_SWAP[type(node.op)](), value=node.value)
        yield _rewrite(_ARITH, owner, node, ast.unparse(new_stmt), source, where)
    elif isinstance(node, ast.If | ast.While):
        test = source.segment(node.test)
        yield _Change(
            _NEGATE,
            owner,
            node.test,
            f"not ({test})",
            f"the condition `{_short(test)}` negated {where}",
        )
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        flipped = str(not node.value)
        yield _Change(_BOOL, owner, node, flipped, f"`{node.value}` became `{flipped}` {where}")


def _compare_changes(
    owner: str, node: ast.Compare, source: _Source, where: str
) -> Iterator[_Change]:
    flip = _FLIP.get(type(node.ops[0]))
    if flip is not None:
        new = ast.Compare(left=node.left, ops=[flip(), *node.ops[1:]], comparators=node.comparators)
        yield _rewrite(_COMPARE, owner, node, f"({ast.unparse(new)})", source, where)
    for operand in [node.left, *node.comparators]:
        if (
            isinstance(operand, ast.Constant)
            and isinstance(operand.value, int)
            and not isinstance(operand.value, bool)
        ):
            shown = _short(source.segment(node))
            yield _Change(
                _OFF_BY_ONE,
                owner,
                operand,
                str(operand.value + 1),
                f"`{operand.value}` became `{operand.value + 1}` in `{shown}` {where}",
            )


def _rewrite(
    kind: int, owner: str, node: ast.AST, new: str, source: _Source, where: str
) -> _Change:
    shown = new.removeprefix("(").removesuffix(")") if new.startswith("(") else new
    before, after = _where_they_differ(source.segment(node), shown)
    return _Change(kind, owner, node, new, f"`{before}` became `{after}` {where}")


def _where_they_differ(before: str, after: str) -> tuple[str, str]:
    """Both codes quoted within :data:`_SHOWN` characters, from a little before the first
    character where they differ, so that a long expression's change stays in view."""
    old, new = " ".join(before.split()), " ".join(after.split())
    pairs = enumerate(zip(old, new, strict=False))
    same = next((i for i, (a, b) in pairs if a != b), min(len(old), len(new)))
    if max(len(old), len(new)) > _SHOWN and same > _CONTEXT:
        old, new = "..." + old[same - _CONTEXT :], "..." + new[same - _CONTEXT :]
    return _short(old), _short(new)


def _short(code: str) -> str:
    one_line = " ".join(code.split())
    return one_line if len(one_line) <= _SHOWN else one_line[: _SHOWN - 3] + "..."
