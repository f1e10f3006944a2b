"""The ``codeagent`` command line: run, resume and inspect jobs.

Exit codes: 0 success, 1 the job did not succeed (or failed mid-way), 2 a usage or
config error, 3 the job is paused waiting for an approval. Mistakes in config, task
or environment print a message and a hint, never a traceback.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from codeagent.graphs.cli import approvals as cli_approvals
from codeagent.graphs.cli import sandbox as cli_sandbox
from codeagent.graphs.cli import trace as cli_trace
from codeagent.graphs.cli import workers as cli_workers
from codeagent.graphs.cli import workflows as cli_workflows
from codeagent.graphs.cli.approvals import approve_inline
from codeagent.graphs.cli.config import CheckpointUrl, Home, cli_run_config, remember_checkpoint_url
from codeagent.graphs.cli.models import app as models_app
from codeagent.graphs.cli.render import Progress, print_delivery, print_result
from codeagent.graphs.jobs.delivery import Delivery, deliver
from codeagent.graphs.jobs.runner import RunResult, job_history, resume_job, run_job
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workers.app import EngineSettings
from codeagent.graphs.workers.decisions import requeue_job
from codeagent.graphs.workflow.checks import check_workflow
from codeagent.graphs.workflow.choice import choose_workflow
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.observability.tracing import TracingConfig
from codeagent.tools.sandbox.factory import WeakSandboxWarning

__all__ = ["COMMAND_GROUP", "app", "main"]

app = typer.Typer(
    name="codeagent",
    help="A code AI agent: plans, writes code, tests it in a sandbox, reviews and repairs it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()
cli_trace.register(app)
cli_workflows.register(app)
app.add_typer(cli_sandbox.app, name="sandbox", help="Build and check the Docker sandbox.")
app.add_typer(models_app, name="models", help="Install, list and serve the embedded models.")
DEFAULT_OTLP = "http://localhost:4318"
EXIT_AWAITING = 3  # the job is paused at an approval point

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
TraceFlag = Annotated[
    bool,
    typer.Option("--trace", help=f"Export the trace over OTLP (default endpoint {DEFAULT_OTLP})."),
]
TraceEndpoint = Annotated[
    str | None, typer.Option("--trace-endpoint", help="OTLP endpoint to export the trace to.")
]
CaptureContent = Annotated[
    bool, typer.Option("--capture-content", help="Record prompts and completions in the trace.")
]
JaegerUi = Annotated[
    str | None, typer.Option("--jaeger-ui", help="Jaeger UI URL, to print a link to the trace.")
]


@app.callback()
def _options(ctx: typer.Context, checkpoint_url: CheckpointUrl = None) -> None:
    """A code AI agent: plans, writes code, tests it in a sandbox, reviews and repairs it."""
    remember_checkpoint_url(ctx, checkpoint_url)


@app.command()
def run(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Argument(help="The coding task, in words.")] = None,
    task_file: Annotated[
        Path | None, typer.Option("--task-file", "-f", help="Read the task from a file.")
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            "--workflow",
            "-w",
            help="Workflow YAML file or shipped name (default: default; small-model when the"
            " embedded model answers; repo-fix with --repo, repo-fix-small on the embedded"
            " model).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the resulting files here.")
    ] = None,
    thread_id: Annotated[str | None, typer.Option("--thread-id", help="Use this job id.")] = None,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            help="Work on this repository (its files are copied; it is not written while the"
            " job runs). The result is a patch (OUT/changes.patch).",
        ),
    ] = None,
    test_cmd: Annotated[
        str | None,
        typer.Option("--test-cmd", help="The repository's test command (default: detected)."),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="With --repo: apply the patch to the repository after success."
        ),
    ] = False,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch", help="With --repo: commit the patch on this new git branch after success."
        ),
    ] = None,
    as_json: JsonFlag = False,
    home: Home = None,
    trace: TraceFlag = False,
    trace_endpoint: TraceEndpoint = None,
    capture_content: CaptureContent = False,
    jaeger_ui: JaegerUi = None,
) -> None:
    """Run a coding task through a workflow and write the resulting files (or a patch)."""
    text = _task_text(task, task_file)
    if (apply or branch) and repo is None:
        raise ConfigError("--apply and --branch need --repo", hint="add --repo PATH")
    config = cli_run_config(ctx, home)
    chosen = choose_workflow(workflow, repo=repo is not None).workflow
    tracing = _tracing(str(chosen), trace, trace_endpoint, capture_content, jaeger_ui)
    progress = Progress(console, enabled=not as_json)
    with progress:
        result = run_job(
            text,
            workflow=workflow,
            out=out_dir,
            thread_id=thread_id,
            config=config,
            on_event=progress.on_event,
            tracing=tracing,
            repo=repo,
            test_cmd=test_cmd,
        )
    result = approve_inline(result, as_json, config, tracing)
    delivery = None
    if result.ok and (apply or branch):
        delivery = deliver(result.thread_id, apply=apply, branch=branch, config=config)
    _finish(result, as_json, delivery)


@app.command("apply")
def apply_command(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="A finished repo job.")],
    branch: Annotated[
        str | None,
        typer.Option("--branch", help="Commit the patch on this new branch instead of applying."),
    ] = None,
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """Apply a successful repo job's patch to its repository, or commit it on a new branch.

    Refuses (and writes nothing) when a file the patch touches changed since the job started.
    """
    delivery = deliver(
        thread_id, apply=branch is None, branch=branch, config=cli_run_config(ctx, home)
    )
    if as_json:
        out.print_json(json.dumps(asdict(delivery)))
    else:
        print_delivery(console, delivery)


@app.command()
def resume(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The job to continue.")],
    as_json: JsonFlag = False,
    home: Home = None,
    trace: TraceFlag = False,
    trace_endpoint: TraceEndpoint = None,
    capture_content: CaptureContent = False,
    jaeger_ui: JaegerUi = None,
    max_model_calls: Annotated[
        int | None, typer.Option("--max-model-calls", help="Raise the model-call budget.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Raise the token budget.")
    ] = None,
    max_wall_s: Annotated[
        float | None, typer.Option("--max-wall-s", help="Raise the wall-time budget (seconds).")
    ] = None,
    here: Annotated[
        bool, typer.Option("--here", help="A workers' job: run it in this process instead.")
    ] = False,
) -> None:
    """Continue an interrupted job from its last checkpoint (finished nodes are not re-run).

    With a raised budget, a job that ended budget_exceeded goes on where it stopped. A
    job submitted to workers goes back to them (unless --here or a raised budget).
    """
    tracing = _tracing(None, trace, trace_endpoint, capture_content, jaeger_ui)
    raised: dict[str, float | None] = {"max_model_calls": max_model_calls}
    raised.update(max_tokens=max_tokens, max_wall_s=max_wall_s)
    budgets = {k: v for k, v in raised.items() if v is not None}
    config = cli_run_config(ctx, home)
    if not (here or budgets) and store_for(config).load_record(thread_id).engine == "celery":
        requeue_job(thread_id, config, EngineSettings.from_env())
        cli_approvals.queued(thread_id, as_json)
        return
    progress = Progress(console, enabled=not as_json)
    with progress:
        result = resume_job(
            thread_id,
            config=config,
            on_event=progress.on_event,
            tracing=tracing,
            budgets=budgets or None,
        )
    result = approve_inline(result, as_json, config, tracing)
    _finish(result, as_json)


@app.command()
def history(
    ctx: typer.Context,
    thread_id: Annotated[str, typer.Argument(help="The job to show.")],
    as_json: JsonFlag = False,
    home: Home = None,
) -> None:
    """List a job's checkpoints: node, attempt, status, time."""
    rows = job_history(thread_id, config=cli_run_config(ctx, home))
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in rows]))
        return
    table = Table(title=f"job {thread_id}")
    for column in ("step", "node", "next", "attempt", "status", "time", "checkpoint"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.step), r.node, r.next, str(r.attempt), r.status, r.created_at, r.checkpoint_id
        )
    out.print(table)


