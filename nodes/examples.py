"""Pure extraction of the worked examples a task text gives: ``(call, expected)`` pairs.

Small models gain most from tests that are ground truth, and the examples in a
task's docstring are exactly that. Recognised forms::

    >>> f(1)                         doctest: the expected value on the next line(s)
    f(1) == 2   f(1) -> 2   f(1) => 2   f(1) ==> 2   f(1) ➞ 2   f(1) = 2
    f(1)  # returns 2                 f(1) should return 2
    Input: arr = [1, 2], k = 1       "Input:" then "Output:" (named or positional
    Output: [2]                       arguments; the function is the task's last def)
    For s = "ab", c = "a", the result should be ('b', False)
    assert math.isclose(f(1), 0.5)   any assert that calls the task's function: as written

Pairs that are not closed Python expressions (``fib(n) -> fib(n-1) + fib(n-2)``
is a definition), whose argument names do not fit the function, that call a
function the task does not define, or that give one call two different results
(formulas in prose: ``tri(3) = tri(2) + tri(1)``) are dropped.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from collections import Counter

from codeagent.tools.languages.python_source import EXAMPLE_MODULES, called_names

__all__ = ["task_examples", "task_functions", "task_signature"]


_BUILTIN_VALUES = frozenset({"int", "float", "str", "bool", "list", "tuple", "dict", "set"})
"""Builtin types an example may pass as values (``isinstance(f(1), str)``)."""
_JSON_WORDS = {"true": "True", "false": "False", "null": "None"}


def task_examples(task: str) -> list[tuple[str, str]]:
    """``(expression, expected)`` pairs the task text gives as examples, deduplicated."""
    signature = task_signature(task)
    pairs = _doctest_pairs(task) + _arrow_pairs(task) + _assert_pairs(task)
    if signature is not None:
        pairs += _input_output_pairs(task, signature) + _for_pairs(task, signature)
    known = _defined(task)
    seen: set[tuple[str, str]] = set()
    valid = []
    for expr, expected in pairs:
        expr, expected = _code_only(expr), _code_only(expected)
        key = (expr, _JSON_WORDS.get(expected, expected))
        if key in seen or not _is_expression(key[0]) or not _is_expression(key[1]):
            continue
        if not _closed(key[0], known) or not _closed(key[1], known):
            continue
        seen.add(key)
        valid.append(key)
    calls = Counter(expr for expr, _ in valid)
    return [pair for pair in valid if calls[pair[0]] == 1]


def task_signature(task: str) -> tuple[str, list[str]] | None:
    """The name and parameter names of the task's last ``def`` (the function asked for)."""
    found = None
    for match in re.finditer(r"^[ \t]*def\s+([A-Za-z_]\w*)\s*\(([^)]*)\)", task, re.M):
        try:
            tree = ast.parse(f"def {match.group(1)}({match.group(2)}): pass")
        except SyntaxError:
            continue
        fn = tree.body[0]
        assert isinstance(fn, ast.FunctionDef)
        found = (fn.name, [a.arg for a in fn.args.posonlyargs + fn.args.args])
    return found


def _code_only(text: str) -> str:
    """``text`` without a trailing ``# comment`` (which would swallow the test's brackets)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text.strip()
    for token in tokens:
        if token.type == tokenize.COMMENT and token.start[0] == 1:
            return text[: token.start[1]].strip()
    return text.strip()


def _doctest_pairs(task: str) -> list[tuple[str, str]]:
    lines = task.splitlines()
    pairs = []
    for i, line in enumerate(lines):
        at = line.find(">>> ")
        if at == -1:
            continue
        stripped = line[at:].strip()  # also "... both ends. >>> f(x)" written inline
        expected = []
        for nxt in lines[i + 1 :]:
            text = nxt.strip()
            if not text or text.startswith(">>>") or text.startswith('"""'):
                break
            expected.append(text)
        if expected:
            pairs.append((stripped[4:], " ".join(expected)))
        elif (pair := _equality(stripped[4:])) is not None:
            pairs.append(pair)  # ">>> f(1) == 2" with no output line
    return pairs


