"""Probe inputs made from a task's examples, and choosing among candidates by agreement.

Passing the task's few examples does not pin a function down: a small model's
first answer often passes them and is still wrong. Candidates that pass the same
examples can still be told apart by running them on *more* inputs and comparing
what they return: independent samples that are right agree with each other, and
wrong ones tend to be wrong in different ways (the idea behind CodeT and
MBR-exec). Nobody needs to know the right outputs for these inputs; only the
agreement counts.

The inputs are the examples' own arguments, varied one at a time (``n + 1``,
the list reversed, the string without its first letter, ...): deterministic,
no model call, and of the types the function takes. Everything here is pure;
the program that runs the calls is the language adapter's
(:meth:`~codeagent.tools.languages.LanguageAdapter.probe_program`), and the
sampling coder runs it in the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import re
from collections.abc import Sequence
from typing import Any

from codeagent.tools.languages.base import PROBE_MARK

__all__ = [
    "PROBE_MARK",
    "agreement",
    "choose",
    "consistent",
    "parse_probe_output",
    "probe_calls",
    "settled",
    "signature_calls",
]

_MAX_INT = 10**6
_BUILTINS = frozenset(dir(builtins))


def probe_calls(examples: Sequence[tuple[str, str]], limit: int = 24) -> list[str]:
    """Calls of the examples' function on varied arguments, as Python source.

    Each example whose arguments are all literals yields calls with one
    argument varied; the examples take turns, so each is represented. The
    examples' own calls are not repeated.
    """
    per_example = [_varied_calls(expr) for expr, _ in examples]
    seen = {_normal(expr) for expr, _ in examples}
    calls: list[str] = []
    for round_ in range(max((len(v) for v in per_example), default=0)):
        for variants in per_example:
            if round_ < len(variants) and variants[round_] not in seen:
                seen.add(variants[round_])
                calls.append(variants[round_])
    return calls[:limit]


def signature_calls(task: str, limit: int = 16) -> list[str]:
    """Probe calls for a task that shows no example: made from its function's signature.

    The task's last ``def`` (the function asked for; earlier ones are helpers it
    shows) is called on values of each parameter's type, from its annotation, else
    guessed from its name (``s`` a string, ``n`` an int, ``lst`` a list of ints), then
    varied one argument at a time as :func:`probe_calls` varies an example's. A value
    a function is not meant to take makes candidates raise, which does not count
    against their agreement (:func:`consistent`). Empty when the task has no ``def``
    or a parameter's type cannot be guessed.
    """
    found = _last_signature(task)
    if found is None:
        return []
    name, params = found
    values = [_seed_value(annotation, param) for param, annotation in params]
    if any(v is _UNKNOWN for v in values):
        return []
    base = f"{name}({', '.join(map(repr, values))})"
    return [base, *probe_calls([(base, "")], limit - 1)]


def parse_probe_output(stdout: str, count: int) -> list[str] | None:
    """The outcomes a probe program printed; ``None`` when it did not get that far."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(PROBE_MARK):
            try:
                outcomes = json.loads(line[len(PROBE_MARK) :])
            except json.JSONDecodeError:
                return None
            if isinstance(outcomes, list) and len(outcomes) == count:
                return [str(o) for o in outcomes]
            return None
    return None


def agreement(a: Sequence[str] | None, b: Sequence[str] | None) -> int:
    """On how many probes two candidates gave the same outcome (0 when one has none)."""
    if a is None or b is None:
        return 0
    return sum(x == y for x, y in zip(a, b, strict=False))


def settled(outcomes: Sequence[Sequence[str] | None], needed: int) -> bool:
    """True when ``needed`` of these candidates agree on every probe (:func:`consistent`)."""
    if needed <= 1:
        return bool(outcomes)
    found = [o for o in outcomes if o is not None]
    return any(sum(consistent(mine, other) for other in found) >= needed for mine in found)


def consistent(a: Sequence[str], b: Sequence[str]) -> bool:
    """True when two candidates' outcomes agree wherever both returned a value.

    A probe on which one of them raised (or timed out: ``!Name``) does not count
    against them: a varied input may be one the function is not meant to take
    (``n = 0``), and what it does then is not part of the task. They must still both
    return, and agree, on at least half of the probes (or on all: identical lists).
    """
    if list(a) == list(b):
        return True
    both = [(x, y) for x, y in zip(a, b, strict=False) if not _raised(x) and not _raised(y)]
    return all(x == y for x, y in both) and len(both) * 2 >= max(len(a), len(b))


def _raised(outcome: str) -> bool:
    return outcome.startswith("!")


def choose(outcomes: Sequence[Sequence[str] | None]) -> int:
    """The index of the candidate that agrees most with the others; on a tie, the one
    raising on fewest probes (agreeing candidates may differ only where one of them
    raised: ``transpose([])`` failing in one and returning ``[]`` in the other), then
    the earliest."""
    scores = [
        sum(agreement(mine, other) for j, other in enumerate(outcomes) if j != i)
        for i, mine in enumerate(outcomes)
    ]
    raised = [sum(map(_raised, mine or ())) for mine in outcomes]
    return max(range(len(scores)), key=lambda i: (scores[i], -raised[i], -i))


