"""Pure parsing of model output."""

from __future__ import annotations

from codeagent.nodes.coder import source_files
from codeagent.nodes.context import NodeContext
from codeagent.nodes.examples import task_examples
from codeagent.nodes.parsing import CodeBlock, code_blocks, files_from_blocks, without_hooks
from codeagent.tools.languages import get_adapter
from codeagent.tools.testing import FakeSandbox


def test_name_on_the_line_before_the_fence() -> None:
    text = "Here you go.\n\nsolution.py\n```python\nx = 1\n```\n"
    assert code_blocks(text) == [CodeBlock("solution.py", "x = 1\n")]


def test_name_in_the_info_string_and_in_bold() -> None:
    text = "```python title=a.py\na = 1\n```\n**pkg/b.py**\n```python\nb = 2\n```"
    assert [b.path for b in code_blocks(text)] == ["a.py", "pkg/b.py"]


def test_name_in_a_first_line_comment() -> None:
    blocks = code_blocks("```python\n# file: util.py\ndef f(): ...\n```")
    assert blocks == [CodeBlock("util.py", "def f(): ...\n")]


def test_a_sentence_mentioning_a_file_is_not_a_label() -> None:
    text = (
        "The function below should go into a module; I called it main.py for now and it works\n"
        "```python\nx = 1\n```"
    )
    assert code_blocks(text)[0].path is None


def test_unnamed_blocks_go_to_the_default_path_and_the_longest_wins() -> None:
    blocks = [CodeBlock(None, "print(f(1))\n"), CodeBlock(None, "def f(x):\n    return x\n")]
    assert files_from_blocks(blocks, "solution.py", ".py") == {
        "solution.py": "def f(x):\n    return x\n"
    }


def test_blocks_in_other_languages_are_dropped() -> None:
    blocks = [CodeBlock("run.sh", "pytest\n"), CodeBlock("sol.py", "x = 1\n")]
    assert files_from_blocks(blocks, "solution.py", ".py") == {"sol.py": "x = 1\n"}


def test_no_blocks_no_files() -> None:
    assert files_from_blocks(code_blocks("I cannot help with that."), "s.py", ".py") == {}


def test_doctest_examples() -> None:
    task = 'def f(x):\n    """Double.\n    >>> f(2)\n    4\n    >>> f("a")\n    \'aa\'\n    """\n'
    assert task_examples(task) == [("f(2)", "4"), ('f("a")', "'aa'")]


def test_a_doctest_example_inline_after_prose() -> None:
    task = "Write slugify(t). >>> slugify('Hello, World!')\n'hello-world'\n"
    assert task_examples(task) == [("slugify('Hello, World!')", "'hello-world'")]


def test_arrow_and_equality_examples() -> None:
    task = "Examples:\n- add(1, 2) == 3\nadd(2, 2) -> 4.\nx_or_y(7, 34, 12) ➞ 34\nnot code -> 5\n"
    assert task_examples(task) == [
        ("add(1, 2)", "3"),
        ("add(2, 2)", "4"),
        ("x_or_y(7, 34, 12)", "34"),
    ]


def test_examples_that_are_not_expressions_are_dropped() -> None:
    task = ">>> f(1)\nTraceback (most recent call last):\n>>> g(\n1\n"
    assert task_examples(task) == []


def test_more_example_forms_and_definitions_dropped() -> None:
    task = (
        "Examples:\n"
        "    add([4, 2, 6, 7]) ==> 2\n"
        '    to_bin(15)   # returns "db1111db"\n'
        "    is_power(1, 4) => true\n"
        "    fib(n) -> fib(n-1) + fib(n-2)\n"
        "    is_happy(a) => False\n"
        ">>> round(find_zero([1, 2]), 2) # f(x) = 1 + 2x\n"
        "-0.5\n"
    )

    assert task_examples(task) == [
        ("round(find_zero([1, 2]), 2)", "-0.5"),  # doctests come first; comments dropped
        ("add([4, 2, 6, 7])", "2"),
        ("to_bin(15)", '"db1111db"'),
        ("is_power(1, 4)", "True"),
    ]


def test_equals_input_output_and_for_examples_use_the_tasks_function() -> None:
    task = (
        "def maximum(arr, k):\n"
        '    """Return the k largest.\n'
        "    Example 1:\n"
        "        Input: arr = [-3, -4, 5], k = 3\n"
        "        Output: [-4, -3, 5]\n"
        "    Input:\n"
        "        grid : [[0, 1]]\n"
        "        bucket : 1\n"
        "    Output: 2\n"
        "    For arr = [4, 4], k = 1, the result should be [4].\n"
        "    maximum([1], 1) = [1]\n"
        "    other([1], 1) = [1]\n"
        '    """\n'
    )

    assert task_examples(task) == [
        ("maximum([1], 1)", "[1]"),
        ("maximum(arr=[-3, -4, 5], k=3)", "[-4, -3, 5]"),
        ("maximum([[0, 1]], 1)", "2"),  # names that do not fit: by position
        ("maximum(arr=[4, 4], k=1)", "[4]"),
    ]


