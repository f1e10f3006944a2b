"""The celery engine under faults, with a real Redis broker and real PostgreSQL.

Workers are ``codeagent worker`` subprocesses with disks of their own, sharing only the
broker and the database; jobs use the scripted model (its calls are logged with the
worker's pid) and the fake sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from codeagent.graphs import job_history
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers import EngineSettings, JobHandle, submit_job
from codeagent.graphs.workers.sweeper import lost_jobs
from tests import scripts
from tests.redis_support import RedisServer
from tests.repo_support import write_repo_workflow
from tests.tcp_proxy import TcpProxy, target_of, through
from tests.worker_support import FAKE_SANDBOX, Worker, calls, engine_env, until

pytestmark = pytest.mark.slow

NODES = ["plan", "code", "test", "review"]


def _queue(tmp_path: Path) -> str:
    """A queue of this test's own: jobs other tests left in the shared database (which
    a sweeper may send again) never reach this test's workers."""
    return f"q-{abs(hash(str(tmp_path))):x}"


def _worker(name: str, tmp_path: Path, env: dict[str, str]) -> Worker:
    return Worker(name, tmp_path, env, *FAKE_SANDBOX, "--queues", _queue(tmp_path))


def _submit(tmp_path: Path, workflow: Path, url: str, broker: str, n: int) -> list[JobHandle]:
    config = RunConfig(tmp_path / "client", checkpoint_url=url)
    settings = EngineSettings(broker)
    return [
        submit_job(
            f"{scripts.TASK}\n(job {i})",
            workflow=workflow,
            out=tmp_path / f"out-{i}",
            queue=_queue(tmp_path),
            config=config,
            settings=settings,
        )
        for i in range(n)
    ]


def _nodes_run(handle: JobHandle) -> list[str]:
    rows = job_history(handle.thread_id, config=handle.config)
    return [row.node for row in rows if row.node != "(start)"]


