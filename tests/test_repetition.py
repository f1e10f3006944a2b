"""Loop detection in a streamed answer (pure)."""

from __future__ import annotations

from codeagent.tools.models.repetition import ALIKE_CHARS, ALIKE_LINES, MIN_LINES, loop_start


def test_one_line_written_over_and_over_keeps_one_copy() -> None:
    head = "```python\nfrom solution import f\n\n"
    text = head + "assert f(1) == 2\n" * (MIN_LINES + 1) + "assert f("
    cut = loop_start(text)
    assert cut is not None and text[:cut] == head + "assert f(1) == 2\n"


def test_a_block_of_lines_repeated_keeps_one_copy() -> None:
    block = "def test_a():\n    assert f(1) == 2\n\n"
    text = "import pytest\n" + block * 6
    cut = loop_start(text)
    assert cut is not None and text[:cut] == "import pytest\n" + block


def test_lines_that_differ_only_in_trailing_spaces_count_as_the_same() -> None:
    text = "".join(f"x = 1{' ' * (i % 2)}\n" for i in range(MIN_LINES + 2))
    assert loop_start(text) == len("x = 1\n")


def test_short_or_varied_repetition_is_not_a_loop() -> None:
    matrix = "grid = [\n" + "    [0, 0, 0],\n" * 8 + "]\n"
    assert loop_start(matrix + "    [0, 0, 0],\n" * 3) is None  # 11 repeats: under MIN_LINES
    counting = "".join(f"assert f({i}) == {i + 1}\n" for i in range(ALIKE_LINES))
    assert loop_start(counting) is None  # up to 24 numbers checked in a row is fine
    assert loop_start("\n" * 50) is None  # blank lines are not a loop
    assert loop_start("assert f(1) == 2" * 30) is None  # no complete line
    three = "a = 1\nb = 2\nc = 3\nd = 4\n" * 3  # a 4-line block three times: too few copies
    assert loop_start(three) is None


def test_the_loop_is_found_at_the_end_only() -> None:
    looped = "assert f(1) == 2\n" * (MIN_LINES + 1)
    assert loop_start(looped + "print('done')\n") is None


def test_counting_on_and_on_keeps_every_complete_line() -> None:
    head = "```python\nfrom solution import change_base\n\ndef test_change_base():\n"
    lines = [f"    assert change_base({i}, 2) == '{i:b}'\n" for i in range(ALIKE_LINES + 1)]
    text = head + "".join(lines) + "    assert change"
    assert loop_start(text) == len(text) - len("    assert change")
    assert loop_start(head + "".join(lines[:-1])) is None


def test_counting_blocks_of_lines_count_too() -> None:
    block = "def test_{i}():\n    assert sq({i}) == {sq}\n"
    text = "".join(block.format(i=i, sq=i * i) for i in range(13))  # 24 lines after the first
    assert loop_start(text) == len(text)
    assert loop_start("".join(block.format(i=i, sq=i * i) for i in range(12))) is None


def test_an_exact_loop_is_found_before_it_could_count() -> None:
    text = "x = [\n" + "    1,\n" * (MIN_LINES + 1)
    assert loop_start(text) == len("x = [\n    1,\n")


def test_a_long_line_written_four_times_is_a_loop() -> None:
    line = "    assert not f([" + ", ".join(["0.0"] * 40) + "], 0.3)\n"
    head = "def test_f():\n"
    assert loop_start(head + line * 3) is None
    assert loop_start(head + line * 4) == len(head + line)


def test_a_list_growing_an_element_a_line_is_a_loop() -> None:
    """HumanEval/0's tester: each assert one element longer, ``not`` every other line."""
    head = "def test_has_close_elements():\n"
    lines = []
    for n in range(6, 40):
        values = ", ".join(f"{1.0 - k / 10:.1f}" for k in range(n))
        lines.append(f"    assert {'not ' * (n % 2)}has_close_elements([{values}], 0.3)\n")
    text, cut = head, None
    for line in lines:  # as it streams
        text += line
        cut = loop_start(text)
        if cut is not None:
            break
    assert cut == len(text)
    assert ALIKE_CHARS <= len(text) - len(head) - len(lines[0]) < ALIKE_CHARS + 250


def test_distinct_checks_of_the_same_function_are_not_alike() -> None:
    cases = [
        "assert sort_array([1, 5, 2, 3, 4]) == [1, 2, 3, 4, 5]",
        "assert sort_array([-2, -3, -4, -5, -6]) == [-6, -5, -4, -3, -2]",
        "assert sort_array([]) == []",
        "assert sort_array([2, 1]) == [1, 2]",
        'assert sort_array(["b", "a"]) == ["a", "b"]',
    ]
    assert loop_start("\n".join(cases) + "\n") is None
    assert loop_start("\n".join(cases * 3) + "\n") is None  # three times: not yet
    assert loop_start("\n".join(cases * 4) + "\n") == len("\n".join(cases)) + 1  # a loop
