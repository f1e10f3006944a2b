"""Run, resume and inspect jobs: the Python API behind the CLI.

Example::

    from codeagent.graphs import run_job

    result = run_job("write slugify(title) that ...", workflow="default", out="out/slugify")
    print(result.status, result.files)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.types import Command
from opentelemetry.sdk.trace import SpanProcessor

from codeagent.graphs.budgets import apply_budgets, merge_budgets, reopen_update
from codeagent.graphs.builder import SandboxFactory
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.graphs.jobs.execution import (
    Reopen,
    RunOptions,
    drive,
    open_graph,
    thread_config,
    workflow_dir,
)
from codeagent.graphs.jobs.records import JobRecord, new_thread_id
from codeagent.graphs.jobs.repo import repo_start
from codeagent.graphs.jobs.results import Checkpoint, NodeEvent, RunResult
from codeagent.graphs.jobs.store import store_for
from codeagent.graphs.workflow.choice import choose_workflow
from codeagent.graphs.workflow.loader import load_workflow, parse_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.nodes.registry import describe_node
from codeagent.tools.contracts.state import initial_state
from codeagent.tools.errors import ConfigError, ModelError
from codeagent.tools.models.llm import build_chat_model, resolve_provider
from codeagent.tools.models.local import resolve_model_path
from codeagent.tools.observability.tracing import TracingConfig
from codeagent.tools.sandbox.preflight import check_sandbox

__all__ = [
    "Checkpoint",
    "NodeEvent",
    "PreparedJob",
    "RunResult",
    "job_history",
    "job_values",
    "pending_approval",
    "preflight",
    "prepare_job",
    "resume_job",
    "run_job",
]


def run_job(
    task: str,
    *,
    workflow: str | Path | WorkflowSpec | None = None,
    out: str | Path | None = None,
    thread_id: str | None = None,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    home: str | Path | None = None,
    on_event: Callable[[NodeEvent], None] | None = None,
    tracing: TracingConfig | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    config: RunConfig | None = None,
    repo: str | Path | None = None,
    test_cmd: str | Sequence[str] | None = None,
) -> RunResult:
    """Run a coding task through a workflow until it succeeds or a bound or budget is hit.

    Args:
        task: What to build, in words (signature and examples help).
        workflow: A workflow file path, a shipped workflow name, or a spec (default: the
            one measured best for the model: ``small-model`` when no endpoint is configured
            and the embedded model answers, else ``default``; ``repo-fix`` for a repo job;
            the result's ``workflow_reason`` says why when codeagent chose).
        out: Folder to write the resulting files to (default ``out/<thread id>``).
        thread_id: Reuse a fixed job id (default: a new one).
        chat_model: Use this chat model for every node (e.g. a ``ScriptedChatModel``).
        sandbox_factory: Use this sandbox instead of the workflow's backend.
        home: The state dir (default ``config.home``, else ``$CODEAGENT_HOME`` or
            ``./.codeagent``).
        on_event: Called when a node starts and when it finishes (:class:`NodeEvent`).
        tracing: Trace export settings (default: the workflow's ``tracing:`` key and the
            ``OTEL_EXPORTER_OTLP_*`` variables).
        span_processors: Extra OpenTelemetry span processors (e.g. an in-memory exporter).
        config: Where jobs keep their state (default: from ``home`` and the
            ``CODEAGENT_HOME`` / ``CODEAGENT_CHECKPOINT_URL`` variables).
        repo: Work on this repository (a repo job): its files are snapshotted into the
            state dir and the job's sandboxes; the folder itself is never written. The
            result's ``patch`` holds the changes; ``codeagent.graphs.deliver`` applies
            them or commits them on a new branch after success.
        test_cmd: The repository's test command (default: AGENTS.md, else detected).

    Raises:
        ConfigError: For a bad workflow or task (nothing is run).
        RepoError: When the repository cannot be read or is over the size caps.
        SandboxMissing: When the workflow's sandbox backend cannot run here (checked
            before any model call; no job record or checkpoint is made).
    """
    cfg = run_config(config, home)
    job = prepare_job(
        task,
        workflow=workflow,
        out=out,
        thread_id=thread_id,
        config=cfg,
        repo=repo,
        test_cmd=test_cmd,
        own_model=chat_model is not None,
    )
    check_before_running(job.spec, workflow_dir(job.record), chat_model, sandbox_factory)
    store_for(cfg).save_record(job.record)
    options = RunOptions(chat_model, sandbox_factory, on_event, tracing, tuple(span_processors))
    return drive(job.spec, job.record, cfg, job.start, options)


@dataclass(frozen=True)
class PreparedJob:
    """A job checked and ready to start: its workflow, record and first state."""

    spec: WorkflowSpec
    record: JobRecord
    start: dict[str, Any]


def prepare_job(
    task: str,
    *,
    workflow: str | Path | WorkflowSpec | None,
    out: str | Path | None,
    thread_id: str | None,
    config: RunConfig,
    repo: str | Path | None,
    test_cmd: str | Sequence[str] | None,
    own_model: bool = False,
) -> PreparedJob:
    """Check a task and its workflow, snapshot a repository: a job ready to run anywhere.

    Nothing is saved but a repository's snapshot (into the job store). With no
    ``workflow``, the one for the job's model is chosen (:func:`choose_workflow`;
    ``own_model``: the caller brings its chat model).

    Raises:
        ConfigError: For a bad workflow or task.
        RepoError: When the repository cannot be read or is over the size caps.
    """
    if not task or not task.strip():
        raise ConfigError("the task is empty", hint='give the task text, e.g. codeagent run "..."')
    choice = choose_workflow(workflow, repo=repo is not None, own_model=own_model)
    spec, wf_file, wf_text = _resolve_workflow(choice.workflow)
    if repo is None and _uses_repo_nodes(spec):
        raise ConfigError(
            f"the workflow {spec.name!r} works on a repository",
            hint='give one: codeagent run "TASK" --repo PATH',
        )
    start: dict[str, Any] = dict(initial_state(task, spec.sandbox.language, time.time()))
    repo_record = None
    if repo is not None:  # the repository first: a bad path is the first thing to hear
        repo_state = repo_start(Path(repo), store_for(config), config.home, test_cmd)
        start["repo"] = repo_state
        repo_record = {k: repo_state[k] for k in ("root", "snapshot", "base_commit")}
    tid = thread_id or new_thread_id()
    record = JobRecord(
        thread_id=tid,
        task=task,
        workflow_file=str(wf_file),
        workflow_text=wf_text,
        workflow_name=spec.name,
        workflow_reason=choice.reason,
        out_dir=str(Path(out or Path("out") / tid).resolve()),
        created_at=time.time(),
        repo=repo_record,
    )
    return PreparedJob(spec, record, start)


def resume_job(
    thread_id: str,
    *,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    home: str | Path | None = None,
    on_event: Callable[[NodeEvent], None] | None = None,
    tracing: TracingConfig | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    decision: dict[str, Any] | None = None,
    budgets: dict[str, Any] | None = None,
    config: RunConfig | None = None,
) -> RunResult:
    """Continue an interrupted job from its last checkpoint; finished nodes are not re-run.

    Args:
        thread_id: The job.
        decision: The answer to a pending approval, e.g. ``{"action": "approve"}``,
            ``{"action": "approve", "plan": {...}}`` or
            ``{"action": "reject", "reason": "..."}``.
        budgets: Raised budgets, e.g. ``{"max_model_calls": 60}``: kept in the run
            record (later resumes use them too); a job that ended
            ``budget_exceeded`` goes on at the node it stopped before.
        chat_model, sandbox_factory, home, on_event, tracing, span_processors, config: As
            for :func:`run_job`.

    The resumed run is traced as a new trace whose root span links to the first run's.

    Raises:
        SandboxMissing: When the job's sandbox backend cannot run here (checked before
            any model call; the job is left as it was, so resume it once that is fixed).
    """
    cfg = run_config(config, home)
    record = store_for(cfg).load_record(thread_id)
    spec = record_spec(record)
    check_before_running(spec, workflow_dir(record), chat_model, sandbox_factory)
    options = RunOptions(chat_model, sandbox_factory, on_event, tracing, tuple(span_processors))
    start: Command[Any] | Reopen | None = None
    if decision is not None:
        start = Command(resume=decision)
    if budgets:
        base = parse_workflow(record.workflow_text, record.workflow_file)
        record = replace(record, budgets=merge_budgets(base, record.budgets, budgets))
        raised = apply_budgets(base, record.budgets)
        start = start or _reopen(spec, raised, record, cfg)
        spec = raised
        store_for(cfg).save_record(record)
    return drive(spec, record, cfg, start, options)


def record_spec(record: JobRecord) -> WorkflowSpec:
    """The job's workflow with the budgets its record raised."""
    spec = parse_workflow(record.workflow_text, record.workflow_file)
    return apply_budgets(spec, record.budgets)


