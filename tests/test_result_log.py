"""The resumable JSONL results file shared by batches and evals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeagent.evals.results import ProblemResult, read_results, result_store
from codeagent.graphs.jobs.batch import run_batch
from codeagent.graphs.jobs.result_log import ResultLog
from codeagent.tools.testing import FakeSandbox
from tests import scripts


def _log(path: Path, *, fresh: bool = False) -> ResultLog[dict[str, Any]]:
    def decode(data: dict[str, Any]) -> dict[str, Any] | None:
        return data if data.get("status") != "skip-me" else None

    return ResultLog(path, key=lambda r: r["id"], decode=decode, encode=json.dumps, fresh=fresh)


def test_results_come_back_by_id_the_later_line_winning(tmp_path: Path) -> None:
    log = _log(tmp_path / "deep" / "results.jsonl")
    log.append({"id": "a", "status": "error"})
    log.append({"id": "b", "status": "success"})
    log.append({"id": "a", "status": "success"})
    log.append({"id": "c", "status": "skip-me"})

    assert _log(log.path).load() == {
        "a": {"id": "a", "status": "success"},
        "b": {"id": "b", "status": "success"},
    }


def test_a_line_torn_by_a_kill_is_skipped_and_the_next_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text('{"id": "a", "status": "success"}\n{"id": "b", "sta')

    log = _log(path)
    assert list(log.load()) == ["a"]
    log.append({"id": "b", "status": "success"})

    assert path.read_text().splitlines()[1:] == ['{"id": "b", "sta', json.dumps(log.load()["b"])]
    assert list(_log(path).load()) == ["a", "b"]


def test_a_fresh_log_drops_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    _log(path).append({"id": "a", "status": "success"})

    assert _log(path, fresh=True).load() == {}


def test_eval_results_written_by_earlier_versions_still_load(tmp_path: Path) -> None:
    path = tmp_path / "results-agent.jsonl"
    old = {"task_id": "T/1", "mode": "agent", "passed": True, "status": "success"}
    path.write_text(json.dumps({**old, "retired_field": 1}) + "\n")  # unknown keys are ignored

    store = result_store(path, resume=True)
    store.append(ProblemResult(task_id="T/2", mode="agent", passed=False, status="failed"))

    assert [(r.task_id, r.passed) for r in read_results(path)] == [("T/1", True), ("T/2", False)]
    assert json.loads(path.read_text().splitlines()[1])["task_id"] == "T/2"


def test_a_batch_results_file_written_before_is_resumed(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "add", "task": scripts.TASK}) + "\n")
    line = {
        "id": "add",
        "status": "success",
        "task": scripts.TASK,
        "workflow": "default",
        "thread_id": "batch-1234abcd-add",
        "attempts": 1,
        "passed": 4,
        "total": 4,
        "usage": {"calls": 4},
        "out_dir": None,
        "error": None,
        "seconds": 1.5,
    }
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.jsonl").write_text(json.dumps(line) + "\n")
    model = scripts.model()

    [result] = run_batch(tasks, out=tmp_path / "b", chat_model=model, sandbox_factory=FakeSandbox)

    assert result.skipped and (result.passed, result.seconds) == (4, 1.5)
    assert model.prompts == []