_ASSERT = re.compile(r"^\s*(?:>>>\s*)?assert\s+(.+?)\s*$")
_BOOLEAN_CALLS = {"isclose", "isinstance", "all", "any", "callable", "issubclass", "bool"}


def _assert_pairs(task: str) -> list[tuple[str, str]]:
    """Any ``assert`` line of the task that calls one of its functions, run as written.

    ``assert f(1) == 2`` is the pair ``("f(1)", "2")``; any other assertion,
    ``assert math.isclose(f(10), 4188.79, rel_tol=0.001)`` or ``assert abs(f(x) - y) <
    1e-6``, is ``(EXPR, "True")`` (``bool(EXPR)`` when EXPR need not be a bool), and
    its failure message, if any, is dropped.
    """
    own = task_functions(task)
    pairs = []
    for line in task.splitlines():
        test = _python_assert(line)
        if test is None:
            continue
        called = called_names(test)
        if not (called & own if own else called - set(dir(builtins))):
            continue
        if (pair := _equality(ast.unparse(test))) is not None:
            pairs.append(pair)
        elif _is_boolean(test):
            pairs.append((ast.unparse(test), "True"))
        else:
            pairs.append((f"bool({ast.unparse(test)})", "True"))
    return pairs


def _python_assert(line: str) -> ast.expr | None:
    """The tested expression of ``line`` when it is a Python ``assert`` statement."""
    match = _ASSERT.match(line)
    if not match:
        return None
    try:
        statement = ast.parse("assert " + _code_only(match.group(1))).body[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return statement.test if isinstance(statement, ast.Assert) else None


def _is_boolean(node: ast.expr) -> bool:
    """True when ``node`` evaluates to a bool whatever the function returns."""
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in _BOOLEAN_CALLS
    return False


def _equality(text: str) -> tuple[str, str] | None:
    """``f(1) == 2`` as the pair ``("f(1)", "2")``; ``None`` for anything else."""
    try:
        tree = ast.parse(_code_only(text), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if (
        isinstance(tree, ast.Compare)
        and len(tree.ops) == 1
        and isinstance(tree.ops[0], ast.Eq)
        and isinstance(tree.left, ast.Call)
    ):
        return ast.unparse(tree.left), ast.unparse(tree.comparators[0])
    return None


_ARROW = re.compile(
    r"^\s*(?:[-*]\s*)?(?:for example:?\s*|assert\s+|for\s+)?([A-Za-z_]\w*\(.*\))\s*"
    r"(?:==>|==|->|=>|➞|→|=(?!=)|#\s*(?:returns?|=+>|->)|should return|returns)\s*(.+?)\s*$",
    re.IGNORECASE,
)


def _arrow_pairs(task: str) -> list[tuple[str, str]]:
    pairs = []
    for line in task.splitlines():
        if _python_assert(line) is not None:
            continue  # a real assert statement: an assertion example (_assert_pairs)
        match = _ARROW.match(line)
        if match:
            pairs.append((match.group(1), _final_value(match.group(2).rstrip(".,;"))))
    return pairs


def _final_value(text: str) -> str:
    """The value an arrow example ends with, without worked steps or a remark after it.

    ``19 - 5 - 6 = 8`` gives ``8``; ``'No' (the name must start with a letter)``
    gives ``'No'``; anything else is returned as it is.
    """
    if _is_expression(text):
        return text
    steps = re.split(r"(?<![=!<>])=(?!=)", text)
    if len(steps) > 1 and _is_expression(steps[-1].strip()):
        return steps[-1].strip()
    remark = re.match(r"^(.+?)\s*\([^()]*\)$", text)
    if remark and _is_expression(remark.group(1)):
        return remark.group(1)
    return text


_INPUT = re.compile(r"^\s*(?:example\s*\d*\s*:?\s*)?input\s*:\s*(.*)$", re.IGNORECASE)
_OUTPUT = re.compile(r"^\s*output\s*:\s*(.+?)\s*$", re.IGNORECASE)
_NAMED_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s*[:=]\s*(.+?)\s*,?\s*$")


def _input_output_pairs(task: str, signature: tuple[str, list[str]]) -> list[tuple[str, str]]:
    """``Input: a = 1, b = 2`` (or one ``name : value`` per line) followed by ``Output: X``."""
    lines = task.splitlines()
    pairs = []
    for i, line in enumerate(lines):
        match = _INPUT.match(line)
        if not match:
            continue
        args = [match.group(1).strip()] if match.group(1).strip() else []
        for nxt in lines[i + 1 : i + 12]:
            out = _OUTPUT.match(nxt)
            if out:
                call = _call(signature, args)
                if call is not None:
                    pairs.append((call, out.group(1).rstrip(".,;")))
                break
            if _INPUT.match(nxt):
                break
            if nxt.strip():
                named = _NAMED_LINE.match(nxt)
                args.append(f"{named.group(1)}={named.group(2)}" if named else nxt.strip())
    return pairs


_FOR = re.compile(
    r"^\s*for\s+(.+?),?\s+the\s+(?:result|output|answer)\s+(?:should\s+be|will\s+be|is)"
    r"\s*:?\s*(.+?)\s*$",
    re.IGNORECASE,
)


def _for_pairs(task: str, signature: tuple[str, list[str]]) -> list[tuple[str, str]]:
    """``For s = "abcde", c = "ae", the result should be ('bcd',False)``."""
    pairs = []
    for line in task.splitlines():
        match = _FOR.match(line)
        if match and "=" in match.group(1):
            call = _leading_call(signature, match.group(1))
            if call is not None:
                pairs.append((call, match.group(2).rstrip(".,;")))
    return pairs


def _leading_call(signature: tuple[str, list[str]], text: str) -> str | None:
    """The call made of the longest run of ``name = value`` parts ``text`` starts with.

    ``N = 150, the sum of digits will be 6`` gives ``f(N=150)``.
    """
    cuts = [m.start() for m in re.finditer(",", text)] + [len(text)]
    for cut in reversed(cuts):
        call = _call(signature, [text[:cut]])
        if call is not None:
            return call
    return None


def _call(signature: tuple[str, list[str]], args: list[str]) -> str | None:
    """``name(args)``: by keyword when the names fit the function, else by position.

    ``None`` when the arguments do not parse or fit neither way.
    """
    name, params = signature
    text = ", ".join(a.rstrip(",") for a in args)
    try:
        tree = ast.parse(f"{name}({text})", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    call = tree.body
    if not isinstance(call, ast.Call) or not call.args + call.keywords:
        return None
    names = [k.arg for k in call.keywords]
    if None in names:  # **kwargs
        return None
    if not call.keywords or set(names) <= set(params):
        return ast.unparse(call)
    if len(call.args) + len(call.keywords) == len(params):
        values = [*call.args, *(k.value for k in call.keywords)]
        return ast.unparse(ast.Call(func=call.func, args=values, keywords=[]))
    return None


def task_functions(task: str) -> set[str]:
    """Names of the functions the task text defines (``def f(...)`` lines)."""
    return set(re.findall(r"^[ \t]*def\s+([A-Za-z_]\w*)", task, re.M))


def _defined(task: str) -> set[str] | None:
    """Names an example may call: the task's functions and the builtins; ``None``: any."""
    defs = task_functions(task)
    return defs | set(dir(builtins)) if defs else None


def _closed(text: str, known: set[str] | None = None) -> bool:
    """True when every name in the expression is a called function: ``f(g([1]), 2)``.

    ``f(n)`` or ``f(n-1) + f(n-2)`` use free variables: definitions, not examples.
    With ``known``, only those functions may be called.
    """
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    modules = {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id in EXAMPLE_MODULES
    }
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    return all(
        id(n) in modules
        or (id(n) in called and (known is None or n.id in known))
        or (id(n) not in called and n.id in _BUILTIN_VALUES)
        for n in names
    )


def _is_expression(text: str) -> bool:
    try:
        compile(text, "<example>", "eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