def _reopen(
    old: WorkflowSpec, new: WorkflowSpec, record: JobRecord, config: RunConfig
) -> Reopen | None:
    """How to reopen the job under ``new`` budgets if it ended ``budget_exceeded``, else None.

    Raises:
        ConfigError: When the raised budgets are still spent (nothing is changed).
    """
    with open_graph(old, record, config, RunOptions()) as graph:
        values = graph.get_state(thread_config(record.thread_id)).values
    if values.get("status") != "budget_exceeded":
        return None
    update, as_node, transition = reopen_update(old.budgets, new.budgets, values)
    return Reopen(update, as_node, transition)


def job_history(
    thread_id: str, *, home: str | Path | None = None, config: RunConfig | None = None
) -> list[Checkpoint]:
    """A job's checkpoints, oldest first (``home`` and ``config`` as for :func:`run_job`)."""
    cfg = run_config(config, home)
    record = store_for(cfg).load_record(thread_id)
    spec = record_spec(record)
    with open_graph(spec, record, cfg, RunOptions()) as graph:
        snapshots = list(graph.get_state_history(thread_config(thread_id)))
    rows = []
    for snap in reversed(snapshots):
        metadata: dict[str, Any] = dict(snap.metadata or {})
        if metadata.get("source") == "input":
            continue  # the raw input, before the first step: nothing has run
        values = snap.values or {}
        rows.append(
            Checkpoint(
                step=int(metadata.get("step", -1)),
                node=values.get("last_node") or "(start)",
                next=",".join(snap.next) or "END",
                attempt=int(values.get("attempt", 0)),
                status=str(values.get("status", "")),
                created_at=str(snap.created_at or ""),
                checkpoint_id=str(snap.config["configurable"].get("checkpoint_id", "")),
            )
        )
    return rows


