"""End to end on the real embedded model (0.5B, for speed): real graph, real sandbox.

Marked ``llm``: run alone with ``pytest -m llm``. They skip without the model on a
developer's machine and fail under ``CI=true`` (CI installs it first).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeagent.configs import workflow_path
from codeagent.graphs import WorkflowSpec, load_workflow, run_job
from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.contracts.plan import Plan
from codeagent.tools.models.llm import ask_json, build_chat_model
from codeagent.tools.models.local import stop_all
from codeagent.tools.observability.tracing import TracingConfig
from codeagent.tools.sandbox import LocalSandbox
from tests.host_support import require_model
from tests.otlp_receiver import http_receiver

MODEL = os.environ.get("CODEAGENT_TEST_MODEL", "qwen2.5-coder-0.5b")
pytestmark = [pytest.mark.llm, pytest.mark.slow]

TASK = """Write is_palindrome(s: str) -> bool. It returns True when s reads the same
forwards and backwards, ignoring case and every character that is not a letter or a digit.

>>> is_palindrome("A man, a plan, a canal: Panama")
True
>>> is_palindrome("race a car")
False
>>> is_palindrome("")
True
"""

SIMPLE_TASK = """Write fizzbuzz(n: int) -> str. It returns "Fizz" when n is divisible by 3,
"Buzz" when divisible by 5, "FizzBuzz" when divisible by both, and otherwise n as a string.

>>> fizzbuzz(3)
'Fizz'
>>> fizzbuzz(10)
'Buzz'
>>> fizzbuzz(30)
'FizzBuzz'
>>> fizzbuzz(7)
'7'
"""


@pytest.fixture(scope="module", autouse=True)
def _model() -> Iterator[None]:
    require_model(MODEL)
    yield
    stop_all()  # free the model's memory for the tests after these


def _holds(files: dict[str, str], check: str) -> None:
    """``check`` (asserts on inputs the task never showed) passes against ``files``, in a
    sandbox: generated code never runs here."""
    with LocalSandbox() as sandbox:
        sandbox.write_files({**files, "check.py": check})
        ran = sandbox.run(["python3", "check.py"], timeout_s=60)
    assert ran.ok, ran.stderr


def _spec(name: str = "default") -> WorkflowSpec:
    path = workflow_path(name)
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["models"] = {
        "default": {"provider": "local", "model": MODEL, "temperature": 0.2, "seed": 7}
    }
    return WorkflowSpec.model_validate(data)


def test_the_planner_gets_valid_json_from_the_real_model() -> None:
    chat = build_chat_model(ModelSpec(provider="local", model=MODEL, seed=7), Path("."))
    from codeagent.nodes.context import NodeContext
    from codeagent.nodes.planner import planner_prompt
    from codeagent.tools.languages import get_adapter

    ctx = NodeContext("plan", lambda: chat, "json_schema", get_adapter("python"), LocalSandbox)
    plan, reply = ask_json(chat, planner_prompt({"task": TASK}, ctx), Plan)
    assert plan.summary
    assert reply.input_tokens > 0 and reply.output_tokens > 0


def test_a_simple_task_succeeds_end_to_end(tmp_path: Path) -> None:
    """The default workflow on the real model and sandbox, traced over OTLP.

    The task is one the 0.5B model solves (it rarely gets TASK right without the
    small-model workflow's sampling); the result is then checked on inputs the task
    never showed."""
    with http_receiver() as (endpoint, received):
        result = run_job(
            SIMPLE_TASK,
            workflow=_spec(),
            out=tmp_path / "out",
            tracing=TracingConfig(endpoint=endpoint),
        )
    assert result.status == "success", (result.error, result.test_report)
    # the whole tree arrived over OTLP, with real model calls under the nodes
    names = [s["name"] for s in received.spans]
    assert names.count("invoke_workflow default") == 1
    assert {"invoke_agent plan", "invoke_agent code", "invoke_agent test"} <= set(names)
    chats = [s for s in received.spans if s["name"].startswith("chat ")]
    assert chats and all(s["attributes"]["gen_ai.provider.name"] == "openai" for s in chats)
    assert all(s["attributes"]["server.address"] == "127.0.0.1" for s in chats)
    assert (
        sum(s["attributes"]["gen_ai.usage.output_tokens"] for s in chats)
        == result.usage["output_tokens"]
    )
    assert result.test_report is not None and result.test_report["ok"]
    assert (tmp_path / "out" / "solution.py").exists()
    # the examples from the task ran as tests
    assert "test_examples.py" in result.tests
    check = "from solution import fizzbuzz as f\n"
    check += "assert (f(15), f(9), f(25), f(1)) == ('FizzBuzz', 'Fizz', 'Buzz', '1')\n"
    _holds(result.files, check)


def test_the_small_model_workflow_draws_until_candidates_agree(tmp_path: Path) -> None:
    """configs/small-model.yaml on the real model: candidates checked on the examples and
    on probe inputs, the chosen one then right on inputs the task never showed."""
    result = run_job(TASK, workflow=_spec("small-model"), out=tmp_path / "out")

    assert result.status == "success", (result.error, result.test_report)
    assert list(result.tests) == ["test_examples.py"]  # the examples, no model-written tests
    assert result.usage["calls"] >= 2  # one passing candidate is not enough with agreement: 2
    # inputs the task never showed, checked in a sandbox (generated code never runs here)
    check = "from solution import is_palindrome as f\n"
    check += "assert f(\"No 'x' in Nixon\")\nassert not f('ab')\n"
    _holds(result.files, check)


def test_the_file_the_task_names_is_the_file_written(tmp_path: Path) -> None:
    """The default workflow on the real model writes pal.py when the task says pal.py
    (the planner prompt's example name, solution.py, used to win over the task)."""
    data = _spec().model_dump(by_alias=True)
    data["budgets"]["max_model_calls"] = 3  # plan, code, tests: enough to see the names
    task = TASK.replace("-> bool.", "-> bool in pal.py.", 1)
    assert "in pal.py" in task
    result = run_job(task, workflow=WorkflowSpec.model_validate(data), out=tmp_path / "out")

    assert "pal.py" in result.files, list(result.files)
    assert result.plan is not None and result.plan["files"][0] == "pal.py"
