"""Drive one job run: compile the graph, stream it, trace it, record the outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
)
from langgraph.types import Command
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import Span, SpanContext, TraceFlags
from opentelemetry.util.types import AttributeValue

from codeagent.graphs.builder import SandboxFactory, build_graph, spec_limits, spec_sandbox
from codeagent.graphs.jobs.checkpoint import (
    hide_password,
    is_connection_error,
    open_checkpointer,
)
from codeagent.graphs.jobs.config import RunConfig
from codeagent.graphs.jobs.records import JobRecord, summarize_tests
from codeagent.graphs.jobs.repo import job_patch, snapshot_loader
from codeagent.graphs.jobs.results import NodeEvent, RunResult
from codeagent.graphs.jobs.store import JobStore, store_for
from codeagent.graphs.jobs.store_postgres import StoreUnavailable
from codeagent.graphs.routes import Transition, event_attributes
from codeagent.graphs.workflow.shipped import workflow_path
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.contracts.state import add_counts
from codeagent.tools.errors import CodeAgentError, ConfigError
from codeagent.tools.observability.audit import AuditProcessor
from codeagent.tools.observability.tracing import JobTracer, TracingConfig
from codeagent.tools.repo.patch import patch_stats
from codeagent.tools.sandbox import SetupStep, prepare_workspace
from codeagent.tools.sandbox.factory import prewarm_docker
from codeagent.tools.workspace import write_tree

__all__ = [
    "Reopen",
    "RunOptions",
    "drive",
    "job_result",
    "open_graph",
    "thread_config",
    "tracing_config",
    "workflow_dir",
    "write_outputs",
]


@dataclass(frozen=True)
class RunOptions:
    """How to run a job besides its workflow (all optional)."""

    chat_model: BaseChatModel | None = None
    sandbox_factory: SandboxFactory | None = None
    on_event: Callable[[NodeEvent], None] | None = None
    tracing: TracingConfig | None = None
    span_processors: Sequence[SpanProcessor] = field(default_factory=tuple)
    write_out: bool = True  # False on a worker: the submitter writes the files (wait)


@dataclass(frozen=True)
class Reopen:
    """Start value of :func:`drive` that reopens a finished job first (see graphs.budgets)."""

    update: dict[str, Any]
    as_node: str
    transition: Transition


def thread_config(thread_id: str) -> dict[str, Any]:
    """The LangGraph config of a job."""
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": 200}


def workflow_dir(record: JobRecord) -> Path:
    """The folder of a job's workflow file: its relative paths (prompts, rules) are read
    from there. A shipped workflow from another machine (installed elsewhere, e.g. a job
    submitted to workers) is read next to this machine's copy of it."""
    folder = Path(record.workflow_file).parent
    if folder.is_dir():
        return folder
    shipped = workflow_path(Path(record.workflow_file).stem)
    return shipped.parent if shipped is not None else folder


def tracing_config(spec: WorkflowSpec, override: TracingConfig | None) -> TracingConfig:
    """The tracing settings: the caller's, else the workflow's ``tracing:`` key."""
    if override is not None:
        return override
    t = spec.tracing
    return TracingConfig(
        endpoint=t.endpoint,
        protocol=t.protocol,
        capture_content=t.capture_content,
        jaeger_ui=t.jaeger_ui,
    )


@contextmanager
def open_graph(
    spec: WorkflowSpec,
    record: JobRecord,
    config: RunConfig,
    options: RunOptions,
    tracer: JobTracer | None = None,
) -> Iterator[Any]:
    """The compiled graph of a job, on the configured checkpointer (``tracer``: end each
    node's span as the checkpoint it produced is saved)."""
    with open_checkpointer(config) as saver:
        if tracer is not None:
            _end_spans_on_save(saver, tracer)
        yield build_graph(
            spec,
            base_dir=workflow_dir(record),
            checkpointer=saver,
            chat_model=options.chat_model,
            sandbox_factory=options.sandbox_factory,
            load_snapshot=snapshot_loader(store_for(config), config.home) if record.repo else None,
        )


