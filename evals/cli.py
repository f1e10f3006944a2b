"""``codeagent eval``: run a benchmark through the agent or the single-shot baseline.

A dataset of repository tasks (SWE-bench's shape: ``instance_id``,
``problem_statement``, ...) goes to the repository harness
(:mod:`codeagent.evals.repo`), with ``--split`` and the modes ``gold`` and ``empty``
as well; any other dataset to the HumanEval-style one. Errors print a message and a
hint and exit with status 2, never a traceback. Call :func:`register` with the main
Typer app to add the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn, Protocol

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from codeagent.evals.datasets import dataset_shape
from codeagent.evals.harness import EvalOptions, run_eval
from codeagent.evals.repo.harness import RepoEvalOptions, run_repo_eval
from codeagent.evals.repo.report import write_repo_report
from codeagent.evals.report import write_report
from codeagent.graphs.cli.config import Broker, EngineOption, cli_run_config
from codeagent.graphs.workers.app import EngineSettings
from codeagent.graphs.workflow.choice import choose_workflow
from codeagent.tools.errors import CodeAgentError, ConfigError

__all__ = ["register"]

_err = Console(stderr=True)
_out = Console()


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to ``app``."""
    app.command(name="eval")(eval_command)


def eval_command(
    ctx: typer.Context,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", help="'humaneval', or a JSONL file of problems or repository tasks."
        ),
    ] = "humaneval",
    split: Annotated[
        str | None,
        typer.Option("--split", help="Repository tasks: pilot (default), heldout or all."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Only the first N problems.")
    ] = None,
    subset: Annotated[
        Path | None,
        typer.Option(
            "--subset",
            help="Task ids file, one per line (or a name in evals/subsets).",
        ),
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option(
            "--workflow",
            "-w",
            help="Workflow YAML file or shipped name (default: default; small-model when "
            "the embedded model answers; repo-fix for repository tasks, repo-fix-small "
            "on the embedded model).",
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            "-m",
            help="agent (the workflow), single-shot (one call) or samples (--samples "
            "calls, each scored: the ceiling of choosing among them); for repository tasks "
            "also gold (the reference fixes) and empty (no change).",
        ),
    ] = "agent",
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            min=1,
            max=50,
            help="--mode samples: answers drawn per problem, the first as single-shot's "
            "(default: 5).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-k",
            min=1,
            max=64,
            help="Problems run at once (celery engine: problems waited for and scored at once).",
        ),
    ] = 1,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep finished problems; run only the rest.")
    ] = False,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Eval folder.")] = Path("eval-out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    engine: EngineOption = "local",
    broker: Broker = None,
    capture_content: Annotated[
        bool,
        typer.Option(
            "--capture-content",
            help="Agent mode: record each model call's prompt and answer in its job's trace "
            "(OUT/state/PROBLEM; `codeagent trace show`), to read why a problem failed.",
        ),
    ] = False,
) -> None:
    """Evaluate on a benchmark: pass@1 (or resolved %) on hidden tests, time, tokens; report.

    With --engine celery the agent's jobs run on 'codeagent worker' processes (their
    chat model and sandbox); the hidden tests are run here, on their files. Single-shot
    mode always runs here; repository tasks run here only.
    """
    try:
        if samples is not None and mode != "samples":
            raise ConfigError("--samples is for --mode samples", hint="leave it out")
        if capture_content and mode != "agent":
            raise ConfigError(
                "--capture-content is for --mode agent",
                hint="single-shot mode keeps each whole answer anyway (reply.md)",
            )
        if dataset_shape(dataset) == "repo":
            if engine == "celery":
                raise ConfigError(
                    "--engine celery is for HumanEval-style problems",
                    hint="run repository tasks with --engine local",
                )
            wf = str(choose_workflow(workflow, repo=True).workflow)
            repo = _repo_options(dataset, split, limit, subset, wf, mode, workers, resume)
            update = {"out": out_dir, "capture_content": capture_content}
            summary, files = _run_repo(ctx, repo.model_copy(update=update), as_json)
        else:
            if split is not None:
                raise ConfigError("--split is for repository tasks", hint="leave it out")
            wf = str(choose_workflow(workflow).workflow)
            options = _options(dataset, limit, subset, wf, mode, workers, resume, out_dir)
            drawn = {} if samples is None else {"samples": samples}
            options = options.model_copy(
                update={"engine": engine, "capture_content": capture_content, **drawn}
            )
            summary, files = _run_problems(ctx, options, broker, as_json)
    except CodeAgentError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _err.print("interrupted: finished problems are saved; rerun with --resume to go on")
        raise typer.Exit(130) from None
    if as_json:
        payload = {"summary": summary, "files": {k: str(v) for k, v in files.items()}}
        _out.print_json(json.dumps(payload))
        return
    _print_summary(mode, summary, files)


