"""The Python adapter: what the nodes ask it (tests, checks, failures, probes), plus a probe run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.nodes.probes import parse_probe_output
from codeagent.tools.languages import PythonAdapter, get_adapter, language_names
from codeagent.tools.sandbox import ExecResult, LocalSandbox

PYTEST_SHORT = """\
FF                                                                       [100%]
=================================== FAILURES ===================================
________________________________ test_example_1 ________________________________
test_examples.py:3: in test_example_1
    assert (add(2, 3)) == (5)
E   assert -1 == 5
E    +  where -1 = add(2, 3)
________________________________ test_example_2 ________________________________
test_examples.py:5: in test_example_2
    assert (boom([1])) == (5)
            ^^^^^^^^^
solution.py:4: in boom
    return x[5]
E   IndexError: list index out of range
=========================== short test summary info ============================
FAILED test_examples.py::test_example_1 - assert -1 == 5
"""


def test_registered() -> None:
    assert "python" in language_names()
    adapter = get_adapter("python")
    assert isinstance(adapter, PythonAdapter)
    assert adapter.runs_examples  # the task's examples are Python expressions


def test_failure_details_say_expected_and_got() -> None:
    adapter = PythonAdapter()

    assert adapter.failure_details(PYTEST_SHORT) == [
        "test_example_1: add(2, 3) should be 5, but it returned -1",
        "test_example_2: boom([1]) raised IndexError: list index out of range",
    ]
    assert adapter.failure_details(PYTEST_SHORT, limit=1) == [
        "test_example_1: add(2, 3) should be 5, but it returned -1"
    ]
    assert adapter.failure_details("1 passed in 0.1s") == []


def test_failure_details_read_the_assertion_error_form() -> None:
    """Newer pytest prefixes ``AssertionError:``; a call's own parenthesis stays in the call."""
    output = (
        "=================================== FAILURES ===================================\n"
        "________________________________ test_solution _________________________________\n"
        "test_solution.py:4: in test_solution\n"
        '    assert is_palindrome("A man, a plan") == True\n'
        "E   AssertionError: assert False == True\n"
        "E    +  where False = is_palindrome('A man, a plan')\n"
        "________________________________ test_example_1 ________________________________\n"
        "test_examples.py:7: in test_example_1\n"
        "    assert (pair(1, 2)) == ((1, 2))\n"
        "E   AssertionError: assert (2, 1) == (1, 2)\n"
        "=========================== short test summary info ============================\n"
    )
    assert PythonAdapter().failure_details(output) == [
        'test_solution: is_palindrome("A man, a plan") should be True, but it returned False',
        "test_example_1: pair(1, 2) should be (1, 2), but it returned (2, 1)",
    ]


def test_has_tests_finds_test_functions() -> None:
    adapter = PythonAdapter()

    assert adapter.has_tests("from solution import add\n\ndef test_add():\n    assert add(1, 2)\n")
    assert adapter.has_tests("class TestAdd:\n    async def test_it(self):\n        pass\n")
    assert not adapter.has_tests("from solution import add\n\ndef helper():\n    pass\n")
    assert not adapter.has_tests("# def test_later(): to do\n")


def test_test_checks_are_imports_and_assertions() -> None:
    source = (
        "import pytest\nfrom solution import add\n\n\ndef test_add():\n"
        "    x = add(1, 2)\n    assert x == 3\n    with pytest.raises(TypeError):\n"
        "        add(None, 1)\n"
    )

    assert PythonAdapter().test_checks(source) == [
        "import pytest",
        "from solution import add",
        "assert x == 3",
        "with pytest.raises(TypeError):",
    ]


def test_the_probe_program_is_a_python_script() -> None:
    program = PythonAdapter().probe_program("solution", ["f(1)", "f(2)"])

    assert program is not None and program.count == 2
    assert program.command == ("python3", "codeagent_probe.py")
    assert set(program.files) == {"codeagent_probe.py"}
    compile(program.files["codeagent_probe.py"], "codeagent_probe.py", "exec")


def _run(tmp_path: Path, source: str, calls: list[str]) -> list[str] | None:
    program = PythonAdapter().probe_program("solution", calls, per_call_s=0.5)
    assert program is not None
    (tmp_path / "solution.py").write_text(source)
    for path, text in program.files.items():
        (tmp_path / path).write_text(text)
    command = [sys.executable, *program.command[1:]]  # this interpreter for python3
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return parse_probe_output(ran.stdout, program.count)