def drive(
    spec: WorkflowSpec,
    record: JobRecord,
    config: RunConfig,
    start: dict[str, Any] | Command[Any] | Reopen | None,
    options: RunOptions,
) -> RunResult:
    """Run (``start`` a state), resume (None), answer an approval (a ``Command``) or
    reopen a job that ended (:class:`Reopen`)."""
    store = store_for(config)
    tid = record.thread_id
    tconfig = tracing_config(spec, options.tracing)
    tracer = JobTracer(
        tconfig,
        trace_sink=partial(store.append_spans, tid),
        processors=[AuditProcessor(partial(store.append_audit, tid)), *options.span_processors],
    )
    try:
        with (
            tracer.activate(),
            tracer.job_span(spec.name, tid, _link(record), _parent(record)) as root_span,
        ):
            record = _remember_trace(store, record, root_span)
            result = _stream(spec, record, config, start, options, tracer)
            root_span.set_attribute("codeagent.status", result.status)
    finally:
        tracer.shutdown()
        store.finish_trace(tid)
    trace_id = format(root_span.get_span_context().trace_id, "032x")
    return replace(result, trace_id=trace_id, trace_url=tconfig.trace_url(trace_id))


def _stream(
    spec: WorkflowSpec,
    record: JobRecord,
    config: RunConfig,
    start: dict[str, Any] | Command[Any] | Reopen | None,
    options: RunOptions,
    tracer: JobTracer,
) -> RunResult:
    store = store_for(config)
    thread = thread_config(record.thread_id)
    store.save_record(record.with_status("running"))
    try:
        options = _with_setup(spec, record, config, options)
    except CodeAgentError as exc:  # the setup step failed: nothing of the agent ran
        return _failed(store, record, {}, str(exc))
    if options.sandbox_factory is None and spec.sandbox.backend in ("auto", "docker"):
        # the first nodes (a plan, a model call) run while a container starts
        prewarm_docker(spec_limits(spec), spec.sandbox.image)
    # node events are made only for a listener (a progress display)
    modes = ["tasks", "updates"] if options.on_event is not None else ["updates"]
    with open_graph(spec, record, config, options, tracer) as graph:
        if isinstance(start, Reopen):
            # as that node's output, naming its successor (the nodes route themselves)
            reopened = Command(update=start.update, goto=start.update["next"])
            graph.update_state(thread, reopened, as_node=start.as_node)
            state = start.transition.to_state()
            otel_trace.get_current_span().add_event("codeagent.transition", event_attributes(state))
            start = None
        try:
            for mode, chunk in graph.stream(start, thread, stream_mode=modes):
                if options.on_event is not None:
                    for event in _events(record.thread_id, mode, chunk):
                        options.on_event(event)
        except ConfigError as exc:
            _failed(store, record, graph.get_state(thread).values, str(exc))
            raise
        except CodeAgentError as exc:  # (a model error counts the calls it spent)
            values = graph.get_state(thread).values
            spent = getattr(exc, "usage", None)
            if spent:
                values = {**values, "usage": add_counts(values.get("usage"), spent)}
            return _failed(store, record, values, str(exc))
        except Exception as exc:  # a bug or an unexpected library error: keep the job resumable
            if is_connection_error(exc):  # the database went away: nothing can be recorded
                raise StoreUnavailable(
                    f"job {record.thread_id} stopped: the job database went away "
                    f"({hide_password(str(exc)).strip()})",
                    hint="resume it when the database answers: "
                    f"codeagent resume {record.thread_id}",
                ) from None
            message = f"{type(exc).__name__}: {exc}"
            return _failed(store, record, graph.get_state(thread).values, message)
        snapshot = graph.get_state(thread)
    values = snapshot.values
    if snapshot.interrupts:  # paused at an approval point
        store.save_record(record.with_status("awaiting_approval"))
        request = snapshot.interrupts[0].value
        return replace(job_result(record, values, "awaiting_approval"), approval=request)
    status = values.get("status", "failed")
    if status == "running":  # the graph stopped without a terminal transition
        status = "failed"
    patch = job_patch(values, store, config.home)
    if options.write_out:
        write_outputs(Path(record.out_dir), values, patch)
    if patch is not None:
        _trace_patch(patch)
    tests = summarize_tests(values.get("test_report"))
    store.save_record(replace(record.with_status(status), tests=tests))
    return replace(job_result(record, values, status), patch=patch)


def write_outputs(out_dir: Path, values: dict[str, Any], patch: str | None) -> None:
    """Write a finished job's files (and a repo job's ``changes.patch``) to ``out_dir``."""
    write_tree(out_dir, {**values.get("files", {}), **values.get("tests", {})})
    if patch is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "changes.patch").write_text(patch, encoding="utf-8")


