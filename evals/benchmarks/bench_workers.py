"""Benchmark: jobs per second on celery workers (1, 2, 4 processes) against the local
engine (1, 2, 4 threads), and what the queue adds to one job.

Usage::

    CODEAGENT_CHECKPOINT_URL=postgresql://user:pw@host/db \\
        python -m codeagent.evals.benchmarks.bench_workers --jobs 40 --workers 1,2,4 [--json]

It needs PostgreSQL (``--checkpoint-url`` or ``$CODEAGENT_CHECKPOINT_URL``: worker
processes share jobs through it) and ``redis-server`` on PATH: it starts its own Redis
on a free port of 127.0.0.1 and its own ``codeagent worker`` processes, and stops them.

Every job is the default workflow (plan -> code -> test -> review) with a scripted model
that waits ``--model-delay`` seconds per call (a stand-in for an LLM endpoint) and
``FakeSandbox`` (no code runs). ``run_batch`` runs the same ``--jobs`` tasks with the
local engine on 1, 2, 4 threads and with the celery engine on 1, 2, 4 worker processes
(one worker thread each); both keep their state in the same PostgreSQL database, so
the difference is the engine. Workers are started, and warmed up with jobs of their
own, before any clock starts. ``overhead``: one job submitted and waited for alone (one
idle worker, polled every 20 ms) against the same job through ``run_job`` here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import redis
import typer
import yaml

from codeagent.graphs.jobs.batch import run_batch
from codeagent.graphs.jobs.config import CHECKPOINT_URL_ENV, RunConfig
from codeagent.graphs.jobs.runner import run_job
from codeagent.graphs.workers.app import BROKER_URL_ENV, EngineSettings
from codeagent.graphs.workers.submit import submit_job
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.tools.testing import FakeSandbox

__all__ = ["celery_rate", "local_rate", "main", "queue_overhead", "write_workflow"]

TASK = "Write add(a, b) that returns the sum of two integers."
_PLAN = '{"summary": "add", "files": ["solution.py"], "steps": ["add"], "test_cases": []}'
_CODE = "solution.py\n```python\ndef add(a, b):\n    return a + b\n```\n"
_TESTS = (
    "test_solution.py\n```python\nfrom solution import add\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n```\n"
)
_FAKE_SANDBOX = "codeagent.tools.testing:FakeSandbox"
_START_TIMEOUT_S = 120.0


def write_workflow(folder: Path, delay_s: float) -> Path:
    """The shipped default workflow with a scripted model (a rules file next to it)."""
    _, source = load_workflow("default")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["models"] = {"default": {"provider": "scripted", "script": "rules.yaml"}}
    rules = [
        {"match": "You are the planner", "reply": _PLAN},
        {"match": "You are the coder", "reply": _CODE},
        {"match": "You are the tester", "reply": _TESTS},
        {"match": "You are the reviewer", "reply": '{"verdict": "approve", "comments": []}'},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yaml").write_text(yaml.safe_dump({"delay_s": delay_s, "rules": rules}))
    target = folder / "workflow.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _write_tasks(path: Path, jobs: int) -> Path:
    rows = [{"id": f"j{i}", "task": f"{TASK}\n(job {i})"} for i in range(jobs)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _redis(folder: Path) -> Iterator[str]:
    """A Redis of this run's own on a free port (nothing on disk); yields its URL."""
    port = _free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        for _ in range(100):
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(10)


