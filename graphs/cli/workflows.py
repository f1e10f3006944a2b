"""Workflow-authoring commands: ``graph``, ``schema`` and ``batch``.

Added to the ``codeagent`` app by :func:`register`. Like every command, mistakes
raise :class:`codeagent.tools.errors.ConfigError`, which the app's ``main`` turns into a
message and exit code 2 (never a traceback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from codeagent.graphs.cli.config import Broker, EngineOption, Home, cli_run_config
from codeagent.graphs.jobs.batch import BatchResult, batch_folder, read_tasks, run_batch
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.workers.app import EngineSettings
from codeagent.graphs.workflow.drawing import to_dot, to_mermaid, write_png
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.schema import SCHEMA_FILE, schema_text

__all__ = ["register"]

_console = Console(stderr=True)
_out = Console()
_STYLE = {"success": "green", "failed": "red", "budget_exceeded": "yellow", "error": "red"}


def register(app: typer.Typer) -> None:
    """Add the ``graph``, ``schema`` and ``batch`` commands to ``app``."""
    app.command("graph")(graph)
    app.command("schema")(schema)
    app.command("batch")(batch)


def graph(
    workflow: Annotated[str, typer.Argument(help="Workflow YAML file or shipped name.")],
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also draw a PNG here (needs mmdc or Graphviz dot)."),
    ] = None,
    dot: Annotated[bool, typer.Option("--dot", help="Print Graphviz DOT, not Mermaid.")] = False,
) -> None:
    """Print a workflow's graph as Mermaid, with the retry bounds on the edges."""
    spec, _ = load_workflow(workflow)
    typer.echo(to_dot(spec) if dot else to_mermaid(spec), nl=False)
    if png is not None:
        renderer = write_png(spec, png)
        _console.print(f"wrote {png} (drawn with {renderer})", highlight=False)


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the schema to this file.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 when configs/workflow.schema.json is out of date."),
    ] = False,
) -> None:
    """Print the JSON Schema of workflow files (for editor autocompletion and checks)."""
    text = schema_text()
    if check:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else ""
        if current != text:
            _console.print(f"{SCHEMA_FILE} is out of date: codeagent schema --out {SCHEMA_FILE}")
            raise typer.Exit(1)
        _console.print(f"{SCHEMA_FILE} is up to date")
        return
    if out is not None:
        out.write_text(text, encoding="utf-8")
        _console.print(f"wrote {out}", highlight=False)
        return
    typer.echo(text, nl=False)


def batch(
    ctx: typer.Context,
    tasks: Annotated[Path, typer.Argument(help="Tasks file: one JSON object per line.")],
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-k",
            help="Jobs run at once (local engine; with celery the workers decide).",
        ),
    ] = 1,
    workflow: Annotated[
        str, typer.Option("--workflow", "-w", help="Workflow of tasks that name none.")
    ] = "default",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Batch folder (default out/batch-<tasks name>)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    engine: EngineOption = "local",
    broker: Broker = None,
    home: Home = None,
) -> None:
    """Run every task of a JSONL file; resumable: finished tasks are not re-run.

    With --engine celery every task is queued for 'codeagent worker' processes and
    followed until it ends; running the batch again follows the jobs still running.
    """
    config = cli_run_config(ctx, home)
    settings = EngineSettings.from_env(broker) if engine == "celery" else None
    if settings is not None and not as_json:
        _shared_state_note(config)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_console, disable=as_json, transient=True) as bar:
        progress = bar.add_task(f"batch {tasks.name}", total=len(read_tasks(tasks)))

        def on_result(result: BatchResult) -> None:
            bar.advance(progress)
            if not as_json:
                bar.console.print(_line(result), highlight=False)

        results = run_batch(
            tasks,
            workers=workers,
            workflow=workflow,
            out=out_dir,
            config=config,
            on_result=on_result,
            engine=engine,
            settings=settings,
        )
    if as_json:
        _out.print_json(json.dumps([r.to_json() | {"skipped": r.skipped} for r in results]))
    else:
        _summary(results, batch_folder(tasks, out_dir) / "results.jsonl")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def _shared_state_note(config: RunConfig) -> None:
    if config.checkpoint_url is None:
        _console.print(
            f"[yellow]no checkpoint URL: jobs keep their state in {config.home}; only "
            "workers sharing that folder can run them (set CODEAGENT_CHECKPOINT_URL)[/yellow]"
        )


def _line(result: BatchResult) -> str:
    style = _STYLE.get(result.status, "white")
    tests = f" {result.passed}/{result.total} tests" if result.total else ""
    note = " (finished earlier)" if result.skipped else f" {result.seconds:.1f}s"
    error = f": {result.error.splitlines()[0][:120]}" if result.error else ""
    return f"[{style}]{result.status:<15}[/{style}] {result.id}{tests}{note}{error}"


def _summary(results: list[BatchResult], results_file: Path) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    _console.print(f"{len(results)} tasks: {parts}; results in {results_file}", highlight=False)
