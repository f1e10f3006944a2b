"""``codeagent eval --mode samples``: K scored draws per problem, the ceiling of selection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import PrivateAttr
from typer.testing import CliRunner

from codeagent.evals.cli import register
from codeagent.evals.datasets import Problem
from codeagent.evals.harness import EvalOptions, run_eval
from codeagent.evals.metrics import sample_metrics, summarize
from codeagent.evals.report import write_report
from codeagent.evals.results import ProblemResult, read_results
from codeagent.evals.samples import examples_check
from codeagent.evals.scoring import score_hidden
from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

PROMPT = 'def add(a, b):\n    """Return the sum.\n    >>> add(2, 3)\n    5\n    """\n'
# HALF (a + b only for a >= 0) passes the example and the first hidden assert, not the second
TEST = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"


class _Seeded(ScriptedChatModel):
    """A scripted model with a seed, recording each call's settings."""

    seed: int | None = 7
    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._calls.append({k: kwargs[k] for k in ("temperature", "seed") if k in kwargs})
        return super()._generate(messages, stop, run_manager, **kwargs)


def _sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxLimits(cpu_time_s=10))


def _dataset(tmp_path: Path, prompt: str = PROMPT) -> Path:
    row = {"task_id": "Toy/0", "prompt": prompt, "test": TEST, "entry_point": "add"}
    path = tmp_path / "toy.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return path


def _result(hidden: list[bool], examples: list[bool | None]) -> ProblemResult:
    return ProblemResult(
        task_id="t/1",
        mode="samples",
        passed=hidden[0],
        status="answered",
        draws_hidden=hidden,
        draws_examples=examples,
    )


@pytest.mark.usefixtures("bwrap")
def test_each_draw_is_scored_on_the_hidden_tests_and_on_the_examples(tmp_path: Path) -> None:
    draws = [scripts.BAD, scripts.HALF, scripts.GOOD]
    model = _Seeded(rules=[Rule(match="expert Python programmer", replies=draws)])
    options = EvalOptions(
        dataset=str(_dataset(tmp_path)),
        mode="samples",
        samples=3,
        workflow=str(scripts.write_workflow(tmp_path)),
        out=tmp_path / "eval",
    )

    run = run_eval(options, chat_model=model, sandbox_factory=_sandbox)

    (result,) = run.results
    assert result.draws_hidden == [False, False, True]
    assert result.draws_examples == [False, True, True]
    assert (result.passed, result.calls, result.status) == (False, 3, "answered")
    # draw 0 as single-shot asks it; later ones hotter, each with its own seed
    assert model._calls == [{}, {"temperature": 0.8, "seed": 8}, {"temperature": 0.8, "seed": 9}]
    assert run.summary["any_of_first"] == {"1": 0.0, "2": 0.0, "3": 1.0}
    # choosing by the example takes HALF, which the hidden tests fail
    assert (run.summary["examples_any"], run.summary["examples_pick"]) == (1.0, 0.0)
    kept = tmp_path / "eval" / "work" / "samples" / "Toy_0"
    assert sorted(p.name for p in kept.iterdir()) == ["draw-0", "draw-1", "draw-2"]
    assert read_results(tmp_path / "eval" / "results-samples.jsonl")[0] == result
    report = write_report(tmp_path / "eval")["md"].read_text()
    assert "| any_of_first | 1 0.0, 2 0.0, 3 1.0 |" in report


def test_examples_check_asserts_what_the_task_shows(tmp_path: Path) -> None:
    prose = (
        "Write a function to find the volume of a sphere.\n"
        "assert math.isclose(volume(10), 4188.79, rel_tol=0.001)\n"
    )
    problem = Problem("p/1", prose, "def check(candidate):\n    pass\n", "volume")

    check = examples_check(problem)

    assert check is not None
    assert check.test.startswith("import math\n")
    assert "assert (math.isclose(volume(10), 4188.79, rel_tol=0.001)) == (True)" in check.test
    assert "pass" not in check.test  # the hidden test is not part of it
    assert examples_check(Problem("p/2", "Write a function.\n", "", "f")) is None


@pytest.mark.usefixtures("bwrap")
def test_an_examples_check_passes_right_code_and_fails_wrong_code() -> None:
    prose = (
        "Write a function to find the area of a circle.\n"
        "assert math.isclose(area(1), 3.1416, rel_tol=0.001)\n"
    )
    check = examples_check(Problem("p/1", prose, "", "area"))
    assert check is not None
    right = {"solution.py": "import math\n\ndef area(r):\n    return math.pi * r * r\n"}
    wrong = {"solution.py": "def area(r):\n    return 2 * r\n"}

    assert score_hidden(check, right, _sandbox).passed
    assert not score_hidden(check, wrong, _sandbox).passed


def test_sample_metrics_are_the_ceiling_and_the_choice_by_examples() -> None:
    results = [
        _result([True, False, False], [True, False, False]),
        _result([False, False, True], [False, False, True]),  # found at draw 3, by its example
        _result([False, False, False], [None, None, None]),  # no examples shown
        _result([False, True, True], [True, True, True]),  # the example passes wrong code
    ]

    metrics = sample_metrics(results)

    assert metrics == {
        "samples": 3,
        "any_of_first": {"1": 0.25, "2": 0.5, "3": 0.75},
        "examples_any": 0.75,
        "examples_pick": 0.5,
    }
    assert summarize(results)["pass_at_1"] == 0.25  # draw 0 is the single-shot answer
    plain = ProblemResult(task_id="t/1", mode="agent", passed=True, status="success")
    assert "any_of_first" not in summarize([plain])


@pytest.mark.usefixtures("bwrap")
def test_the_eval_command_takes_samples_only_in_samples_mode(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command, so "eval" is a subcommand
    workflow = str(scripts.write_workflow(tmp_path))
    (tmp_path / "rules.yaml").write_text(
        json.dumps({"rules": [{"match": "expert Python programmer", "reply": scripts.GOOD}]})
    )
    base = ["eval", "--dataset", str(_dataset(tmp_path)), "--workflow", workflow, "--json"]

    wrong = CliRunner().invoke(app, [*base, "--mode", "agent", "--samples", "3"])
    ran = CliRunner().invoke(
        app, [*base, "--mode", "samples", "--samples", "2", "--out", str(tmp_path / "e")]
    )

    assert wrong.exit_code == 2
    assert "--samples is for --mode samples" in wrong.output
    assert "Traceback" not in wrong.output
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout)["summary"]
    assert (summary["samples"], summary["any_of_first"]) == (2, {"1": 1.0, "2": 1.0})
    assert summary["calls_mean"] == 2.0
