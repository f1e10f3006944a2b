"""``codeagent worker``, ``submit``, ``status`` and ``wait``: jobs on workers across machines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from codeagent.graphs.cli.config import Broker, Home, cli_run_config
from codeagent.graphs.jobs.records import JobRecord
from codeagent.graphs.jobs.results import RunResult
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import DEFAULT_QUEUE, EngineSettings, check_broker
from codeagent.graphs.workers.service import run_worker
from codeagent.graphs.workers.submit import JobHandle, submit_job
from codeagent.graphs.workers.worker import WorkerContext
from codeagent.tools.errors import ConfigError
from codeagent.tools.plugins import import_path

__all__ = ["register"]

out = Console()
console = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Jobs run at once (threads).")
    ] = 1,
    queues: Annotated[
        str, typer.Option("--queues", "-Q", help="Queues to take jobs from, comma-separated.")
    ] = DEFAULT_QUEUE,
    broker: Broker = None,
    chat_model: Annotated[
        str | None,
        typer.Option(
            "--chat-model",
            help="MODULE:FACTORY returning a LangChain chat model for every job (default: "
            "each workflow's models).",
        ),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option(
            "--sandbox",
            help="MODULE:FACTORY returning a sandbox for every job (default: each "
            "workflow's backend).",
        ),
    ] = None,
    home: Home = None,
) -> None:
    """Start a worker: take jobs from the broker and run them (Ctrl-C stops it warmly)."""
    config = cli_run_config(ctx, home)
    settings = EngineSettings.from_env(broker)
    model = import_path(chat_model, "chat model factory")() if chat_model else None
    factory = import_path(sandbox, "sandbox factory") if sandbox else None
    if config.checkpoint_url is None:
        console.print(
            "[yellow]no checkpoint URL: jobs keep their state in "
            f"{config.home}; only workers sharing that folder can share jobs "
            "(set CODEAGENT_CHECKPOINT_URL for workers on many machines)[/yellow]"
        )
    owner = WorkerContext.owner_name()
    context = WorkerContext(config, model, factory, owner, settings.lease_ttl_s)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console.print(f"worker {owner}: queues {queues}, {concurrency} at a time")
    run_worker(settings, context, concurrency=concurrency, queues=queues.split(","))


def submit(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="The coding task, in words.")],
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Workflow YAML file or shipped name.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where 'codeagent wait' writes the files.")
    ] = None,
    repo: Annotated[Path | None, typer.Option("--repo", help="Work on this repository.")] = None,
    test_cmd: Annotated[
        str | None, typer.Option("--test-cmd", help="The repository's test command.")
    ] = None,
    queue: Annotated[str, typer.Option("--queue", "-Q", help="The workers' queue.")] = (
        DEFAULT_QUEUE
    ),
    thread_id: Annotated[str | None, typer.Option("--thread-id", help="Use this job id.")] = None,
    broker: Broker = None,
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Queue a job for the workers and print its thread id at once."""
    settings = EngineSettings.from_env(broker)
    check_broker(settings)  # a dead broker is heard before anything is recorded
    handle = submit_job(
        task,
        workflow=workflow or ("repo-fix" if repo is not None else "default"),
        out=out_dir,
        thread_id=thread_id,
        queue=queue,
        repo=repo,
        test_cmd=test_cmd,
        config=cli_run_config(ctx, home),
        settings=settings,
    )
    if as_json:
        out.print_json(json.dumps({"thread_id": handle.thread_id, "status": "queued"}))
        return
    out.print(handle.thread_id)
    console.print(f"queued; follow it with: codeagent wait {handle.thread_id}")


def status(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The job.")],
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Print a job's status from the shared store (any machine)."""
    record = store_for(cli_run_config(ctx, home)).load_record(thread_id)
    if as_json:
        data = {k: v for k, v in asdict(record).items() if k != "workflow_text"}
        out.print_json(json.dumps(data))
        return
    out.print(_status_line(record))


def _status_line(record: JobRecord) -> str:
    """``THREAD  STATUS  tests 3/3  (celery)`` (pure)."""
    parts = [record.thread_id, record.status]
    if record.tests:
        parts.append(f"tests {record.tests.get('passed', 0)}/{record.tests.get('total', 0)}")
    if record.engine:
        parts.append(f"({record.engine}, queue {record.queue})")
    if record.error:
        parts.append(f"error: {record.error}")
    return "  ".join(parts)


def register(app: typer.Typer, finish: Callable[[RunResult, bool], None]) -> None:
    """Add ``worker``, ``submit``, ``status`` and ``wait`` to ``app``; ``finish`` prints a
    result and exits as ``codeagent run`` does."""

    def wait(
        ctx: typer.Context,
        thread_id: Annotated[str, typer.Argument(help="The job.")],
        timeout: Annotated[
            float | None,
            typer.Option("--timeout", help="Give up waiting after this many seconds."),
        ] = None,
        as_json: JsonFlag = False,
        home: Home = None,
    ) -> None:
        """Wait for a job to end (or pause for approval), write its files; exit as 'run' does."""
        handle = JobHandle(thread_id, cli_run_config(ctx, home))
        seen: list[str] = []

        def show(record: JobRecord) -> None:
            if not as_json and (not seen or seen[-1] != record.status):
                console.print(f"{record.thread_id}: {record.status}")
                seen.append(record.status)

        try:
            result = handle.wait(timeout_s=timeout, on_poll=show)
        except TimeoutError as exc:
            raise ConfigError(str(exc), hint=f"wait longer: codeagent wait {thread_id}") from None
        finish(result, as_json)

    for command in (worker, submit, status, wait):
        app.command(command.__name__)(command)
