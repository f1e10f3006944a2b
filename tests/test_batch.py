"""Batch jobs from a script: results JSONL, K workers, resumable after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeagent.graphs.jobs.batch import BatchResult, read_tasks, run_batch
from codeagent.tools.errors import ConfigError
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

SUB = "Write sub(a, b) that returns a minus b."


def _tasks(path: Path, *rows: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]


def test_read_tasks_gives_ids_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '# my tasks\n{"id": "add", "task": "x"}\n\n{"task": "y", "workflow": "quick"}\n'
    )
    tasks = read_tasks(path)
    assert tasks[0][0] == "add"
    assert tasks[1][0].startswith("task-") and tasks[1][1].workflow == "quick"
    assert read_tasks(path)[1][0] == tasks[1][0]  # the default id is stable


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"task": "a"}\n{"task": \n', 2, "invalid JSON"),
        ('{"id": "x"}\n', 1, "task: Field required"),
        ('{"id": "a", "task": "x"}\n{"id": "a", "task": "y"}\n', 2, "repeats the one on line 1"),
        ('{"id": "../up", "task": "x"}\n', 1, "id: String should match pattern"),
        ("\n# nothing\n", None, "has no task"),
    ],
)
def test_a_bad_tasks_file_names_the_line(
    tmp_path: Path, text: str, line: int | None, message: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        run_batch(path)
    assert info.value.line == line and message in str(info.value)
    assert info.value.hint


def test_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        run_batch(_tasks(tmp_path / "t.jsonl", {"task": "x"}), workers=0)


@pytest.mark.usefixtures("bwrap")
def test_a_batch_runs_in_parallel_and_is_not_rerun(tmp_path: Path) -> None:
    tasks = _tasks(
        tmp_path / "t.jsonl",
        {"id": "add", "task": scripts.TASK},
        {"id": "add-again", "task": scripts.TASK + "\nAgain."},
        {"id": "bad", "task": "x", "workflow": "no-such-workflow.yaml"},
    )
    model = scripts.model()
    seen: list[str] = []
    results = run_batch(
        tasks,
        workers=2,
        workflow="quick",
        out=tmp_path / "b",
        chat_model=model,
        on_result=lambda r: seen.append(r.id),
    )

    assert [r.id for r in results] == ["add", "add-again", "bad"]
    statuses = [r.status for r in results]
    assert statuses == ["success", "success", "error"], [r.error for r in results]
    assert sorted(seen) == ["add", "add-again", "bad"]
    assert results[0].passed == results[0].total == 4
    assert "not found" in (results[2].error or "")
    assert (tmp_path / "b" / "add" / "solution.py").is_file()
    assert {line["id"] for line in _lines(tmp_path / "b")} == {"add", "add-again", "bad"}

    calls = len(model.prompts)
    again = run_batch(tasks, workers=2, workflow="quick", out=tmp_path / "b", chat_model=model)
    assert [r.skipped for r in again] == [True, True, False]  # an error is tried again
    assert len(model.prompts) == calls  # finished tasks made no model call
    assert again[0] == BatchResult(**{**results[0].to_json(), "skipped": True})


@pytest.mark.usefixtures("bwrap")
def test_an_interrupted_task_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path / "t.jsonl", {"id": "add", "task": scripts.TASK})
    no_tester = ScriptedChatModel(rules=[Rule(match="You are the coder", reply=scripts.GOOD)])
    first = run_batch(tasks, workflow="quick", out=tmp_path / "b", chat_model=no_tester)
    assert first[0].status == "error"  # the tester's model call failed after the coder ran

    model = scripts.model()
    second = run_batch(tasks, workflow="quick", out=tmp_path / "b", chat_model=model)
    assert second[0].status == "success"
    assert second[0].thread_id == first[0].thread_id
    assert not any("You are the coder" in p for p in model.prompts)  # the coder is not re-run
    assert [line["status"] for line in _lines(tmp_path / "b")] == ["error", "success"]


@pytest.mark.usefixtures("bwrap")
def test_a_task_workflow_is_relative_to_the_tasks_file(tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    folder.mkdir()
    scripts.write_workflow(folder, base="quick")
    tasks = _tasks(
        folder / "t.jsonl", {"id": "add", "task": scripts.TASK, "workflow": "workflow.yaml"}
    )
    torn = tmp_path / "b" / "results.jsonl"
    torn.parent.mkdir()
    torn.write_text('{"id": "add", "status": "succ')  # a line torn by a kill

    results = run_batch(tasks, out=tmp_path / "b")  # the workflow's own scripted model

    assert results[0].status == "success" and results[0].workflow.endswith("workflow.yaml")
    lines = torn.read_text().splitlines()
    assert lines[0] == '{"id": "add", "status": "succ'  # kept, but on a line of its own
    assert json.loads(lines[1])["status"] == "success"