class _Workers:
    """``codeagent worker`` processes (FakeSandbox), each in a session of its own."""

    def __init__(self, folder: Path, broker_url: str, checkpoint_url: str) -> None:
        self._folder = folder
        self._env = {
            **os.environ,
            BROKER_URL_ENV: broker_url,
            CHECKPOINT_URL_ENV: checkpoint_url,
            "CODEAGENT_SWEEP_EVERY_S": "0",  # the database's other jobs are not ours
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def grow(self, count: int) -> None:
        """Start workers until there are ``count``; return once each listens."""
        while len(self.processes) < count:
            index = len(self.processes)
            env = {**self._env, "CODEAGENT_HOME": str(self._folder / f"w{index}")}
            with (self._folder / f"w{index}.log").open("wb") as log:
                cmd = [sys.executable, "-m", "codeagent.graphs.cli", "worker"]
                self.processes.append(
                    subprocess.Popen(
                        [*cmd, "--sandbox", _FAKE_SANDBOX],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            self._wait_ready(index)

    def _wait_ready(self, index: int) -> None:
        log = self._folder / f"w{index}.log"
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline and self.processes[index].poll() is None:
            if " ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {index} did not start:\n{log.read_text()[-2000:]}")

    def stop(self) -> None:
        """A warm shutdown (SIGTERM to each session), then SIGKILL."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def local_rate(root: Path, tasks: Path, workflow: Path, threads: int, config: RunConfig) -> float:
    """Seconds ``run_batch`` takes on ``threads`` threads of this process."""
    started = time.perf_counter()
    results = run_batch(
        tasks,
        workers=threads,
        workflow=workflow,
        out=root / f"local-{threads}",
        sandbox_factory=FakeSandbox,
        config=config,
    )
    seconds = time.perf_counter() - started
    _check(results)
    return seconds


def celery_rate(
    root: Path, tasks: Path, workflow: Path, settings: EngineSettings, config: RunConfig
) -> float:
    """Seconds ``run_batch`` takes on the celery engine (queueing included)."""
    started = time.perf_counter()
    results = run_batch(
        tasks,
        workflow=workflow,
        out=root / f"celery-{time.time_ns()}",
        config=config,
        engine="celery",
        settings=settings,
    )
    seconds = time.perf_counter() - started
    _check(results)
    return seconds


def _check(results: Sequence[Any]) -> None:
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"{len(bad)} jobs did not succeed, e.g. {bad[0]}")


def _succeeded(status: str, error: str | None) -> None:
    if status != "success":
        raise RuntimeError(f"a job ended {status}: {error}")


def warm_up(
    root: Path, workflow: Path, settings: EngineSettings, config: RunConfig, jobs: int
) -> None:
    """Run ``jobs`` jobs on the workers, untimed (imports, connections, first graphs)."""
    handles = [
        submit_job(TASK, workflow=workflow, out=root / "warm", config=config, settings=settings)
        for _ in range(jobs)
    ]
    for handle in handles:
        result = handle.wait(timeout_s=600, poll_s=0.1)
        _succeeded(result.status, result.error)


def queue_overhead(
    root: Path, workflow: Path, settings: EngineSettings, config: RunConfig, repeats: int
) -> dict[str, float]:
    """Median milliseconds of one job alone: submitted and waited for (an idle worker,
    polled every 20 ms), and through ``run_job`` here; their difference."""
    queued, here = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        handle = submit_job(
            TASK, workflow=workflow, out=root / "alone", config=config, settings=settings
        )
        result = handle.wait(timeout_s=300, poll_s=0.02)
        queued.append(time.perf_counter() - started)
        _succeeded(result.status, result.error)
        started = time.perf_counter()
        result = run_job(
            TASK, workflow=workflow, out=root / "here", sandbox_factory=FakeSandbox, config=config
        )
        here.append(time.perf_counter() - started)
        _succeeded(result.status, result.error)
    q, h = statistics.median(queued) * 1000, statistics.median(here) * 1000
    return {"queued_ms": round(q, 1), "local_ms": round(h, 1), "overhead_ms": round(q - h, 1)}


def _rows(
    engine: str, seconds: dict[int, float], local: dict[int, float], jobs: int
) -> list[dict[str, Any]]:
    """Table rows: jobs/s, the speed-up over the smallest count, and the rate against the
    local engine's at the same count (pure)."""
    base = seconds[min(seconds)]
    return [
        {
            "engine": engine,
            "parallel": n,
            "seconds": round(s, 2),
            "jobs_per_s": round(jobs / s, 2),
            "speedup": round(base / s, 2),
            "vs_local": round(local[n] / s, 2),
        }
        for n, s in sorted(seconds.items())
    ]


def measure(
    root: Path, checkpoint_url: str, jobs: int, counts: list[int], delay_s: float, repeats: int
) -> dict[str, Any]:
    """Run every measurement; the numbers as a dict."""
    config = RunConfig(root / "client", checkpoint_url)
    workflow = write_workflow(root / "wf", delay_s)
    tasks = _write_tasks(root / "tasks.jsonl", jobs)
    run_job(TASK, workflow=workflow, out=root / "here", sandbox_factory=FakeSandbox, config=config)
    local = {n: local_rate(root, tasks, workflow, n, config) for n in counts}
    with _redis(root) as broker_url:
        settings = EngineSettings(broker_url)
        workers = _Workers(root, broker_url, checkpoint_url)
        try:
            workers.grow(1)
            warm_up(root, workflow, settings, config, 2)
            overhead = queue_overhead(root, workflow, settings, config, repeats)
            remote = {}
            for n in counts:
                before = len(workers.processes)
                workers.grow(n)
                warm_up(root, workflow, settings, config, 2 * (n - before))
                remote[n] = celery_rate(root, tasks, workflow, settings, config)
        finally:
            workers.stop()
    return {
        "jobs": jobs,
        "model_delay_s": delay_s,
        "cpu_cores": os.cpu_count(),
        "runs": _rows("local (threads)", local, local, jobs)
        + _rows("celery (processes)", remote, local, jobs),
        "overhead": overhead,
    }


def _print(data: dict[str, Any]) -> None:
    typer.echo(
        f"{data['jobs']} jobs, scripted model {data['model_delay_s']} s/call, FakeSandbox, "
        f"{data['cpu_cores']} CPU cores"
    )
    head = f"{'engine':<20} {'parallel':>8} {'seconds':>8} {'jobs/s':>7} {'speed-up':>8}"
    typer.echo(f"{head} {'vs local':>8}")
    for row in data["runs"]:
        typer.echo(
            f"{row['engine']:<20} {row['parallel']:>8} {row['seconds']:>8.2f} "
            f"{row['jobs_per_s']:>7.2f} {row['speedup']:>7.2f}x {row['vs_local']:>7.2f}x"
        )
    o = data["overhead"]
    typer.echo(
        f"one job alone: queued {o['queued_ms']} ms, run_job here {o['local_ms']} ms, "
        f"queue overhead {o['overhead_ms']} ms"
    )


def main(
    jobs: Annotated[int, typer.Option(help="Jobs per measurement.")] = 40,
    workers: Annotated[
        str, typer.Option(help="Worker processes (and local threads), comma-separated.")
    ] = "1,2,4",
    model_delay: Annotated[float, typer.Option(help="Seconds per scripted model call.")] = 0.2,
    repeats: Annotated[int, typer.Option(help="Single jobs timed for the overhead.")] = 5,
    checkpoint_url: Annotated[
        str | None,
        typer.Option(envvar=CHECKPOINT_URL_ENV, help="PostgreSQL URL the workers share."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print jobs/s of the local and celery engines and the queue's overhead per job."""
    if not checkpoint_url:
        typer.echo(
            "bench_workers needs PostgreSQL, which the worker processes share jobs through: "
            f"set {CHECKPOINT_URL_ENV}=postgresql://USER:PASS@HOST/DB or pass --checkpoint-url",
            err=True,
        )
        raise typer.Exit(2)
    if shutil.which("redis-server") is None:
        typer.echo(
            "bench_workers needs redis-server on PATH (apt-get install redis-server)", err=True
        )
        raise typer.Exit(2)
    counts = sorted({int(n) for n in workers.split(",")})
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        data = measure(Path(tmp), checkpoint_url, jobs, counts, model_delay, repeats)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print(data)


if __name__ == "__main__":
    typer.run(main)
