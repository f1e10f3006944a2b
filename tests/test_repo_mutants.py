"""Mutants: one small change inside one function, importable, spread, deterministic."""

from __future__ import annotations

import difflib
from typing import Any

import pytest

from codeagent.tools.repo.mutants import Mutant, mutants

SHOP = '''"""A shop."""
LIMIT = 10  # module level: never changed


def total(items):
    """The sum of the prices."""
    s = 0
    for price in items:
        s += price  # keep this comment
    return s


def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


class Cart:
    FREE = True

    def is_empty(self):
        return len(self.items) == 0

    def halves(self, n):
        return n * 2 // 4
'''


def _load(text: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(text, "shop.py", "exec"), namespace)
    return namespace


def _changed_lines(a: str, b: str) -> list[str]:
    diff = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
    return [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]


def test_each_mutant_is_one_small_change_that_still_imports() -> None:
    found = mutants("shop.py", SHOP, limit=50)

    assert len(found) >= 12
    for mutant in found:
        assert mutant.path == "shop.py" and mutant.text != SHOP
        changed = _changed_lines(SHOP, mutant.text)
        assert len(changed) == 2, (mutant.description, changed)  # one line out, one in
        assert changed[0][1:].strip() != changed[1][1:].strip()
        assert f"line {mutant.line}" in mutant.description
        assert SHOP.splitlines()[mutant.line - 1] == changed[0][1:]
        namespace = _load(mutant.text)  # importable: every name is still there
        assert {"total", "clamp", "Cart", "LIMIT"} <= set(namespace)
    assert len({m.text for m in found}) == len(found)


def test_the_kinds_of_change() -> None:
    texts = [m.text for m in mutants("shop.py", SHOP, limit=50)]
    lines = {line for text in texts for line in _changed_lines(SHOP, text) if line[0] == "+"}

    assert "+        s -= price  # keep this comment" in lines  # + and - swapped
    assert "+    return None" in lines  # a result dropped
    assert "+    if (x >= lo):" in lines  # a comparison flipped
    assert "+    if not (x < lo):" in lines  # a condition negated
    assert "+        return (len(self.items) != 0)" in lines
    assert "+        return len(self.items) == 1" in lines  # off by one
    assert "+        return (n // 2) // 4" in lines  # * and // swapped
    assert "+        return (n * 2 * 4)" in lines


def test_a_mutant_really_behaves_differently() -> None:
    by_description = {m.description: m for m in mutants("shop.py", SHOP, limit=50)}

    dropped = _load(by_description["`total` returns None instead of `s` (line 10)"].text)
    assert _load(SHOP)["total"]([1, 2]) == 3
    assert dropped["total"]([1, 2]) is None
    flipped = _load(by_description["`x < lo` became `x >= lo` in `clamp` (line 14)"].text)
    assert flipped["clamp"](5, 0, 10) == 0


def test_they_are_spread_over_the_functions_and_sorted_by_line() -> None:
    four = mutants("shop.py", SHOP, limit=4)

    assert [m.line for m in four] == sorted(m.line for m in four)
    owners = {m.description.split("`")[1] for m in four if "returns None" in m.description}
    assert owners == {"total", "clamp", "Cart.is_empty", "Cart.halves"}  # one each first
    assert four == mutants("shop.py", SHOP, limit=4)  # deterministic
    assert mutants("shop.py", SHOP, limit=0) == []


def test_only_function_bodies_change() -> None:
    source = (
        "import functools\n"
        "FLAG = True\n"
        "if FLAG == True:\n"
        "    X = 1 + 2\n"
        "\n"
        "\n"
        "@functools.lru_cache(maxsize=1 + 1)\n"
        "def f(a=1 - 1, b: bool = False) -> int:\n"
        "    return a\n"
        "\n"
        "\n"
        "class C:\n"
        "    ON = 3 > 2\n"
    )

    found = mutants("m.py", source, limit=50)

    assert [m.line for m in found] == [9]
    assert found[0].description == "`f` returns None instead of `a` (line 9)"


def test_booleans_loops_and_nested_functions() -> None:
    source = (
        "def outer(n):\n"
        "    def inner():\n"
        "        return True\n"
        "    while n > 0:\n"
        "        n = n - 1\n"
        "    return inner\n"
    )

    found = {m.description for m in mutants("m.py", source, limit=50)}

    assert "`True` became `False` in `outer.inner` (line 3)" in found
    assert "the condition `n > 0` negated in `outer` (line 4)" in found
    assert "`n - 1` became `n + 1` in `outer` (line 5)" in found


def test_a_generator_keeps_its_returns() -> None:
    source = "def g(n):\n    yield n\n    return n + 1\n"

    found = mutants("g.py", source, limit=50)

    assert found and not any("returns None" in m.description for m in found)


def test_positions_after_non_ascii_text_on_the_line() -> None:
    source = 'def f(name, x):\n    return name == "é→ü" and x > 1  # ünï\n'

    found = mutants("u.py", source, limit=50)

    texts = [m.text for m in found]
    assert 'def f(name, x):\n    return name == "é→ü" and (x <= 1)  # ünï\n' in texts
    assert 'def f(name, x):\n    return name == "é→ü" and x > 2  # ünï\n' in texts
    for text in texts:
        compile(text, "u.py", "exec")


def test_only_the_given_lines() -> None:
    found = mutants("shop.py", SHOP, limit=50, lines={14, 15})

    assert found and {m.line for m in found} == {14, 15}
    assert mutants("shop.py", SHOP, limit=50, lines=set()) == []


@pytest.mark.parametrize(
    "source",
    ["def broken(:\n", "X = 1\nY = X > 0\n", "", "class A:\n    B = 1 + 1\n"],
)
def test_nothing_to_mutate(source: str) -> None:
    assert mutants("m.py", source) == []


def test_a_mutant_is_a_plain_record() -> None:
    mutant = mutants("shop.py", SHOP, limit=1)[0]

    assert isinstance(mutant, Mutant)
    assert (mutant.path, mutant.line) == ("shop.py", 10)


def test_f_string_insides_are_left_alone() -> None:
    source = 'def f(a, b):\n    return f"{a + b}!" + "x"\n'

    found = [m.text for m in mutants("m.py", source, limit=50)]

    assert "def f(a, b):\n    return None\n" in found
    assert "def f(a, b):\n    return (f'{a + b}!' - 'x')\n" in found
    assert len(found) == 2


def test_a_long_expression_is_quoted_where_the_mutant_changes_it() -> None:
    source = "def new_id(tasks):\n    return max((t.id for t in tasks), default=0) + 1\n"

    found = {m.description for m in mutants("s.py", source, limit=50)}

    # both sides cut at 40 characters would read the same; quoted from the change they differ
    assert "`... default=0) + 1` became `... default=0) - 1` in `new_id` (line 2)" in found