def test_equalities_prefixes_worked_steps_and_remarks() -> None:
    task = (
        "def count(s, n):\n"
        '    """Count.\n'
        "    >>> count([], 1) == 0\n"
        "    >>> count([1], 1) == 1  # one\n"
        "    >>> count([2], 1)\n"
        "    assert count('a', 1) => 2\n"
        "    for count('b', 2) == 3\n"
        "    count('c', 2) # => 'No' (the name must start with a letter)\n"
        '    count("5 apples", 19) -> 19 - 5 = 14\n'
        "    For s = 'xy', n = 3, the sum will be 7 the output should be 4.\n"
        '    """\n'
    )

    assert task_examples(task) == [
        ("count([], 1)", "0"),  # ">>> call == value" lines with no output line
        ("count([1], 1)", "1"),
        ("count('a', 1)", "2"),
        ("count('b', 2)", "3"),
        ("count('c', 2)", "'No'"),  # the remark in brackets dropped
        ('count("5 apples", 19)', "14"),  # the worked steps dropped
        ("count(s='xy', n=3)", "4"),  # the assignments the sentence starts with
    ]


def test_prose_formulas_and_conflicting_examples_are_dropped() -> None:
    task = "def tri(n):\n    tri(1) = 3\n    tri(3) = tri(2) + tri(1)\n    tri(3) = [1, 3]\n"

    assert task_examples(task) == [("tri(1)", "3")]


def test_any_assert_that_calls_the_tasks_function_is_an_example() -> None:
    task = (
        "Write a function to find the volume of a sphere.\n"
        "def volume_sphere(r):\n"
        "assert math.isclose(volume_sphere(10), 4188.790204786391, rel_tol=0.001)\n"
        "assert abs(volume_sphere(1) - 4.18) < 0.01\n"
        "assert volume_sphere(0.5)\n"
        'assert volume_sphere(2) == 33.51, "the volume of r=2"\n'
        "assert not isinstance(volume_sphere(1), str)\n"
        "assert other(3) == 1\n"  # not the task's function: not an example
        "assert x == 1\n"
    )
    assert task_examples(task) == [
        ("math.isclose(volume_sphere(10), 4188.790204786391, rel_tol=0.001)", "True"),
        ("abs(volume_sphere(1) - 4.18) < 0.01", "True"),
        ("bool(volume_sphere(0.5))", "True"),  # truthiness, as assert means it
        ("volume_sphere(2)", "33.51"),  # an equality stays a pair; its message is dropped
        ("not isinstance(volume_sphere(1), str)", "True"),
    ]
    # a module the example does not use as module.attribute is not allowed in
    assert task_examples("def f(x):\nassert f(os.sep) == 1\n") == []


def test_a_truncated_test_file_is_cut_back_to_its_complete_tests() -> None:
    from codeagent.nodes.testfiles import complete_prefix

    python = get_adapter("python")
    whole = "def test_a():\n    assert f(1) == 1\n    assert f(2) == 2\n"
    cut = whole + '    assert f("ab'

    assert complete_prefix(whole, python) == whole
    assert complete_prefix(cut, python) == whole
    assert (
        complete_prefix("def f(:\n", python) == "def f(:\n"
    )  # no test before the error: unchanged


def test_an_answer_cut_off_in_its_closing_fence_loses_the_partial_fence() -> None:
    text = "```python\ndef f():\n    return 1\n``"

    assert code_blocks(text) == [CodeBlock(None, "def f():\n    return 1\n")]


HOOKED = (
    "solution.py\n```python\ndef add(a, b):\n    return a - b\n```\n"
    "conftest.py\n```python\nimport pytest\n\n@pytest.hookimpl(tryfirst=True)\n"
    "def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n```\n"
    "sitecustomize.py\n```python\nimport builtins\n```\n"
    "pkg/usercustomize.py\n```python\nx = 1\n```\n"
)


def test_start_up_hooks_in_an_answer_are_not_solution_files() -> None:
    ctx = NodeContext("code", lambda: None, "json_schema", get_adapter("python"), FakeSandbox)

    assert source_files(HOOKED, "solution.py", ctx, "Write add(a, b).") == {
        "solution.py": "def add(a, b):\n    return a - b\n"
    }
    asked = source_files(HOOKED, "solution.py", ctx, "Write add and a sitecustomize.py.")
    assert set(asked) == {"solution.py", "sitecustomize.py"}


def test_pth_files_are_hooks_unless_the_task_names_them() -> None:
    files = {"solution.py": "x = 1\n", "evil.pth": "import os\n", "conftest.py": "y = 2\n"}

    assert without_hooks(files, "Write x.") == {"solution.py": "x = 1\n"}
    assert set(without_hooks(files, "Also write evil.pth")) == {"solution.py", "evil.pth"}


def test_self_checks_a_model_appends_to_its_solution_are_dropped() -> None:
    """A wrong ``assert`` at the end of solution.py would stop every test at import."""
    ctx = NodeContext("code", lambda: None, "json_schema", get_adapter("python"), FakeSandbox)
    answer = (
        "solution.py\n```python\ndef add(a, b):\n    assert a is not None\n    return a + b\n\n"
        "assert add(1, 2) == 4\nassert add(0, 0) == 0\n```\n"
    )

    assert source_files(answer, "solution.py", ctx, "Write add(a, b).") == {
        "solution.py": "def add(a, b):\n    assert a is not None\n    return a + b\n"
    }
