"""Batches and evals on the celery engine: real Redis, real PostgreSQL, two worker processes.

The workers run the scripted workflows with ``FakeSandbox``; the local engine runs the
same tasks in threads with the same sandbox, and every result must match.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from codeagent.evals.cli import register as register_eval
from codeagent.evals.results import read_results
from codeagent.graphs.cli.main import app as codeagent_app
from codeagent.graphs.jobs.batch import BatchResult, run_batch
from codeagent.graphs.jobs.config import CHECKPOINT_URL_ENV, RunConfig
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import BROKER_URL_ENV, EngineSettings
from codeagent.graphs.workers.batch import needs_submit
from codeagent.tools.errors import ConfigError
from codeagent.tools.testing import FakeSandbox, ScriptedChatModel
from tests import scripts
from tests.redis_support import RedisServer
from tests.worker_support import FAKE_SANDBOX, Workers, require_postgres, require_redis


@dataclass(frozen=True)
class Engine:
    """A broker, a shared job store and two workers taking jobs from it."""

    settings: EngineSettings
    config: RunConfig
    workers: Workers


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = require_postgres()
    require_redis()
    root = tmp_path_factory.mktemp("engine")
    with RedisServer() as redis:
        env = {
            **os.environ,
            BROKER_URL_ENV: redis.url,
            CHECKPOINT_URL_ENV: url,
            "CODEAGENT_SWEEP_EVERY_S": "0",  # other tests' jobs in the database are theirs
        }
        workers = Workers(root, env)
        try:
            workers.start(2, *FAKE_SANDBOX)
            yield Engine(EngineSettings(redis.url), RunConfig(root / "client", url), workers)
        finally:
            workers.stop()


VARIANTS = {"plain": {}, "review": {"review": [scripts.CHANGES]}, "half": {"code": [scripts.HALF]}}


def _tasks(root: Path, n: int, variants: tuple[str, ...] = tuple(VARIANTS)) -> Path:
    """``n`` tasks over scripted workflows, in turn: ``plain`` (approved at once),
    ``review`` (never approved: failed after its review rounds), ``half`` (other code)."""
    for name in variants:
        (root / name).mkdir(parents=True, exist_ok=True)
        scripts.write_workflow(root / name, **VARIANTS[name])
    rows = [
        {
            "id": f"t{i}",
            "task": f"{scripts.TASK}\n(variant {i})",
            "workflow": f"{variants[i % len(variants)]}/workflow.yaml",
        }
        for i in range(n)
    ]
    path = root / "tasks.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _essence(result: BatchResult) -> tuple[object, ...]:
    return (
        result.id,
        result.status,
        result.passed,
        result.total,
        result.attempts,
        result.usage.get("calls"),
        result.workflow,
        result.error,
    )


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def _folder(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"{name}-{uuid.uuid4().hex[:8]}"  # job ids are unique in the database


def _record(thread_id: str, **changes: object) -> JobRecord:
    base = JobRecord(thread_id, "task", "wf.yaml", "name: x", "/tmp/out", time.time())
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("record", "submit"),
    [
        (None, True),
        (_record("t", status="error", engine="celery"), True),
        (_record("t", status="queued", engine="celery"), False),
        (_record("t", status="running", engine="celery"), False),
        (_record("t", status="success", engine="celery"), False),
        (_record("t", status="awaiting_approval", engine="celery"), False),
        (_record("t", status="running"), True),  # the local engine was interrupted
        (_record("t", status="failed"), False),
    ],
)
def test_a_job_is_queued_only_when_no_worker_has_it(record: JobRecord | None, submit: bool) -> None:
    assert needs_submit(record) is submit


def test_a_chat_model_cannot_travel_to_workers(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, 1)
    settings = EngineSettings("redis://127.0.0.1:1/0")
    with pytest.raises(ConfigError, match="cannot travel"):
        run_batch(tasks, engine="celery", settings=settings, chat_model=ScriptedChatModel())
    with pytest.raises(ConfigError, match="cannot travel"):
        run_batch(tasks, engine="celery", settings=settings, sandbox_factory=FakeSandbox)


def test_a_broker_that_does_not_answer_fails_before_anything_is_queued(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once closed
    config = RunConfig(tmp_path / "home")
    settings = EngineSettings(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(ConfigError, match="does not answer"):
        run_batch(_tasks(tmp_path, 2), engine="celery", settings=settings, config=config)
    assert store_for(config).list_records() == []


@pytest.mark.slow
def test_a_batch_on_workers_gives_what_the_local_engine_gives(
    engine: Engine, tmp_path: Path
) -> None:
    tasks = _tasks(tmp_path, 20)
    local_out, celery_out = tmp_path / "local", _folder(tmp_path, "celery")
    local = run_batch(
        tasks,
        workers=2,
        out=local_out,
        sandbox_factory=FakeSandbox,
        config=RunConfig(tmp_path / "home"),
    )
    seen: list[str] = []

    remote = run_batch(
        tasks,
        engine="celery",
        settings=engine.settings,
        out=celery_out,
        config=engine.config,
        on_result=lambda r: seen.append(r.id),
    )

    assert [_essence(r) for r in remote] == [_essence(r) for r in local]
    assert {r.status for r in remote} == {"success", "failed"}  # the reviewer never approves
    assert sorted(seen) == sorted(r.id for r in local)
    lines = (celery_out / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(seen)
    for result in remote:
        assert (result.thread_id or "").startswith("batch-")
        assert (result.thread_id or "").endswith(f"-{result.id}")
        assert _files(celery_out / result.id) == _files(local_out / result.id)
        assert result.seconds > 0
    records = [store_for(engine.config).load_record(r.thread_id or "") for r in remote]
    assert [(r.engine, r.status) for r in records] == [("celery", r.status) for r in remote]
    assert all(engine.workers.log(i).count("succeeded") for i in (0, 1))  # both took jobs


@pytest.mark.slow
def test_a_second_run_follows_its_jobs_and_queues_again_only_an_error(
    engine: Engine, tmp_path: Path
) -> None:
    tasks, out = _tasks(tmp_path, 3, ("plain",)), _folder(tmp_path, "again")
    first = run_batch(
        tasks, engine="celery", settings=engine.settings, out=out, config=engine.config
    )
    store = store_for(engine.config)
    before = {r.id: store.load_record(r.thread_id or "") for r in first}
    store.save_record(before["t0"].with_status("error", "the worker's machine burned"))
    (out / "results.jsonl").unlink()

    again = run_batch(
        tasks, engine="celery", settings=engine.settings, out=out, config=engine.config
    )

    assert [(r.id, r.status, r.skipped) for r in again] == [
        ("t0", "success", False),
        ("t1", "success", False),
        ("t2", "success", False),
    ]
    after = {r.id: store.load_record(r.thread_id or "") for r in again}
    assert after["t0"].enqueued_at != before["t0"].enqueued_at  # queued again: it had an error
    assert [after[i].enqueued_at for i in ("t1", "t2")] == [
        before[i].enqueued_at for i in ("t1", "t2")
    ]
    third = run_batch(
        tasks, engine="celery", settings=engine.settings, out=out, config=engine.config
    )
    assert [r.skipped for r in third] == [True, True, True]


@pytest.mark.slow
def test_the_batch_command_runs_on_workers(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHECKPOINT_URL_ENV, engine.config.checkpoint_url or "")
    monkeypatch.delenv(BROKER_URL_ENV, raising=False)
    tasks, out = _tasks(tmp_path, 3, ("plain",)), _folder(tmp_path, "cli")
    args = ["batch", str(tasks), "--out", str(out), "--engine", "celery"]

    result = CliRunner().invoke(codeagent_app, [*args, "--broker", engine.settings.broker_url])

    assert result.exit_code == 0, result.output
    assert "3 tasks: 3 success" in result.output
    assert (out / "t1" / "solution.py").is_file()
    missing = CliRunner().invoke(codeagent_app, args)
    assert missing.exit_code != 0 and "no broker" in str(missing.exception)


@pytest.mark.slow
@pytest.mark.usefixtures("bwrap")
def test_an_eval_on_workers_is_scored_here(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHECKPOINT_URL_ENV, engine.config.checkpoint_url or "")
    monkeypatch.setenv(BROKER_URL_ENV, engine.settings.broker_url)
    app = typer.Typer()
    register_eval(app)
    app.command("noop")(lambda: None)  # a second command, so "eval" is a subcommand
    workflow = scripts.write_workflow(tmp_path)
    prompt = 'def add(a, b):\n    """Return the sum.\n    >>> add(2, 3)\n    5\n    """\n'
    rows = [
        {
            "task_id": f"Toy/{i}",
            "prompt": prompt,
            "entry_point": "add",
            "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
        }
        for i in range(3)
    ]
    dataset = tmp_path / "toy.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "e"
    args = ["eval", "-d", str(dataset), "-w", str(workflow), "-o", str(out), "--json"]

    result = CliRunner().invoke(app, [*args, "--engine", "celery", "--workers", "2"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["pass_at_1"] == 1.0
    problems = read_results(out / "results-agent.jsonl")
    assert sorted(p.task_id for p in problems) == ["Toy/0", "Toy/1", "Toy/2"]
    assert all(p.status == "success" and p.own_total == 1 and p.wall_s > 0 for p in problems)
    assert (out / "work" / "agent" / "Toy_1" / "solution.py").is_file()  # written here
    assert not (out / "state").exists()  # the jobs' state is in the shared store
