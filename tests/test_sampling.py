"""The sampling coder: candidates chosen by the task's own examples (scripted model)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import Field, PrivateAttr

from codeagent.evals.datasets import Problem
from codeagent.evals.tasks import single_shot_prompt, task_text
from codeagent.graphs import run_job
from codeagent.nodes.sampling import candidate_key
from codeagent.tools.languages import get_adapter
from codeagent.tools.testing import ScriptedChatModel
from tests import scripts
from tests.recording import Recorder

pytestmark = pytest.mark.usefixtures("bwrap")


def _workflow(
    directory: Path,
    *,
    code: list[str],
    fix: list[str] | None = None,
    tester: str = "tester",
    options: dict[str, object] | None = None,
) -> Path:
    script = scripts.rules(code=code, fix=fix)
    return scripts.sampling_workflow(directory, script, tester=tester, options=options)


def test_the_first_candidate_passing_the_examples_wins(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.BAD, scripts.GOOD, scripts.BAD])
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert "a + b" in result.files["solution.py"]
    assert result.attempts == 1
    assert result.usage["calls"] == 3  # two coder candidates + the tester


def test_with_no_candidate_passing_the_best_is_kept_and_repaired(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.BAD], fix=[scripts.GOOD])
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2
    assert result.usage["calls"] == 3 + 1 + 1  # 3 bad candidates, the tester, one good fix


def test_the_candidates_option_bounds_the_draws(tmp_path: Path) -> None:
    options = {"candidates": 1}
    workflow = _workflow(tmp_path, code=[scripts.BAD], fix=[scripts.GOOD], options=options)
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1 + 1 + 1  # one bad candidate, the tester, one good fix


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"candidates": 0}, "option candidates: Input should be greater than or equal to 1"),
        ({"candidates": "many"}, "option candidates: Input should be a valid integer"),
        ({"samples": 3}, "option samples: unknown option"),
    ],
)
def test_bad_options_are_config_errors_at_load(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    from codeagent.graphs.workflow.loader import load_workflow
    from codeagent.tools.errors import ConfigError

    workflow = _workflow(tmp_path, code=[scripts.GOOD], options=options)
    with pytest.raises(ConfigError) as info:
        load_workflow(str(workflow))

    assert message in info.value.message
    assert info.value.location == f"nodes.code.options.{next(iter(options))}"
    assert "takes: candidates, retry_temperature, agreement" in (info.value.hint or "")


def test_a_kind_without_options_rejects_them(tmp_path: Path) -> None:
    from codeagent.graphs.workflow.loader import load_workflow
    from codeagent.tools.errors import ConfigError

    workflow = _workflow(tmp_path, code=[scripts.GOOD])
    data = yaml.safe_load(workflow.read_text())
    data["nodes"]["test"]["options"] = {"strict": True}
    workflow.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="node kind 'tester' takes no options, got: strict"):
        load_workflow(str(workflow))


def test_a_task_without_examples_takes_one_call(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.GOOD])
    task = "Write add(a, b) that returns the sum of two integers."
    result = run_job(task, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 2


CUT = "solution.py\n```python\ndef add(a, b):\n    return (a +\n```\n"


def test_without_examples_an_answer_cut_off_mid_code_is_drawn_again(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[CUT, scripts.GOOD])
    task = "Write add(a, b) that returns the sum of two integers."
    result = run_job(task, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.files["solution.py"].strip().endswith("return a + b")
    assert result.attempts == 1
    assert result.usage["calls"] == 3  # the cut-off answer, the good one, the tester


def test_without_examples_and_no_answer_parsing_the_first_is_kept_for_repair(
    tmp_path: Path,
) -> None:
    workflow = _workflow(tmp_path, code=[CUT], fix=[scripts.GOOD], options={"candidates": 2})
    task = "Write add(a, b) that returns the sum of two integers."
    result = run_job(task, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2
    assert result.usage["calls"] == 2 + 1 + 1  # two cut-off answers, the tester, the fix


@pytest.mark.parametrize(
    ("path", "source", "error"),  # error: how the message starts
    [
        ("solution.py", "def add(a, b):\n    return a + b\n", None),
        ("solution.py", "def add(a, b):\n    return (a +\n", "solution.py:2: '(' was never closed"),
        ("solution.py", "x = 1\x00\n", "solution.py"),
        ("notes.txt", "not ( python", None),
    ],
)
def test_python_syntax_errors_are_found_without_running_anything(
    path: str, source: str, error: str | None
) -> None:
    found = get_adapter("python").syntax_error(path, source)

    if error is None:
        assert found is None
    else:
        assert found is not None and found.startswith(error)


def test_candidate_key_orders_green_then_passed_then_errors() -> None:
    green = {"ok": True, "passed": 1}
    half = {"ok": False, "passed": 2, "errors": 0}
    broken = {"ok": False, "passed": 2, "errors": 1}

    assert candidate_key(green) > candidate_key(half) > candidate_key(broken)


def test_the_example_tester_uses_the_tasks_examples_without_a_model_call(tmp_path: Path) -> None:
    workflow = _workflow(
        tmp_path, code=[scripts.GOOD], tester="codeagent.nodes.tester:example_tester"
    )
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1
    assert list(result.tests) == ["test_examples.py"]


def test_the_example_tester_asks_the_model_when_the_task_has_no_examples(tmp_path: Path) -> None:
    workflow = _workflow(
        tmp_path, code=[scripts.GOOD], tester="codeagent.nodes.tester:example_tester"
    )
    result = run_job("Write add(a, b) returning a + b.", workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 2
    assert "test_solution.py" in result.tests


BROKEN_EXAMPLE_TASK = (
    "Write add(a, b) that returns the sum of two integers.\n\n"
    "assert is_close(add(2, 3), 5)\n"  # a helper the task never defines
)


def test_when_every_example_is_broken_the_model_writes_the_tests(tmp_path: Path) -> None:
    workflow = _workflow(
        tmp_path, code=[scripts.GOOD], tester="codeagent.nodes.tester:example_tester"
    )
    result = run_job(BROKEN_EXAMPLE_TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success", result.test_report
    assert result.usage["calls"] == 2  # the coder, then the tester writing tests
    assert "test_solution.py" in result.tests  # the model's tests (the example rides along)
    report = result.test_report or {}
    written = scripts.TESTS.count("def test_")
    assert (report["passed"], report["total"]) == (written, written)  # the example: not counted
    assert "broken example: its example fails" in report["output"]


def test_a_sampling_coder_whose_examples_are_all_broken_keeps_the_first_that_parses(
    tmp_path: Path,
) -> None:
    workflow = _workflow(
        tmp_path,
        code=[scripts.GOOD, scripts.BAD],
        tester="codeagent.nodes.tester:example_tester",
        options={"candidates": 3},
    )
    result = run_job(BROKEN_EXAMPLE_TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success", result.test_report
    assert "a + b" in result.files["solution.py"]
    assert result.usage["calls"] == 2  # one candidate (not three), then the tester's tests


HALF2 = "solution.py\n```python\ndef add(a, b):\n    return a + b if b >= 0 else b\n```\n"


def _chosen(tmp_path: Path, code: list[str], **options: object) -> tuple[str, int]:
    workflow = _workflow(
        tmp_path, code=code, tester="codeagent.nodes.tester:example_tester", options=dict(options)
    )
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")
    assert result.status == "success"
    assert result.attempts == 1
    return result.files["solution.py"], result.usage["calls"]


def test_without_agreement_the_first_candidate_passing_the_examples_is_kept(
    tmp_path: Path,
) -> None:
    # HALF passes add(2, 3) == 5 but is wrong for negative a: examples alone cannot tell.
    files, calls = _chosen(tmp_path, [scripts.HALF, scripts.GOOD, scripts.GOOD])

    assert "a >= 0" in files
    assert calls == 1


def test_agreement_draws_until_two_passing_candidates_behave_the_same(tmp_path: Path) -> None:
    files, calls = _chosen(
        tmp_path, [scripts.HALF, scripts.GOOD, scripts.GOOD], candidates=5, agreement=2
    )

    assert files == scripts.GOOD.split("```python\n")[1].split("```")[0]
    assert calls == 3  # HALF and GOOD disagree on add(-2, 3); the second GOOD settles it


def test_with_no_two_agreeing_the_one_agreeing_most_with_the_others_is_kept(
    tmp_path: Path,
) -> None:
    # HALF is wrong for a < 0, HALF2 for b < 0: each differs from GOOD on one probe
    # and from the other on two, so GOOD agrees most.
    files, calls = _chosen(tmp_path, [scripts.HALF, HALF2, scripts.GOOD], candidates=3, agreement=2)

    assert "return a + b\n" in files
    assert calls == 3


def test_candidates_stop_at_the_jobs_model_call_budget(tmp_path: Path) -> None:
    workflow = _workflow(
        tmp_path,
        code=[scripts.BAD],
        tester="codeagent.nodes.tester:example_tester",
        options={"candidates": 5},
    )
    data = yaml.safe_load(workflow.read_text())
    data["budgets"] = {"max_model_calls": 3}
    workflow.write_text(yaml.safe_dump(data))
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "budget_exceeded"
    assert result.usage["calls"] == 3  # not 5: the budget bounds the draws in the node


def test_later_draws_are_hotter_and_seeded_apart_when_the_model_is_seeded() -> None:
    from types import SimpleNamespace

    from codeagent.nodes.sampling import SamplingOptions, _later_draw

    options = SamplingOptions(retry_temperature=0.7)
    seeded = SimpleNamespace(chat=SimpleNamespace(seed=7))
    unseeded = SimpleNamespace(chat=SimpleNamespace(seed=None))

    assert _later_draw(seeded, options, 0) == {}  # type: ignore[arg-type]
    assert _later_draw(seeded, options, 2) == {"temperature": 0.7, "seed": 9}  # type: ignore[arg-type]
    assert _later_draw(unseeded, options, 1) == {"temperature": 0.7}  # type: ignore[arg-type]


def test_a_candidate_breaking_the_policy_is_rejected_without_running(tmp_path: Path) -> None:
    sneaky = scripts.GOOD.replace("def add", "import socket\n\ndef add")
    workflow = _workflow(tmp_path, code=[sneaky, scripts.GOOD], options={"agreement": 1})
    data = yaml.safe_load(workflow.read_text())
    data["guardrails"] = {"forbidden_imports": ["socket"], "on_violation": "stop"}
    workflow.write_text(yaml.safe_dump(data, sort_keys=False))
    sandboxes = Recorder()
    result = run_job(
        scripts.TASK, workflow=workflow, sandbox_factory=sandboxes, out=tmp_path / "out"
    )

    assert result.status == "success"
    assert "socket" not in result.files["solution.py"]
    assert result.attempts == 1
    assert result.usage["calls"] == 3  # the rejected candidate, the good one, the tester
    assert sandboxes.ran and not sandboxes.ran_code_with("import socket")


class _SeededReplies(BaseChatModel):
    """Answers by draw: the ``seed`` a draw is asked with picks its reply (as a seeded
    model's answer depends on its seed), slowly, counting the calls in flight."""

    seed: int = 100
    replies: list[str] = Field(default_factory=list)
    delay_s: float = 0.3
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _in_flight: int = PrivateAttr(default=0)
    most_in_flight: int = 0

    @property
    def _llm_type(self) -> str:
        return "seeded-replies"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        index = int(kwargs.get("seed", self.seed)) - self.seed
        with self._lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        time.sleep(self.delay_s)
        with self._lock:
            self._in_flight -= 1
        text = self.replies[min(index, len(self.replies) - 1)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@pytest.mark.parametrize("parallel", [1, 2])
def test_parallel_draws_keep_the_answer_drawing_one_at_a_time_keeps(
    tmp_path: Path, parallel: int
) -> None:
    model = _SeededReplies(replies=[scripts.HALF, scripts.GOOD, scripts.GOOD])
    options = {"candidates": 5, "agreement": 2, "parallel": parallel}
    workflow = _workflow(
        tmp_path,
        code=[scripts.BAD],
        tester="codeagent.nodes.tester:example_tester",
        options=options,
    )
    exporter = InMemorySpanExporter()
    result = run_job(
        scripts.TASK,
        workflow=workflow,
        chat_model=model,
        out=tmp_path / "out",
        span_processors=[SimpleSpanProcessor(exporter)],
    )

    assert result.status == "success"
    assert result.files["solution.py"] == scripts.GOOD.split("```python\n")[1].split("```")[0]
    assert model.most_in_flight == parallel
    spans = exporter.get_finished_spans()
    (node,) = [s for s in spans if s.name == "invoke_agent code"]
    chats = [s for s in spans if s.name.startswith("chat ")]
    assert chats and all(s.parent.span_id == node.context.span_id for s in chats)
    # one at a time: HALF, GOOD, GOOD settle it; two at a time: the 4th answer, asked for
    # with the 3rd, is spent and counted but never judged
    assert result.usage["calls"] == {1: 3, 2: 4}[parallel]


def test_the_prompt_is_the_single_calls_and_a_repair_adds_the_failures(tmp_path: Path) -> None:
    """Candidates are asked in the single-shot baseline's words (its system message, then
    the task); the repair round adds the previous code and the failed check."""
    problem = Problem(task_id="t/0", prompt=scripts.TASK, test="", entry_point="add")
    (_, system), (_, user) = single_shot_prompt(problem)
    task = task_text(problem)
    model = ScriptedChatModel(rules=scripts.rules(code=[scripts.BAD], fix=[scripts.GOOD]))
    workflow = _workflow(tmp_path, code=[scripts.BAD], options={"candidates": 1})
    result = run_job(task, workflow=workflow, chat_model=model, out=tmp_path / "out")

    assert result.status == "success", result.error
    assert result.usage["calls"] == 3  # the candidate, the tester, the repair
    first, repair = model.prompts[0], model.prompts[-1]
    # the same words ("python" vs "Python" aside; the template trims the last newline)
    assert first.lower() == f"{system}\n\n{user.strip()}".lower()
    assert repair.startswith(first) and "Your previous version" in repair
    assert "add(2, 3)" in repair and "return a - b" in repair


def test_a_plan_follows_the_task_in_the_prompt(tmp_path: Path) -> None:
    path = _workflow(tmp_path, code=[scripts.GOOD])
    data = yaml.safe_load(path.read_text())
    data["nodes"] = {"plan": {"kind": "planner"}, **data["nodes"]}
    data["edges"].insert(0, {"from": "plan", "to": "code"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    model = ScriptedChatModel(rules=scripts.rules())
    result = run_job(scripts.TASK, workflow=path, chat_model=model, out=tmp_path / "out")

    assert result.status == "success", result.error
    coder = next(p for p in model.prompts if "You are an expert" in p)
    task, plan = coder.split("\nPlan:\n")
    assert task.endswith(scripts.TASK.strip() + "\n\n") and '"add two numbers"' in plan