def _normal(expr: str) -> str:
    try:
        return ast.unparse(ast.parse(expr, mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return expr


def _varied_calls(expr: str) -> list[str]:
    """``f(args)`` with one literal argument at a time replaced by each of its variants."""
    try:
        tree = ast.parse(expr, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = _literal_call(tree)
    if found is None:
        return []
    call, values = found
    wrapper = _order_free_wrapper(tree, call)
    out = []
    for position, value in enumerate(values):
        for variant in _variants(value):
            changed = [*values]
            changed[position] = variant
            args = changed[: len(call.args)]
            kwargs = zip((k.arg for k in call.keywords), changed[len(call.args) :], strict=True)
            text = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs)])
            probe = f"{ast.unparse(call.func)}({text})"
            out.append(f"{wrapper}({probe})" if wrapper else probe)
    return out


_ORDER_FREE = frozenset({"set", "frozenset", "sorted"})


def _order_free_wrapper(tree: ast.expr, call: ast.Call) -> str | None:
    """``set``, ``frozenset`` or ``sorted`` when the example compares ``call``'s result
    through it (``set(f(x)) == {...}``): the order of the result is then not part of
    the task, and the probes keep the wrapper so that order does not split candidates."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ORDER_FREE
            and len(node.args) == 1
            and not node.keywords
            and node.args[0] is call
        ):
            return node.func.id
    return None


def _literal_call(tree: ast.expr) -> tuple[ast.Call, list[Any]] | None:
    """The call of a named function with literal arguments, and their values: ``tree``
    itself, or inside an assertion-style example that wraps the call
    (``math.isclose(f(10), 4188.79)``, ``set(f([1, 2]))``, ``abs(f(2) - 0.5) < 1e-6``)
    the first call of a function that is not a builtin."""
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    own = [n for n in calls if getattr(n.func, "id", "") not in _BUILTINS]
    if not own:  # (ast.walk goes breadth first: a direct call of the task's comes first)
        return None
    call = own[0]
    try:
        values = [ast.literal_eval(n) for n in [*call.args, *(k.value for k in call.keywords)]]
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None
    return call, values


def _variants(value: Any) -> list[Any]:
    """Values of the same type near ``value``, deduplicated, ``value`` itself left out."""
    found: list[Any]
    if isinstance(value, bool):
        found = [not value]
    elif isinstance(value, int):
        found = [value + 1, value - 1, 0, 1, -value, value * 2, value // 2]
        found = [v for v in found if abs(v) <= _MAX_INT]
    elif isinstance(value, float):
        found = [value + 0.5, -value, 0.0, value * 2]
    elif isinstance(value, str):
        found = ["", value[::-1], value[1:], value[:-1], value + value[:1], value.swapcase()]
    elif isinstance(value, list | tuple):
        kind = type(value)
        items = list(value)
        found = [kind(v) for v in ([], items[::-1], items[1:], items[:-1], items + items[:1])]
        if items:
            found += [kind([first, *items[1:]]) for first in _variants(items[0])[:2]]
        with contextlib.suppress(TypeError):  # mixed types do not sort
            found.append(kind(sorted(items)))
    elif isinstance(value, dict):
        items = list(value.items())
        found = [{}, dict(items[1:]), dict(items[::-1])]
    else:
        found = []
    unique: list[Any] = []
    for v in found:
        if repr(v) != repr(value) and all(repr(v) != repr(u) for u in unique):
            unique.append(v)
    return unique


_UNKNOWN = object()
_BY_TYPE: dict[str, Any] = {
    "int": 5,
    "float": 2.5,
    "str": "hello world",
    "bool": True,
    "list": [3, 1, 4, 1, 5],
    "tuple": (3, 1, 4),
    "dict": {"a": 1, "b": 2},
}
_ITEMS: dict[str, Any] = {"int": [3, 1, 4, 1, 5], "float": [1.5, 2.0, 3.5], "str": ["ab", "c"]}
_STR_NAMES = frozenset({"s", "string", "text", "txt", "word", "name", "sentence", "line", "c"})
_INT_NAMES = frozenset({"n", "k", "m", "x", "y", "a", "b", "num", "number", "base", "i", "p"})
_LIST_NAMES = ("lst", "arr", "array", "list", "nums", "numbers", "values", "items", "l")


def _last_signature(task: str) -> tuple[str, list[tuple[str, ast.expr | None]]] | None:
    """The name and ``(parameter, annotation)`` pairs of the task's last ``def``."""
    heads = re.findall(r"^def\s+[A-Za-z_]\w*\s*\(.*?\)\s*(?:->[^:]*)?:", task, re.M | re.S)
    if not heads:
        return None
    try:
        func = ast.parse(heads[-1] + " ...").body[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(func, ast.FunctionDef) or func.args.vararg or func.args.kwarg:
        return None
    params = [*func.args.posonlyargs, *func.args.args]
    return func.name, [(a.arg, a.annotation) for a in params]


def _seed_value(annotation: ast.expr | None, param: str) -> Any:
    """A value for a parameter: by its annotation (``int``, ``list[str]``, ``List[int]``),
    else by its name; ``_UNKNOWN`` when neither tells."""
    if annotation is not None:
        text = ast.unparse(annotation).replace("typing.", "")
        head, _, inner = text.partition("[")
        head = head.strip().lower()
        if head in ("list", "sequence", "iterable") and inner:
            return list(_ITEMS.get(inner.rstrip("]").strip(), _BY_TYPE["list"]))
        return _BY_TYPE.get(head, _UNKNOWN)
    name = param.lower()
    if name in _STR_NAMES:
        return _BY_TYPE["str"]
    if name in _INT_NAMES:
        return _BY_TYPE["int"]
    if name.startswith(_LIST_NAMES) or name.endswith("s"):
        return list(_BY_TYPE["list"])
    return _UNKNOWN