def test_a_job_survives_its_worker_killed_mid_job(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    workflow = scripts.write_workflow(tmp_path, delay_s=1.0, log=True)
    env = engine_env(redis_server.url, pg_url)
    with _worker("a", tmp_path, env) as a, _worker("b", tmp_path, env) as b:
        a.wait_ready()
        b.wait_ready()
        (handle,) = _submit(tmp_path, workflow, pg_url, redis_server.url, 1)
        log = tmp_path / "calls.jsonl"
        # mid-job: the third model call (the tester's) has started, plan and code are done
        until(lambda: sum(c["event"] == "start" for c in calls(log)) >= 3, 60, "3rd call")
        victim = next(w for w in (a, b) if w.pid == calls(log)[-1]["pid"])
        victim.kill()
        result = handle.wait(timeout_s=90)
    assert result.status == "success"
    assert _nodes_run(handle) == NODES  # no finished node ran again
    done = [c for c in calls(log) if c["event"] == "done"]
    assert Counter(c["rule"] for c in done) == {"plan": 1, "code": 1, "test": 1, "review": 1}
    survivor = a if victim is b else b
    assert {c["pid"] for c in done if c["rule"] in ("test", "review")} == {survivor.pid}
    assert (tmp_path / "out-0" / "solution.py").read_text() == "def add(a, b):\n    return a + b\n"
    record = handle.record()
    spans = store_for(handle.config).read_trace(handle.thread_id)["resourceSpans"]
    trace_ids = {
        span["traceId"] for r in spans for scope in r["scopeSpans"] for span in scope["spans"]
    }
    assert trace_ids == {record.trace_parent.split("-")[1]}  # one trace across both workers


def test_jobs_survive_a_broker_restart_that_loses_every_message(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    workflow = scripts.write_workflow(tmp_path, delay_s=0.4, log=True)
    env = engine_env(redis_server.url, pg_url)
    with _worker("a", tmp_path, env) as worker:
        worker.wait_ready()
        handles = _submit(tmp_path, workflow, pg_url, redis_server.url, 4)
        log = tmp_path / "calls.jsonl"
        until(lambda: len(calls(log)) >= 2, 60, "the first job running")
        redis_server.restart()  # no persistence: the queue and the unacked message are gone
        results = [h.wait(timeout_s=120) for h in handles]
    assert [r.status for r in results] == ["success"] * 4
    assert "had lost its message: sent again" in worker.log.read_text()  # the sweeper's work
    assert all(_nodes_run(h) == NODES for h in handles)
    done = Counter(c["rule"] for c in calls(log) if c["event"] == "done")
    assert done == {"plan": 4, "code": 4, "test": 4, "review": 4}  # nothing done twice


def test_jobs_resume_after_the_database_was_briefly_away(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    workflow = scripts.write_workflow(tmp_path, delay_s=0.3, log=True)
    with TcpProxy(*target_of(pg_url)) as proxy:
        env = engine_env(redis_server.url, through(pg_url, proxy.port))
        with _worker("a", tmp_path, env) as a, _worker("b", tmp_path, env) as b:
            a.wait_ready()
            b.wait_ready()
            handles = _submit(tmp_path, workflow, pg_url, redis_server.url, 3)
            log = tmp_path / "calls.jsonl"
            until(lambda: len(calls(log)) >= 3, 60, "jobs running")
            proxy.cut()  # every worker connection to PostgreSQL drops, new ones fail
            until(lambda: "does not answer" in a.log.read_text() + b.log.read_text(), 30, "it")
            proxy.restore()
            results = [h.wait(timeout_s=120) for h in handles]
    assert [r.status for r in results] == ["success"] * 3
    for handle in handles:
        nodes = _nodes_run(handle)  # the checkpoints read back whole, in order
        assert nodes == NODES


def test_lost_jobs_are_celery_jobs_waiting_too_long_outside_the_queue(tmp_path: Path) -> None:
    from codeagent.graphs.jobs.records import JobRecord

    def record(tid: str, **kw: object) -> JobRecord:
        base = JobRecord(tid, "t", "w", "x", "/o", created_at=100.0, engine="celery")
        return JobRecord(**{**base.__dict__, **kw})

    records = [
        record("old-queued", status="queued", enqueued_at=100.0),
        record("fresh", status="queued", enqueued_at=195.0),
        record("in-queue", status="queued", enqueued_at=100.0),
        record("running", status="running", enqueued_at=100.0),
        record("ended", status="success", enqueued_at=100.0),
        record("local", status="running", engine=None),
    ]
    found = lost_jobs(records, {"in-queue"}, now=200.0, requeue_after_s=60.0)
    assert [r.thread_id for r in found] == ["old-queued", "running"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codeagent.graphs.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_the_cli_submits_approves_and_inspects_a_job_from_another_machine(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    workflow = scripts.write_workflow(tmp_path, log=True)
    data = yaml.safe_load(workflow.read_text())
    data["approvals"] = ["plan", "final"]
    workflow.write_text(yaml.safe_dump(data, sort_keys=False))
    env = engine_env(redis_server.url, pg_url)
    client = {**env, "CODEAGENT_HOME": str(tmp_path / "client")}  # no worker's disk
    with _worker("a", tmp_path, env) as worker:
        worker.wait_ready()
        submitted = _cli(
            client,
            "submit",
            scripts.TASK,
            "-w",
            str(workflow),
            "-o",
            str(tmp_path / "out"),
            "--queue",
            _queue(tmp_path),
            "--json",
        )
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        tid = json.loads(submitted.stdout)["thread_id"]
        for kind in ("plan", "final"):  # each pause holds no worker; the decision resumes it
            waited = _cli(client, "wait", tid, "--timeout", "120", "--json")
            assert waited.returncode == 3 and json.loads(waited.stdout)["status"] == (
                "awaiting_approval"
            ), (kind, waited.stdout, waited.stderr)
            approved = _cli(client, "approve", tid, "--reason", f"ok {kind}", "--json")
            assert json.loads(approved.stdout) == {"thread_id": tid, "status": "queued"}, (
                approved.stdout + approved.stderr
            )
        final = _cli(client, "wait", tid, "--timeout", "120", "--json")
    assert final.returncode == 0, final.stdout + final.stderr + worker.log.read_text()[-3000:]
    assert json.loads(final.stdout)["status"] == "success"
    status = json.loads(_cli(client, "status", tid, "--json").stdout)
    assert status["status"] == "success" and status["engine"] == "celery"
    audit = json.loads(_cli(client, "audit", tid, "--json").stdout)
    assert [line["event"] for line in audit].count("model_call") == 4
    trace = json.loads(_cli(client, "trace", "show", tid, "--json").stdout)
    runs = [
        span
        for r in trace["resourceSpans"]
        for scope in r["scopeSpans"]
        for span in scope["spans"]
        if span["name"].startswith("invoke_workflow")
    ]
    assert len(runs) == 3 and len({span["traceId"] for span in runs}) == 1  # 3 runs, 1 trace
    history = _cli(client, "history", tid)
    assert history.returncode == 0 and "review" in history.stdout
    assert (tmp_path / "out" / "solution.py").exists()  # written by wait, on the client
    assert env["CODEAGENT_BROKER_URL"] not in worker.log.read_text()


def test_a_shipped_workflow_from_another_install_is_read_next_to_ours(tmp_path: Path) -> None:
    from codeagent.graphs.jobs.execution import workflow_dir
    from codeagent.graphs.jobs.records import JobRecord
    from codeagent.graphs.workflow.shipped import workflow_path

    def record(path: str) -> JobRecord:
        return JobRecord("t", "task", path, "name: x", "/o", created_at=0.0)

    elsewhere = "/opt/other-venv/site-packages/codeagent/configs/repo-tests.yaml"
    shipped = workflow_path("repo-tests")
    assert shipped is not None and workflow_dir(record(elsewhere)) == shipped.parent
    assert workflow_dir(record(str(tmp_path / "mine.yaml"))) == tmp_path  # a file of yours


def test_submitting_to_a_dead_broker_is_a_clear_error_that_records_nothing(
    tmp_path: Path,
) -> None:
    from tests.redis_support import free_port

    env = {**os.environ, "CODEAGENT_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    env.pop("CODEAGENT_CHECKPOINT_URL", None)
    done = _cli(env, "submit", scripts.TASK, "-w", "quick", "--home", str(tmp_path / "h"))
    assert done.returncode == 2 and "does not answer" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "h" / "runs").exists()  # no job recorded, nothing queued


@pytest.mark.usefixtures("bwrap", "git_isolated")
def test_a_repo_job_runs_on_a_worker_and_its_patch_comes_back(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    """A repo job from a client with no worker's disk: the snapshot travels through the
    store, the worker runs the repository's tests in its own sandbox, and the patch is
    written, and applies, on the submitting machine; the user's tree is never touched."""
    from codeagent.graphs.jobs.delivery import deliver
    from tests.git_support import git
    from tests.repo_support import FIX, TASK, calc_model, make_calc_repo, untouched

    repo = make_calc_repo(tmp_path)
    workflow = write_repo_workflow(tmp_path, calc_model(FIX))
    env = engine_env(redis_server.url, pg_url)
    config = RunConfig(tmp_path / "client", checkpoint_url=pg_url)
    with Worker("a", tmp_path, env, "--queues", _queue(tmp_path)) as worker:  # real sandbox
        worker.wait_ready()
        handle = submit_job(
            TASK,
            workflow=workflow,
            repo=repo,
            out=tmp_path / "out",
            queue=_queue(tmp_path),
            config=config,
            settings=EngineSettings(redis_server.url),
        )
        result = handle.wait(timeout_s=180)
    assert result.status == "success", (result.error, worker.output()[-3000:])
    assert result.patch and "+    return a + b" in result.patch
    report = result.test_report or {}
    assert report["verified"] and report["regressions"] == [] and report["passed"] == 2
    assert (tmp_path / "out" / "changes.patch").read_text() == result.patch  # on the client
    untouched(repo)
    # the worker had only the store to get the repository from (its disk is its own);
    # so has the client once its local copy is gone
    assert list((tmp_path / "home-a").rglob("snapshots/*.tar"))
    shutil.rmtree(tmp_path / "client" / "snapshots")
    delivered = deliver(handle.thread_id, apply=True, config=config)
    assert delivered.applied == ["calc.py"]
    assert "return a + b" in (repo / "calc.py").read_text()
    assert git(repo, "status", "--porcelain").strip() == "M calc.py"