def _run_problems(
    ctx: typer.Context, options: EvalOptions, broker: str | None, as_json: bool
) -> tuple[dict[str, Any], dict[str, Path]]:
    remote = options.engine == "celery" and options.mode == "agent"
    with _Bar(enabled=not as_json) as bar:
        run = run_eval(
            options,
            on_start=bar.start,
            on_result=bar.advance,
            config=cli_run_config(ctx, None),
            settings=EngineSettings.from_env(broker) if remote else None,
        )
    return run.summary, write_report(options.out, _meta(options))


def _run_repo(
    ctx: typer.Context, options: RepoEvalOptions, as_json: bool
) -> tuple[dict[str, Any], dict[str, Path]]:
    with _Bar(enabled=not as_json) as bar:
        run = run_repo_eval(
            options, on_start=bar.start, on_result=bar.advance, config=cli_run_config(ctx, None)
        )
    meta = {
        "dataset": str(options.dataset),
        "split": options.split,
        "mode": options.mode,
        "workflow": options.workflow,
        "subset": str(options.subset) if options.subset else None,
        "limit": options.limit,
    }
    return run.summary, write_repo_report(options.out, meta)


def _repo_options(
    dataset: str,
    split: str | None,
    limit: int | None,
    subset: Path | None,
    workflow: str,
    mode: str,
    workers: int,
    resume: bool,
) -> RepoEvalOptions:
    mode = "single-shot" if mode == "single_shot" else mode
    if mode not in ("agent", "single-shot", "gold", "empty"):
        raise ConfigError(
            f"unknown mode {mode!r} for repository tasks",
            hint="use --mode agent, single-shot, gold or empty",
        )
    if split not in (None, "pilot", "heldout", "all"):
        raise ConfigError(f"unknown split {split!r}", hint="use --split pilot, heldout or all")
    if limit is not None and subset is not None:
        raise ConfigError("--limit and --subset exclude each other", hint="give one of them")
    return RepoEvalOptions(
        dataset=Path(dataset),
        mode=mode,  # type: ignore[arg-type]
        split=split or "pilot",  # type: ignore[arg-type]
        workflow=workflow,
        limit=limit,
        subset=subset,
        workers=workers,
        resume=resume,
    )


def _options(
    dataset: str,
    limit: int | None,
    subset: Path | None,
    workflow: str,
    mode: str,
    workers: int,
    resume: bool,
    out_dir: Path,
) -> EvalOptions:
    if mode not in ("agent", "single-shot", "samples"):
        raise ConfigError(f"unknown mode {mode!r}", hint="use --mode agent, single-shot or samples")
    if limit is not None and subset is not None:
        raise ConfigError("--limit and --subset exclude each other", hint="give one of them")
    return EvalOptions(
        dataset=dataset,
        mode=mode,  # type: ignore[arg-type]
        workflow=workflow,
        limit=limit,
        subset=subset,
        workers=workers,
        resume=resume,
        out=out_dir,
    )


def _meta(options: EvalOptions) -> dict[str, Any]:
    meta = {
        "dataset": options.dataset,
        "workflow": options.workflow,
        "subset": str(options.subset) if options.subset else None,
        "limit": options.limit,
    }
    return {**meta, "samples": options.samples} if options.mode == "samples" else meta


class _Finished(Protocol):
    """A finished problem or task, as the progress bar counts it."""

    @property
    def passed(self) -> bool: ...


class _Bar:
    """A rich progress bar with pass count and ETA (on stderr; off for --json)."""

    def __init__(self, *, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("[bold]eval[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("passed {task.fields[passed]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=_err,
            disable=not enabled,
        )
        self._task: TaskID | None = None
        self._passed = 0

    def __enter__(self) -> _Bar:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def start(self, todo: int, done: int) -> None:
        """Begin the bar: ``todo`` problems to run, ``done`` already finished (resume)."""
        self._task = self._progress.add_task("eval", total=todo, passed=0)
        if done:
            self._progress.console.print(f"resuming: {done} problems already done")

    def advance(self, result: _Finished) -> None:
        """One problem (or task) finished."""
        self._passed += int(result.passed)
        if self._task is not None:
            self._progress.update(self._task, advance=1, passed=self._passed)


def _print_summary(mode: str, summary: dict[str, Any], files: dict[str, Path]) -> None:
    table = Table(title=f"eval ({mode})")
    table.add_column("metric")
    table.add_column("value")
    for key, value in summary.items():
        table.add_row(key, "-" if value is None else str(value))
    _out.print(table)
    for kind, path in files.items():
        _out.print(f"{kind}: {path}")


def _fail(exc: CodeAgentError) -> NoReturn:
    _err.print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(2)