def test_the_probe_records_results_errors_and_time_outs(tmp_path: Path) -> None:
    source = (
        "def f(n):\n"
        "    print('noise')\n"
        "    if n < 0:\n"
        "        raise ValueError(n)\n"
        "    while n == 7:\n"
        "        pass\n"
        "    return n / 3\n"
    )

    outcomes = _run(tmp_path, source, ["f(3)", "f(-1)", "f(7)", "f(1)"])

    assert outcomes == ["1.0", "!ValueError", "!Timeout", "0.333333"]


def test_probe_outcomes_do_not_depend_on_the_order_a_dict_or_set_was_built_in(
    tmp_path: Path,
) -> None:
    one = "def f(xs):\n    return {x: {x, -x} for x in xs}\n"
    other = "def f(xs):\n    return {x: {-x, x} for x in reversed(xs)}\n"
    calls = ["f([3, 1, 2])", "f([])", "f(['b', 'a'])"]

    outcomes = _run(tmp_path, one, calls)

    assert outcomes == _run(tmp_path, other, calls)
    assert outcomes is not None
    assert outcomes[0] == "{1: set({-1, 1}), 2: set({-2, 2}), 3: set({-3, 3})}"
    # a list keeps its order: [1, 2] and [2, 1] are different answers
    assert _run(tmp_path, "def f(xs):\n    return list(xs)\n", ["f([1, 2])"]) == ["[1, 2]"]


def test_a_module_that_does_not_import_gives_no_outcomes(tmp_path: Path) -> None:
    assert _run(tmp_path, "def f(:\n", ["f(1)"]) is None


GREEN = '<testsuite tests="2" failures="0" errors="0" skipped="0"></testsuite>'
RED = '<testsuite tests="2" failures="1" errors="0" skipped="0"></testsuite>'


def _result(exit_code: int, stdout: str = "") -> ExecResult:
    return ExecResult(exit_code=exit_code, stdout=stdout, stderr="", duration_s=0.1)


def test_report_files_are_named_per_run() -> None:
    adapter = PythonAdapter()
    first, second = adapter.report_paths("a1b2"), adapter.report_paths("c3d4")

    assert not set(first) & set(second)
    assert all("a1b2" in path for path in first)
    assert all(path in " ".join(adapter.test_command("a1b2")) for path in first)


def test_a_report_that_disagrees_with_the_exit_status_is_a_failed_run() -> None:
    adapter = PythonAdapter()
    junit, _ = adapter.report_paths("r1")

    assert adapter.parse_report(_result(0), {junit: GREEN}).ok
    forged = adapter.parse_report(_result(1), {junit: GREEN})
    assert not forged.ok and "exited with status 1" in forged.output
    assert not adapter.parse_report(_result(0), {junit: RED}).ok
    assert not adapter.parse_report(_result(0, "2 passed in 0.1s"), {}).ok  # no report


def test_the_report_output_is_the_same_for_the_same_failure() -> None:
    """No per-run report name and no duration: the coder's prompt is reproducible."""
    adapter = PythonAdapter()
    junit, _ = adapter.report_paths("r9f3")

    def output(seconds: str) -> str:
        text = (
            "F.\nE   assert 1 == 2\n"
            f"----- generated xml file: /workspace/{junit} -----\n"
            f"=========== 1 failed, 1 passed in {seconds}s ===========\n"
        )
        return adapter.parse_report(_result(1, text), {junit: RED}).output

    assert output("0.12") == output("3.40")
    assert "r9f3" not in output("0.12") and "1 failed, 1 passed" in output("0.12")


