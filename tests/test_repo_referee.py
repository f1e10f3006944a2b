"""A change may add to the repository's existing tests, never rewrite them."""

from __future__ import annotations

from codeagent.tools.repo.referee import rewritten_tests

TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def test_adding_tests_imports_and_blank_lines_is_fine() -> None:
    added = (
        "import pytest\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5   \n"
        "\n\ndef test_add_zero():\n    assert add(0, 0) == 0\n"
    )
    assert rewritten_tests({"tests/test_calc.py": TEST}, {"tests/test_calc.py": added}) == []
    squeezed = TEST.replace("\n\n\n", "\n")  # blank lines do not count
    assert rewritten_tests({"tests/test_calc.py": TEST}, {"tests/test_calc.py": squeezed}) == []


def test_a_new_expected_value_a_removed_assertion_or_an_emptied_file_is_a_rewrite() -> None:
    base = {"tests/test_calc.py": TEST, "calc.py": "def add(a, b):\n    return a - b\n"}
    for new in (
        TEST.replace("== 5", "== -1"),
        TEST.replace("    assert add(2, 3) == 5\n", "    pass\n"),
        "",
    ):
        assert rewritten_tests(base, {"tests/test_calc.py": new}) == ["tests/test_calc.py"]


def test_code_files_and_new_test_files_are_not_the_judge() -> None:
    base = {"tests/test_calc.py": TEST, "calc.py": "def add(a, b):\n    return a - b\n"}
    changes = {"calc.py": "def add(a, b):\n    return a + b\n", "tests/test_new.py": "x = 1\n"}
    assert rewritten_tests(base, changes) == []
