"""Probe inputs varied from examples, reading a probe program's outcomes, agreement (pure).

The program that runs the probes is the language adapter's: see test_language_python.py.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from codeagent.nodes.probes import (
    PROBE_MARK,
    agreement,
    choose,
    consistent,
    parse_probe_output,
    probe_calls,
    settled,
)


def test_each_argument_is_varied_alone_and_the_examples_take_turns() -> None:
    calls = probe_calls([("f(2, 'ab')", "1"), ("f(n=0, s='')", "2")], limit=100)

    assert calls[:4] == ["f(3, 'ab')", "f(n=1, s='')", "f(1, 'ab')", "f(n=-1, s='')"]
    assert "f(2, '')" in calls and "f(2, 'ba')" in calls  # the string varied, n kept
    assert "f(n=0, s='')" not in calls and "f(2, 'ab')" not in calls  # no example repeated
    assert len(calls) == len(set(calls))
    assert len(probe_calls([("f(2, 'ab')", "1")] * 3, limit=5)) == 5


def test_lists_vary_in_length_order_and_first_item() -> None:
    calls = probe_calls([("g([3, 1, 2])", "6")], limit=100)

    for expected in ["g([])", "g([2, 1, 3])", "g([1, 2])", "g([3, 1])", "g([3, 1, 2, 3])"]:
        assert expected in calls
    assert "g([4, 1, 2])" in calls and "g([1, 2, 3])" in calls


def test_examples_without_literal_arguments_give_no_probes() -> None:
    assert probe_calls([("f(g(1))", "2"), ("f(x)", "1"), ("not a call", "1")]) == []


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
        max_leaves=8,
    )
)
def test_probe_calls_are_always_valid_python(value: object) -> None:
    for call in probe_calls([(f"f({value!r}, 1)", "0")]):
        compile(call, "<probe>", "eval")


def test_the_outcomes_are_the_last_marked_line() -> None:
    stdout = f'noise\n{PROBE_MARK}["0"]\nmore noise\n{PROBE_MARK}["1", "!Timeout"]\n'

    assert parse_probe_output(stdout, 2) == ["1", "!Timeout"]
    assert parse_probe_output(stdout, 3) is None  # not one outcome per call
    assert parse_probe_output(f"{PROBE_MARK}[1, \n", 1) is None
    assert parse_probe_output("garbage\n", 1) is None


def test_settled_needs_that_many_identical_outcome_lists() -> None:
    a, b = ["1", "2"], ["1", "3"]

    assert not settled([a, b, None], 2)
    assert settled([a, b, ["1", "2"]], 2)
    assert settled([b], 1)
    assert not settled([None, None], 2)


def test_a_probe_one_candidate_raises_on_does_not_count_against_agreement() -> None:
    """HumanEval/76: on n = 0 one right answer raises, another returns False."""
    raises = ["True", "False", "!ZeroDivisionError", "True"]
    returns = ["True", "False", "False", "True"]
    wrong = ["True", "True", "False", "True"]

    assert consistent(raises, returns) and settled([raises, returns], 2)
    assert not consistent(raises, wrong) and not settled([raises, wrong], 2)
    # a candidate that raises on most probes agrees with nobody
    broken = ["!TypeError", "!TypeError", "!TypeError", "True"]
    assert not consistent(broken, returns) and not settled([broken, returns, wrong], 2)
    assert consistent(broken, broken)  # identical lists still agree


def test_choose_takes_the_candidate_agreeing_most_then_the_earliest() -> None:
    right = ["1", "2", "3", "4"]
    wrong_low = ["0", "2", "3", "4"]
    wrong_high = ["1", "2", "3", "5"]

    assert agreement(right, wrong_low) == 3
    assert agreement(right, None) == 0
    assert choose([wrong_low, right, wrong_high]) == 1
    assert choose([wrong_low, wrong_high]) == 0
    assert choose([None, right]) == 0


def test_choose_prefers_of_agreeing_candidates_the_one_raising_least() -> None:
    """mbpp-style/56: one transpose raised IndexError on [], the other returned []."""
    raises = ["!IndexError", "[[4, 1], [5, 2], [6, 3]]", "[[4], [5], [6]]"]
    returns = ["[]", "[[4, 1], [5, 2], [6, 3]]", "[[4], [5], [6]]"]

    assert consistent(raises, returns)
    assert choose([raises, returns]) == 1
    assert choose([returns, raises]) == 0
    # agreement still comes first: two that agree beat a lone one that never raises
    lone = ["[]", "[[1]]", "[[2]]"]
    assert choose([lone, raises, raises]) == 1


def test_a_dict_argument_is_also_varied_in_order() -> None:
    calls = probe_calls([("invert({'a': 1, 'b': 2, 'c': 1})", "{1: ['a', 'c'], 2: ['b']}")])

    assert calls == ["invert({})", "invert({'b': 2, 'c': 1})", "invert({'c': 1, 'b': 2, 'a': 1})"]


def test_an_assertion_style_example_probes_the_call_it_wraps() -> None:
    calls = probe_calls(
        [
            ("math.isclose(volume(10), 4188.79, rel_tol=0.001)", "True"),
            ("set(common((3, 4), (5, 4)))", "{4}"),
            ("abs(area(2) - 12.56) < 0.01", "True"),
        ],
        limit=100,
    )

    assert {"volume(11)", "set(common((4, 3), (5, 4)))", "area(3)"} <= set(calls)
    # an order-free wrapper stays (the result's order is not part of the task), others go
    assert all(c.startswith(("volume(", "set(common(", "area(")) for c in calls)
    assert probe_calls([("sorted([3, 1])", "[1, 3]")]) == []  # builtins only: nothing to vary
    assert probe_calls([("sorted(f([3, 1]))", "[1, 3]")])[0] == "sorted(f([]))"
    assert probe_calls([("len(f([3, 1]))", "2")])[0] == "f([])"