# Code under test that tries to pass without passing: at import it rewrites every
# JUnit report it can find on the way out (the old fixed name included), or exits 0.
FORGER = (
    "import atexit, glob\n"
    'GREEN = \'<testsuite tests="1" failures="0" errors="0" skipped="0"/>\'\n'
    "def _forge():\n"
    "    for path in glob.glob('.codeagent-junit*.xml') + ['.codeagent-junit.xml']:\n"
    "        open(path, 'w').write(GREEN)\n"
    "atexit.register(_forge)\n"
)
EXITER = "import os\nprint('1 passed in 0.01s', flush=True)\nos._exit(0)\n"
TEST_ADD = "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("cheat", [FORGER, EXITER], ids=["atexit-forger", "early-exit"])
def test_code_that_forges_its_test_report_does_not_pass(cheat: str) -> None:
    adapter = PythonAdapter()
    files = {"solution.py": cheat + "\ndef add(a, b):\n    return a - b\n", "test_add.py": TEST_ADD}
    with LocalSandbox() as sandbox:
        sandbox.write_files(files)
        result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
        report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))

    assert not report.ok, report


@pytest.mark.usefixtures("bwrap")
def test_assertion_examples_become_tests_that_import_what_they_use() -> None:
    adapter = get_adapter("python")
    examples = [
        ("math.isclose(volume(10), 4188.790204786391, rel_tol=0.001)", "True"),
        ("collections.Counter(letters('aab'))['a']", "2"),
        ("bool(volume(1))", "True"),
    ]
    source = adapter.examples_to_tests(examples, "solution")
    assert "import collections\nimport math\nfrom solution import *" in source
    right = (
        "import math\n\n\ndef volume(r):\n    return 4 / 3 * math.pi * r**3\n\n\n"
        "def letters(s):\n    return list(s)\n"
    )
    wrong = right.replace("4 / 3", "4 / 2")
    for code, passed in ((right, 3), (wrong, 2)):
        with LocalSandbox() as sandbox:
            sandbox.write_files({"solution.py": code, adapter.examples_test_path(): source})
            result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
            report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))
        assert (report.passed, report.total) == (passed, 3), result.stdout[-2000:]


@pytest.mark.usefixtures("bwrap")
def test_an_example_failing_on_its_own_is_skipped_as_broken() -> None:
    adapter = get_adapter("python")
    examples = [
        ("double(2)", "4"),  # fine
        ("is_close(double(2), 4)", "True"),  # 2: a helper the task never defines
        ("double(3)", "undefined_value"),  # 3: the expected value cannot be computed
        ("triple(1)", "3"),  # 4: the code lacks what the task asks for: the code's fault
        ("double('x', 1)", "2"),  # 5: wrong arity: the code's fault
        ("halve(4)", "2"),  # 6: the code raises inside: the code's fault
    ]
    source = adapter.examples_to_tests(examples, "solution", entry_points=["double", "triple"])
    code = "def double(n):\n    return 2 * n\n\n\ndef halve(n):\n    return n / zero\n"
    with LocalSandbox() as sandbox:
        sandbox.write_files({"solution.py": code, "test_examples.py": source})
        result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
        report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))
    out = result.stdout
    assert (report.passed, report.total) == (1, 4), out[-3000:]
    assert report.failed + report.errors == 3
    assert out.count("broken example:") == 2
    assert "its example fails before the code is to blame (NameError: name 'is_close'" in out
    assert "its expected value fails before the code is to blame (NameError: name 'undef" in out
    failed = {n for n in range(1, 7) if f" test_example_{n} _" in out}
    assert failed == {4, 5, 6}, out[-3000:]


@pytest.mark.usefixtures("bwrap")
def test_an_undefined_name_is_the_codes_fault_when_the_code_defines_nothing_the_example_calls() -> (
    None
):
    adapter = get_adapter("python")
    # a prose task (no def): neither add nor is_close is the task's; the code defines double
    source = adapter.examples_to_tests(
        [("is_close(add(2, 3), 5)", "True"), ("is_close(double(2), 4)", "True")], "solution"
    )
    with LocalSandbox() as sandbox:
        code = "def double(n):\n    return 2 * n\n"
        sandbox.write_files({"solution.py": code, "test_examples.py": source})
        result = sandbox.run(adapter.test_command("r1"), timeout_s=60)
        report = adapter.parse_report(result, sandbox.read_files(adapter.report_paths("r1")))
    # 1: the code lacks add, which the example tests: a failure; 2: double is there and
    # is_close is nobody's: a broken example
    assert (report.failed, report.total) == (1, 1), result.stdout[-3000:]
    assert result.stdout.count("broken example:") == 1
    assert " test_example_1 _" in result.stdout