def job_values(
    thread_id: str, *, home: str | Path | None = None, config: RunConfig | None = None
) -> tuple[JobRecord, dict[str, Any]]:
    """A job's record and its latest checkpointed state."""
    cfg = run_config(config, home)
    record = store_for(cfg).load_record(thread_id)
    with open_graph(record_spec(record), record, cfg, RunOptions()) as graph:
        values = dict(graph.get_state(thread_config(thread_id)).values or {})
    return record, values


def pending_approval(thread_id: str, *, config: RunConfig) -> tuple[str, dict[str, Any]] | None:
    """``(checkpoint id, request)`` of the approval a job waits for, else None."""
    record = store_for(config).load_record(thread_id)
    with open_graph(record_spec(record), record, config, RunOptions()) as graph:
        snapshot = graph.get_state(thread_config(thread_id))
    if not snapshot.interrupts:
        return None
    checkpoint_id = str(snapshot.config["configurable"].get("checkpoint_id", ""))
    return checkpoint_id, dict(snapshot.interrupts[0].value or {})


def check_before_running(
    spec: WorkflowSpec,
    base_dir: Path,
    chat_model: BaseChatModel | None,
    sandbox_factory: SandboxFactory | None,
) -> None:
    """Preflight what the caller did not supply itself: the sandbox, then the models."""
    if sandbox_factory is None:
        check_sandbox(spec.sandbox.backend, spec.sandbox.image)
    if chat_model is None:
        preflight(spec, base_dir)


def preflight(spec: WorkflowSpec, base_dir: Path) -> None:
    """Fail before anything runs when a model the nodes use is not configured.

    Only nodes whose kind may call a model (undeclared ones are assumed to) need one.

    Raises:
        ConfigError: With what to set, e.g. when no endpoint or API key is configured.
    """
    calling = [n for n in spec.nodes.values() if describe_node(n.kind).can("calls_model")]
    for name in sorted({node.model for node in calling}):
        model = resolve_provider(spec.models[name])
        if model.provider != "local":  # building a remote client sends nothing
            build_chat_model(model, base_dir)
            continue
        try:
            resolve_model_path(model.model)
        except ModelError as exc:
            raise ConfigError(
                f"no model endpoint is configured and {exc.message}",
                hint=f"{exc.hint}, or export OPENAI_API_KEY / OPENAI_BASE_URL for an endpoint",
            ) from None


def _uses_repo_nodes(spec: WorkflowSpec) -> bool:
    return any(node.kind.startswith("repo_") for node in spec.nodes.values())


def _resolve_workflow(workflow: str | Path | WorkflowSpec) -> tuple[WorkflowSpec, Path, str]:
    if isinstance(workflow, WorkflowSpec):
        import yaml

        text = yaml.safe_dump(
            workflow.model_dump(by_alias=True, exclude_defaults=True), sort_keys=False
        )
        return workflow, Path.cwd() / "<api>.yaml", text
    spec, path = load_workflow(workflow)
    return spec, path, path.read_text(encoding="utf-8")
