"""``codeagent approve`` / ``reject``, and answering approvals inline in a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax

from codeagent.graphs.cli.config import Home, cli_run_config
from codeagent.graphs.cli.render import Progress
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.runner import RunResult, resume_job
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import EngineSettings
from codeagent.graphs.workers.decisions import decide_on_workers
from codeagent.tools.errors import ConfigError
from codeagent.tools.observability.tracing import TracingConfig

__all__ = ["approve_inline", "queued", "register"]

console = Console(stderr=True)
Finish = Callable[[RunResult, bool], None]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def register(app: typer.Typer, finish: Finish) -> None:
    """Add ``approve`` and ``reject``; ``finish`` prints a result and exits (the CLI's)."""

    def _decide(
        thread_id: str, decision: dict[str, object], as_json: bool, config: RunConfig
    ) -> None:
        if store_for(config).load_record(thread_id).engine == "celery":  # back to the workers
            decide_on_workers(thread_id, decision, config, EngineSettings.from_env())
            queued(thread_id, as_json)
            return
        progress = Progress(console, enabled=not as_json)
        with progress:
            result = resume_job(
                thread_id, config=config, on_event=progress.on_event, decision=decision
            )
        finish(result, as_json)

    @app.command()
    def approve(
        ctx: typer.Context,
        thread_id: Annotated[str, typer.Argument(help="The job waiting for approval.")],
        edit: Annotated[
            Path | None, typer.Option("--edit", help="A JSON file with the edited plan.")
        ] = None,
        reason: Annotated[str, typer.Option("--reason", help="A note for the audit log.")] = "",
        as_json: JsonFlag = False,
        home: Home = None,
    ) -> None:
        """Approve what a paused job waits for (optionally with an edited plan) and continue it."""
        decision: dict[str, object] = {"action": "approve", "reason": reason}
        if edit is not None:
            decision["plan"] = _read_plan(edit)
        _decide(thread_id, decision, as_json, cli_run_config(ctx, home))

    @app.command()
    def reject(
        ctx: typer.Context,
        thread_id: Annotated[str, typer.Argument(help="The job waiting for approval.")],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
        as_json: JsonFlag = False,
        home: Home = None,
    ) -> None:
        """Reject what a paused job waits for; the job ends with status rejected."""
        decision: dict[str, object] = {"action": "reject", "reason": reason}
        _decide(thread_id, decision, as_json, cli_run_config(ctx, home))


def queued(thread_id: str, as_json: bool) -> None:
    """Say that a job went back to the workers (JSON for scripts)."""
    if as_json:
        Console().print_json(json.dumps({"thread_id": thread_id, "status": "queued"}))
    else:
        console.print(f"{thread_id}: queued for the workers; follow it: codeagent wait {thread_id}")


def _read_plan(path: Path) -> dict[str, object]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the edited plan {path}: {exc}") from None
    if not isinstance(plan, dict):
        raise ConfigError(f"{path}: the plan must be a JSON object")
    return plan


def approve_inline(
    result: RunResult, as_json: bool, config: RunConfig, tracing: TracingConfig | None
) -> RunResult:
    """In a terminal, ask for pending approvals right away and continue the job."""
    while result.status == "awaiting_approval" and not as_json and sys.stdin.isatty():
        request = result.approval or {}
        console.print(f"[bold]approval needed: {request.get('kind')}[/bold]")
        shown = {k: v for k, v in request.items() if k not in ("kind", "task", "patch")}
        console.print_json(json.dumps(shown))
        if request.get("patch"):  # a repo job: the diff to approve
            console.print(Syntax(str(request["patch"]), "diff", word_wrap=True))
        if typer.confirm("approve?", default=True):
            decision: dict[str, object] = {"action": "approve"}
        else:
            decision = {"action": "reject", "reason": typer.prompt("reason")}
        progress = Progress(console)
        with progress:
            result = resume_job(
                result.thread_id,
                config=config,
                on_event=progress.on_event,
                tracing=tracing,
                decision=decision,
            )
    return result