def _trace_patch(patch: str) -> None:
    """Put the patch's files and size on the job's span (the event reaches the audit log)."""
    stats = patch_stats(patch)
    attributes: dict[str, AttributeValue] = {
        "codeagent.patch.files": list(stats.files),
        "codeagent.patch.added": stats.added,
        "codeagent.patch.removed": stats.removed,
        "codeagent.patch.bytes": stats.bytes,
    }
    span = otel_trace.get_current_span()
    span.set_attributes(attributes)
    span.add_event("codeagent.patch", attributes)


def _with_setup(
    spec: WorkflowSpec, record: JobRecord, config: RunConfig, options: RunOptions
) -> RunOptions:
    """A repo job with ``sandbox.setup``: run it once (cached) before any node runs.

    Every sandbox of the job then starts from the set-up workspace (the repository's
    files plus what setup made); network, when the workflow allows it for setup, is
    gone before the agent's code runs.
    """
    if not record.repo or not spec.sandbox.setup:
        return options
    box = spec.sandbox
    snapshot = snapshot_loader(store_for(config), config.home)(str(record.repo["snapshot"]))
    step = SetupStep(tuple(box.setup), box.setup_network, box.setup_timeout_s)
    factory = options.sandbox_factory or spec_sandbox(spec)
    prepared = prepare_workspace(factory, snapshot.files, step, cache_dir=config.home / "setup")
    otel_trace.get_current_span().add_event(
        "codeagent.setup",
        {"codeagent.setup.key": prepared.key, "codeagent.setup.reused": prepared.reused},
    )
    return replace(options, sandbox_factory=prepared.open)


def _end_spans_on_save(saver: BaseCheckpointSaver[Any], tracer: JobTracer) -> None:
    """Make ``saver`` end the span of the node that produced each checkpoint it saves,
    recording the checkpoint's id (the saver is this job run's own).

    LangGraph saves checkpoints one after another on a background thread; the job's
    stream returns only when all are saved.
    """
    put = saver.put

    def put_and_end_span(
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = put(config, checkpoint, metadata, new_versions)
        node = checkpoint["channel_values"].get("last_node")
        if node:
            tracer.end_node(str(node), checkpoint["id"])
        return saved

    saver.put = put_and_end_span  # type: ignore[method-assign]


def _link(record: JobRecord) -> SpanContext | None:
    if not (record.trace_id and record.root_span_id):
        return None
    return SpanContext(
        trace_id=int(record.trace_id, 16),
        span_id=int(record.root_span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def _parent(record: JobRecord) -> SpanContext | None:
    """A submitted job's parent span (its W3C ``traceparent``): every run, one trace."""
    parts = (record.trace_parent or "").split("-")
    if len(parts) != 4:
        return None
    try:
        return SpanContext(
            trace_id=int(parts[1], 16),
            span_id=int(parts[2], 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parts[3], 16)),
        )
    except ValueError:
        return None


def _remember_trace(store: JobStore, record: JobRecord, span: Span) -> JobRecord:
    if record.trace_id:
        return record
    ctx = span.get_span_context()
    record = replace(
        record, trace_id=format(ctx.trace_id, "032x"), root_span_id=format(ctx.span_id, "016x")
    )
    store.save_record(record)
    return record


def _events(thread_id: str, mode: str, chunk: Any) -> list[NodeEvent]:
    if mode == "tasks" and isinstance(chunk, dict) and "input" in chunk:
        return [NodeEvent(thread_id, str(chunk.get("name")), {}, kind="start")]
    if mode == "updates" and isinstance(chunk, dict):
        return [NodeEvent(thread_id, n, u) for n, u in chunk.items() if isinstance(u, dict)]
    return []


def _failed(store: JobStore, record: JobRecord, values: dict[str, Any], message: str) -> RunResult:
    store.save_record(record.with_status("error", message))
    return job_result(record, values, "error", error=message)


def job_result(
    record: JobRecord, values: dict[str, Any], status: str, error: str | None = None
) -> RunResult:
    """A job's result from its record and checkpointed state (pure)."""
    return RunResult(
        thread_id=record.thread_id,
        status=status,
        files=dict(values.get("files") or {}),
        tests=dict(values.get("tests") or {}),
        test_report=values.get("test_report"),
        review=values.get("review"),
        plan=values.get("plan"),
        attempts=int(values.get("attempt", 0)),
        usage=dict(values.get("usage") or {}),
        out_dir=record.out_dir if status != "error" else None,
        error=error,
        workflow=record.workflow_name,
        workflow_reason=record.workflow_reason,
    )
