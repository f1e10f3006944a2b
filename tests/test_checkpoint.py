"""Checkpointers for real: SQLite by default, PostgreSQL by URL; a failed job resumes."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from codeagent.graphs import job_history, resume_job, run_job
from codeagent.graphs.jobs.checkpoint import open_checkpointer, state_dir
from codeagent.tools.errors import ConfigError, SandboxError
from codeagent.tools.sandbox import LocalSandbox, Sandbox
from tests import scripts

PG_ENV = "CODEAGENT_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "postgres":
        url = os.environ.get(PG_ENV)
        if not url:
            if os.environ.get("CI") == "true":
                pytest.fail(
                    f"{PG_ENV} is not set: CI must start PostgreSQL (.ci/setup-postgres.sh)"
                )
            pytest.skip(f"no PostgreSQL: set {PG_ENV} (see .ci/setup-postgres.sh)")
        monkeypatch.setenv("CODEAGENT_CHECKPOINT_URL", url)
    return str(request.param)


class FlakySandbox:
    """Fails to start the first ``failures`` times, like a Docker daemon that went away."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def __call__(self) -> Sandbox:
        if self.failures > 0:
            self.failures -= 1
            raise SandboxError("the sandbox engine went away", hint="start it again")
        return LocalSandbox()


@pytest.mark.usefixtures("bwrap")
def test_a_job_that_failed_mid_way_resumes_without_redoing_nodes(
    store: str, tmp_path: Path
) -> None:
    model = scripts.model()
    sandbox = FlakySandbox(failures=1)
    first = run_job(scripts.TASK, chat_model=model, sandbox_factory=sandbox, out=tmp_path / "o")
    assert first.status == "error"
    assert "sandbox engine went away" in (first.error or "")
    assert first.files  # the coder's work is in the checkpoint, not lost

    again = resume_job(first.thread_id, chat_model=model, sandbox_factory=sandbox)
    assert again.status == "success"
    assert again.files == first.files
    calls = Counter(p.split("\n")[0] for p in model.prompts)
    # planner and coder ran once; the tester re-ran its model call once (it failed mid-node)
    assert [n for n, c in calls.items() if c > 1] == [next(p for p in calls if "tester" in p)]
    nodes = [row.node for row in job_history(first.thread_id)]
    assert nodes == ["(start)", "plan", "code", "test", "review"]


def test_postgres_holds_the_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set")
        pytest.skip("no PostgreSQL")
    monkeypatch.setenv("CODEAGENT_CHECKPOINT_URL", url)
    result = run_job(
        scripts.TASK, workflow="quick", chat_model=scripts.model(), sandbox_factory=LocalSandbox
    )
    assert result.status == "success"
    assert not (state_dir() / "checkpoints.sqlite").exists()
    with open_checkpointer(state_dir()) as saver:
        rows = list(saver.list({"configurable": {"thread_id": result.thread_id}}))
    assert len(rows) >= 3


def test_a_bad_checkpoint_url_is_a_config_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEAGENT_CHECKPOINT_URL", "postgresql://me:hunter2secret@127.0.0.1:9/none")
    with pytest.raises(ConfigError) as info, open_checkpointer(state_dir()):
        pass
    assert "hunter2secret" not in str(info.value)
    assert "me:***@" in str(info.value)
    monkeypatch.setenv("CODEAGENT_CHECKPOINT_URL", "mysql://x")
    with (
        pytest.raises(ConfigError, match="unsupported checkpoint URL"),
        open_checkpointer(state_dir()),
    ):
        pass


@pytest.mark.usefixtures("bwrap")
def test_a_seeded_api_key_is_in_no_checkpoint_or_run_file(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-fake-checkpoint-canary-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    result = run_job(scripts.TASK, chat_model=scripts.model(), sandbox_factory=LocalSandbox)
    assert result.status == "success"
    stored = [state_dir() / "checkpoints.sqlite", *(state_dir() / "runs").rglob("*")]
    stored += list(state_dir().glob("checkpoints.sqlite-*"))  # WAL files
    assert len(stored) > 3
    for path in stored:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_waiting_for_the_schema_lock_does_not_deadlock_a_concurrent_index_build() -> None:
    """Two workers on a fresh database: one holds the schema lock and builds an index
    CONCURRENTLY (as LangGraph's migrations do), the other waits for the lock. Waiting
    inside ``pg_advisory_lock`` kept a transaction open that the index build waits for:
    PostgreSQL's deadlock detector killed one of them, and that job never ran."""
    import threading

    import psycopg
    from psycopg.rows import dict_row

    from codeagent.graphs.jobs.checkpoint import schema_lock
    from tests.worker_support import require_postgres

    url = require_postgres()
    table = f"codeagent_lock_test_{os.getpid()}"
    with (
        psycopg.connect(url, autocommit=True) as holder,
        psycopg.connect(url, autocommit=True, row_factory=dict_row) as waiter,  # as LangGraph's
    ):
        holder.execute(f"CREATE TABLE {table} (x int)")
        try:
            order: list[str] = []
            with schema_lock(holder):
                thread = threading.Thread(
                    target=lambda: _take(waiter, order), name="schema-waiter", daemon=True
                )
                thread.start()
                time.sleep(0.3)  # the waiter is now polling for the lock
                holder.execute(f"CREATE INDEX CONCURRENTLY {table}_x ON {table} (x)")
                order.append("index built")
            thread.join(30)
            assert order == ["index built", "waiter had the lock"]
        finally:
            holder.execute(f"DROP TABLE IF EXISTS {table}")


def _take(conn: object, order: list[str]) -> None:
    from codeagent.graphs.jobs.checkpoint import schema_lock

    with schema_lock(conn):
        order.append("waiter had the lock")
