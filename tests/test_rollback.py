"""The rollback gate: a change that breaks passing code is undone before the repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.configs import workflow_path
from codeagent.graphs import NodeEvent, RunResult, run_job
from codeagent.graphs.cli.render import describe_update
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from tests import scripts
from tests.test_graph import _outcomes

pytestmark = pytest.mark.usefixtures("bwrap")


def _default(rollback: str) -> WorkflowSpec:
    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["rollback"] = rollback
    return WorkflowSpec.model_validate(data)


def _run(
    tmp_path: Path, rollback: str, lines: list[str] | None = None
) -> tuple[list[str], RunResult]:
    # attempt 1 passes; the reviewer asks for a change; attempt 2 breaks it; attempt 3 fixes
    model = scripts.model(
        code=[scripts.GOOD],
        fix=[scripts.BAD, scripts.GOOD],
        review=[scripts.CHANGES, scripts.APPROVE],
    )

    def show(event: NodeEvent) -> None:
        if lines is not None and event.kind != "start":
            lines.append(describe_update(event.node, event.update)[1])

    result = run_job(
        scripts.TASK,
        workflow=_default(rollback),
        chat_model=model,
        out=tmp_path / "out",
        on_event=show,
    )
    fixes = [p for p in model.prompts if "Your previous version" in p]
    return fixes, result


def test_a_change_that_breaks_the_tests_is_rolled_back(tmp_path: Path) -> None:
    lines: list[str] = []
    fixes, result = _run(tmp_path, "last_passing", lines)

    assert result.status == "success"
    assert "1/4 tests passed; back to attempt 1 -> code (fail)" in lines  # the CLI's progress
    thread = result.thread_id
    outcomes = _outcomes(thread, tmp_path)
    at = outcomes.index(("test", "rollback", "test"))
    assert outcomes[at - 2 : at + 2] == [
        ("review", "changes", "code"),
        ("code", "always", "test"),
        ("test", "rollback", "test"),
        ("test", "fail", "code"),
    ]
    assert len(fixes) == 2
    repair = fixes[1].split("Your previous version")[1]
    assert "a + b" in repair and "a - b" not in repair  # it starts from the passing version
    assert "made the tests fail, so it was undone" in repair
    assert "add(2, 3) should be 5, but it returned -1" in repair
    assert "add a docstring" in repair  # the change it must make again


def test_without_the_gate_the_repair_starts_from_the_broken_version(tmp_path: Path) -> None:
    fixes, result = _run(tmp_path, "off")

    assert result.status == "success"
    assert all(o[1] != "rollback" for o in _outcomes(result.thread_id, tmp_path))
    repair = fixes[1].split("Your previous version")[1]
    assert "a - b" in repair and "undone" not in repair


def test_nothing_is_rolled_back_before_a_version_has_passed(tmp_path: Path) -> None:
    model = scripts.model(code=[scripts.BAD], fix=[scripts.GOOD])
    result = run_job(scripts.TASK, workflow=_default("last_passing"), chat_model=model)

    assert result.status == "success"
    assert all(o[1] != "rollback" for o in _outcomes(result.thread_id, tmp_path))