@app.command()
def jobs(ctx: typer.Context, as_json: JsonFlag = False, home: Home = None) -> None:
    """List the jobs in the state dir (or the shared job database), newest first."""
    records = store_for(cli_run_config(ctx, home)).list_records()
    if as_json:
        out.print_json(
            json.dumps(
                [{k: v for k, v in r.__dict__.items() if k != "workflow_text"} for r in records]
            )
        )
        return
    table = Table()
    for column in ("thread", "status", "workflow", "task"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.thread_id, r.status, Path(r.workflow_file).name, r.task.splitlines()[0][:60]
        )
    out.print(table)


@app.command()
def validate(workflow: Annotated[str, typer.Argument(help="Workflow YAML file.")]) -> None:
    """Check a workflow file: schema and graph (unknown nodes, unbounded loops, ...)."""
    check = check_workflow(workflow)
    for warning in check.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    out.print(
        f"[green]ok[/green] {check.path}: workflow '{check.spec.name}', "
        f"{len(check.spec.nodes)} nodes, {len(check.warnings)} warning(s)"
    )


def _tracing(
    workflow: str | None,
    trace: bool,
    endpoint: str | None,
    capture_content: bool,
    jaeger_ui: str | None,
) -> TracingConfig | None:
    """CLI flags over the workflow's ``tracing:`` key; None when no flag was given."""
    if not (trace or endpoint or capture_content or jaeger_ui):
        return None
    base = load_workflow(workflow)[0].tracing if workflow else None
    env_endpoint = TracingConfig().export_endpoint()
    return TracingConfig(
        endpoint=endpoint
        or (base.endpoint if base else None)
        or (DEFAULT_OTLP if trace and not env_endpoint else None),
        protocol=base.protocol if base else None,
        capture_content=capture_content or bool(base and base.capture_content),
        jaeger_ui=jaeger_ui or (base.jaeger_ui if base else None),
    )


