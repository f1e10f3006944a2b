"""Whole jobs on the docker backend (scripted model, real engine): Python and JavaScript."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codeagent.configs import workflow_path
from codeagent.graphs import WorkflowSpec, load_workflow, run_job
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts
from tests.docker_support import leftover_containers, require_docker

pytestmark = pytest.mark.docker


def _spec(language: str = "python") -> WorkflowSpec:
    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["sandbox"]["backend"] = "docker"
    data["sandbox"]["language"] = language
    return WorkflowSpec.model_validate(data)


def test_the_default_workflow_runs_on_docker(tmp_path: Path) -> None:
    client, _ = require_docker()
    exporter = InMemorySpanExporter()
    model = scripts.model(code=[scripts.BAD], fix=[scripts.GOOD])
    result = run_job(
        scripts.TASK,
        workflow=_spec(),
        chat_model=model,
        out=tmp_path / "out",
        span_processors=[SimpleSpanProcessor(exporter)],
    )
    assert result.status == "success", result.error
    assert result.attempts == 2
    assert result.test_report is not None and result.test_report["coverage"] == 100.0
    runs = [s for s in exporter.get_finished_spans() if s.name == "execute_tool sandbox.run"]
    # each test run, then the same tests against a stub of the code
    assert [s.attributes["codeagent.sandbox.backend"] for s in runs] == ["docker"] * 4
    assert [s.attributes["process.exit_code"] for s in runs] == [1, 1, 0, 1]
    assert leftover_containers(client) == []


JS_PLAN = json.dumps(
    {"summary": "add", "files": ["solution.js"], "steps": ["add"], "test_cases": []}
)
JS_EXPORT = "module.exports = { add };\n```\n"
JS_BAD = "solution.js\n```javascript\nfunction add(a, b) { return a - b; }\n" + JS_EXPORT
JS_GOOD = "solution.js\n```javascript\nfunction add(a, b) { return a + b; }\n" + JS_EXPORT
JS_TESTS = (
    "solution.test.js\n```javascript\n"
    "const test = require('node:test');\n"
    "const assert = require('node:assert');\n"
    "const { add } = require('./solution');\n"
    "test('adds', () => { assert.strictEqual(add(1, 2), 3); });\n"
    "test('zero', () => { assert.strictEqual(add(0, 0), 0); });\n"
    "```\n"
)


def test_a_javascript_task_runs_end_to_end_on_docker(tmp_path: Path) -> None:
    client, _ = require_docker()
    model = ScriptedChatModel(
        rules=[
            Rule(name="plan", match="You are the planner", reply=JS_PLAN),
            Rule(name="fix", match="Your previous version", reply=JS_GOOD),
            Rule(name="code", match="You are the coder", reply=JS_BAD),
            Rule(name="test", match="You are the tester", reply=JS_TESTS),
            Rule(name="review", match="You are the reviewer", reply=scripts.APPROVE),
        ]
    )
    result = run_job(
        "Write add(a, b) in JavaScript (CommonJS) returning the sum.",
        workflow=_spec("javascript"),
        chat_model=model,
        out=tmp_path / "out",
    )
    assert result.status == "success", result.error
    assert result.attempts == 2
    assert set(result.files) == {"solution.js"}
    assert set(result.tests) == {"solution.test.js"}
    assert result.test_report is not None
    assert (result.test_report["passed"], result.test_report["total"]) == (2, 2)
    assert (tmp_path / "out" / "solution.js").read_text() == JS_GOOD.split("```javascript\n")[
        1
    ].split("```")[0]
    assert leftover_containers(client) == []


def test_candidates_are_told_apart_by_probe_runs_on_docker(tmp_path: Path) -> None:
    client, _ = require_docker()
    path = workflow_path("small-model")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["sandbox"]["backend"] = "docker"
    data["nodes"]["code"]["options"] = {"candidates": 5, "agreement": 2}
    model = scripts.model(code=[scripts.HALF, scripts.GOOD, scripts.GOOD])
    exporter = InMemorySpanExporter()
    result = run_job(
        scripts.TASK,
        workflow=WorkflowSpec.model_validate(data),
        chat_model=model,
        out=tmp_path / "out",
        span_processors=[SimpleSpanProcessor(exporter)],
    )

    assert result.status == "success", result.error
    assert "return a + b\n" in result.files["solution.py"]  # HALF passed add(2, 3) too
    assert result.usage["calls"] == 3
    runs = [s for s in exporter.get_finished_spans() if s.name == "execute_tool sandbox.run"]
    # each candidate: examples, then the probe script; then the tester's run and its stub run
    assert [s.attributes["codeagent.sandbox.backend"] for s in runs] == ["docker"] * 8
    probes = [
        s for s in runs if "codeagent_probe.py" in str(s.attributes["codeagent.sandbox.command"])
    ]
    assert [s.attributes["process.exit_code"] for s in probes] == [0, 0, 0]
    assert leftover_containers(client) == []


def test_a_repo_job_runs_on_docker(tmp_path: Path) -> None:
    """issue 14's 'done when': a failing test named, fixed in the Docker sandbox, a patch."""
    from tests.repo_support import FIX, TASK, calc_model, make_calc_repo, untouched

    client, _ = require_docker()
    repo = make_calc_repo(tmp_path)
    path = workflow_path("repo-fix")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["sandbox"]["backend"] = "docker"
    exporter = InMemorySpanExporter()

    result = run_job(
        TASK,
        workflow=WorkflowSpec.model_validate(data),
        repo=repo,
        chat_model=calc_model(FIX),
        span_processors=[SimpleSpanProcessor(exporter)],
    )

    assert result.status == "success", (result.error, result.test_report)
    assert result.patch and "+    return a + b" in result.patch
    runs = [s for s in exporter.get_finished_spans() if s.name == "execute_tool sandbox.run"]
    assert runs and {s.attributes["codeagent.sandbox.backend"] for s in runs} == {"docker"}
    root = next(s for s in exporter.get_finished_spans() if s.name.startswith("invoke_workflow"))
    assert root.attributes["codeagent.patch.files"] == ("calc.py",)
    untouched(repo)
    assert leftover_containers(client) == []
