"""The Python adapter reads sources: what they define and import, copies removed, stubs."""

from __future__ import annotations

from codeagent.tools.languages import PythonAdapter, source_analysis

PY = PythonAdapter()

SOLUTION = """\
LIMIT = 10


def is_palindrome(s):
    return s == s[::-1]


class Stack:
    def push(self, x):
        return x
"""

SHADOWING = """\
from solution import is_palindrome
import pytest


@pytest.mark.parametrize("s", ["aba"])
def is_palindrome(s):
    return True


def test_yes():
    assert is_palindrome("aba")
"""


def test_the_python_adapter_analyses_sources() -> None:
    assert source_analysis(PY) is PY


def test_defined_names_are_the_top_level_functions_classes_and_assignments() -> None:
    assert PY.defined_names(SOLUTION) == {"LIMIT", "is_palindrome", "Stack"}
    assert PY.defined_names("def broken(:\n") == set()


def test_imports_module_knows_every_import_form() -> None:
    assert PY.imports_module("from solution import f\n", "solution")
    assert PY.imports_module("import solution as s\n", "solution")
    assert PY.imports_module("def test_f():\n    from solution import f\n", "solution")
    assert PY.imports_module("from pkg import solution\n", "pkg.solution")
    assert PY.imports_module("from pkg.solution import f\n", "pkg.solution")
    assert not PY.imports_module("import solutions\n", "solution")
    assert not PY.imports_module("def is_palindrome(s):\n    return True\n", "solution")


def test_remove_definitions_drops_a_copy_with_its_decorators() -> None:
    text, removed = PY.remove_definitions(SHADOWING, {"is_palindrome", "LIMIT"})

    assert removed == ["is_palindrome"]
    assert "return True" not in text and "parametrize" not in text
    assert "from solution import is_palindrome" in text
    assert "def test_yes():" in text
    assert PY.remove_definitions(SHADOWING, {"other"}) == (SHADOWING, [])


def test_stub_source_makes_every_function_raise() -> None:
    stub = PY.stub_source(SOLUTION + "double = lambda x: 2 * x\n")

    assert stub is not None
    names: dict[str, object] = {}
    exec(compile(stub, "solution.py", "exec"), names)
    assert names["LIMIT"] == 10  # data stays
    for call in (
        lambda: names["is_palindrome"]("aba"),  # type: ignore[operator]
        lambda: names["Stack"]().push(1),  # type: ignore[operator]
        lambda: names["double"](2),  # type: ignore[operator]
    ):
        try:
            call()
        except NotImplementedError:
            continue
        raise AssertionError("the stub ran code")
    assert PY.stub_source("X = 1\n") is None  # no function: a stub is the code itself
    assert PY.stub_source("def broken(:\n") is None


def test_passing_tests_come_from_the_junit_report() -> None:
    from codeagent.tools.sandbox import ExecResult

    junit = (
        '<testsuites><testsuite tests="3">'
        '<testcase classname="test_solution" name="test_a"/>'
        '<testcase classname="test_solution" name="test_b"><failure message="x"/></testcase>'
        '<testcase classname="test_solution" name="test_c"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    result = ExecResult(1, "", "", 0.0)
    assert PY.passing_tests(result, {"report.xml": junit}) == {"test_solution::test_a"}
    assert PY.passing_tests(result, {"report.xml": '<testsuite tests="1"/>'}) is None
    assert PY.passing_tests(result, {}) is None


def test_a_stub_keeps_docstrings() -> None:
    stub = PY.stub_source('def f(x):\n    """Say x."""\n    return x\n')

    assert stub is not None and '"""Say x."""' in stub and "return x" not in stub


def test_top_level_self_checks_are_removed_and_asserts_in_functions_kept() -> None:
    source = (
        "def f(x):\n    assert x >= 0\n    return x + 1\n\n"
        "assert f(1) == 2\nassert (\n    f(2) == 3\n)\nprint(f(3))\n"
    )
    text, removed = PY.remove_self_checks(source)
    assert removed == 2
    assert text == "def f(x):\n    assert x >= 0\n    return x + 1\n\nprint(f(3))\n"
    assert PY.remove_self_checks("def f():\n    return 1\n") == ("def f():\n    return 1\n", 0)
    assert PY.remove_self_checks("assert (\n") == ("assert (\n", 0)  # does not parse: kept
    called = "def f():\n    return 1\n\ndef test_f():\n    assert f() == 2\n\ntest_f()\n"
    text, removed = PY.remove_self_checks(called)
    assert removed == 1 and text == "def f():\n    return 1\n\ndef test_f():\n    assert f() == 2\n"


def test_import_used_adds_only_the_names_used_freely() -> None:
    text = (
        "import pytest\n\n\n"
        "def test_a(g):\n    assert f(1) == g\n\n\n"
        "def test_b():\n    h = 2\n    assert h\n"
    )
    linked, names = PY.import_used(text, "pkg.solution", ["f", "g", "h", "k"])

    assert names == ["f"]  # g is a parameter, h a local, k unused
    assert linked == "from pkg.solution import f\n" + text


def test_import_used_leaves_a_file_alone_when_nothing_is_missing() -> None:
    imported = "from solution import f\n\n\ndef test():\n    assert f()\n"
    broken = "def test(:\n    assert f()\n"

    assert PY.import_used(imported, "solution", ["f"]) == (imported, [])
    assert PY.import_used(broken, "solution", ["f"]) == (broken, [])
    assert PY.import_used("def test():\n    assert f()\n", "not a module", ["f"])[1] == []