def _task_text(task: str | None, task_file: Path | None) -> str:
    if task_file is not None:
        try:
            return task_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the task file: {exc}") from None
    if task is None or not task.strip():
        raise ConfigError("no task given", hint='codeagent run "write slugify(title) that ..."')
    return task


def _finish(result: RunResult, as_json: bool, delivery: Delivery | None = None) -> None:
    if as_json:
        data = result.to_json()
        if delivery is not None:
            data["delivery"] = asdict(delivery)
        out.print_json(json.dumps(data))
    else:
        print_result(console, result)
        if delivery is not None:
            print_delivery(console, delivery)
    if result.status == "awaiting_approval":
        raise typer.Exit(EXIT_AWAITING)
    raise typer.Exit(0 if result.ok else 1)


cli_approvals.register(app, _finish)
cli_workers.register(app, _finish)

COMMAND_GROUP = "codeagent.commands"


def _register_plugins() -> list[str]:
    """Add the commands registered under the ``codeagent.commands`` entry-point group.

    Each entry point names a ``register(app)`` function (``eval`` is one: the evals
    package adds its command this way, so graphs never imports evals). A plugin that
    fails to load is reported and skipped, so one broken package cannot take the whole
    command line down.
    """
    problems = []
    for plugin in entry_points(group=COMMAND_GROUP):
        try:
            plugin.load()(app)
        except Exception as exc:  # a third-party plugin: any failure is reported, not raised
            problems.append(f"command plugin {plugin.name!r} ({plugin.value}) failed: {exc}")
    return problems


_PLUGIN_PROBLEMS = _register_plugins()


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kw: object
) -> None:
    console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning codeagent errors into messages."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("once", WeakSandboxWarning)
    for problem in _PLUGIN_PROBLEMS:
        console.print(f"[yellow]warning:[/yellow] {problem}", highlight=False)
    try:
        code = app(args=argv, standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except CodeAgentError as exc:
        console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print(
            "interrupted: the job is checkpointed; 'codeagent resume THREAD' continues it"
        )
        sys.exit(130)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
