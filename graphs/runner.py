"""Run, resume and inspect jobs: the Python API behind the CLI.

Example::

    from graphs import run_job

    result = run_job("write slugify(title) that ...", workflow="default", out="out/slugify")
    print(result.status, result.files)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from graphs.builder import SandboxFactory, build_graph
from graphs.checkpoint import open_checkpointer, state_dir
from graphs.loader import load_workflow, parse_workflow
from graphs.records import JobRecord, load_record, new_thread_id, save_record
from graphs.spec import WorkflowSpec
from graphs.state import initial_state
from tools.errors import CodeAgentError, ConfigError
from tools.llm import build_chat_model
from tools.workspace import write_tree

__all__ = [
    "Checkpoint",
    "NodeEvent",
    "RunResult",
    "job_history",
    "preflight",
    "resume_job",
    "run_job",
]


@dataclass(frozen=True)
class NodeEvent:
    """One finished node, as streamed to ``on_event`` callbacks (the CLI's progress)."""

    thread_id: str
    node: str
    update: dict[str, Any]
    kind: str = "end"  # "start" when the node begins, "end" with its update


@dataclass(frozen=True)
class RunResult:
    """The outcome of a job.

    Attributes:
        thread_id: The job's id (use it with resume, history).
        status: success, failed, budget_exceeded or error.
        files: Solution files (path -> text).
        tests: Test files (path -> text).
        test_report: The last test run of the kept files.
        review: The last review verdict.
        plan: The last plan.
        attempts: How often the coder ran.
        usage: Model calls and tokens.
        out_dir: Where the files were written.
        error: What went wrong, for status ``error``.
    """

    thread_id: str
    status: str
    files: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    test_report: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    attempts: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    out_dir: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the job succeeded."""
        return self.status == "success"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the CLI's ``--json`` output)."""
        return asdict(self)


@dataclass(frozen=True)
class Checkpoint:
    """One row of a job's history."""

    step: int
    node: str
    next: str
    attempt: int
    status: str
    created_at: str
    checkpoint_id: str


def run_job(
    task: str,
    *,
    workflow: str | Path | WorkflowSpec = "default",
    out: str | Path | None = None,
    thread_id: str | None = None,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    home: str | Path | None = None,
    on_event: Callable[[NodeEvent], None] | None = None,
) -> RunResult:
    """Run a coding task through a workflow until it succeeds or a bound or budget is hit.

    Args:
        task: What to build, in words (signature and examples help).
        workflow: A workflow file path, a shipped workflow name, or a spec.
        out: Folder to write the resulting files to (default ``out/<thread id>``).
        thread_id: Reuse a fixed job id (default: a new one).
        chat_model: Use this chat model for every node (e.g. a ``ScriptedChatModel``).
        sandbox_factory: Use this sandbox instead of the workflow's backend.
        home: The state dir (default ``$CODEAGENT_HOME`` or ``./.codeagent``).
        on_event: Called after every node with a :class:`NodeEvent`.

    Raises:
        ConfigError: For a bad workflow or task (nothing is run).
    """
    if not task or not task.strip():
        raise ConfigError("the task is empty", hint='give the task text, e.g. codeagent run "..."')
    spec, wf_file, wf_text = _resolve_workflow(workflow)
    if chat_model is None:
        preflight(spec, wf_file.parent)
    root = state_dir(home)
    tid = thread_id or new_thread_id()
    record = JobRecord(
        thread_id=tid,
        task=task,
        workflow_file=str(wf_file),
        workflow_text=wf_text,
        out_dir=str(Path(out or Path("out") / tid).resolve()),
        created_at=time.time(),
    )
    save_record(root, record)
    start = dict(initial_state(task, spec.sandbox.language, time.time()))
    return _drive(spec, record, root, start, chat_model, sandbox_factory, on_event)


def resume_job(
    thread_id: str,
    *,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    home: str | Path | None = None,
    on_event: Callable[[NodeEvent], None] | None = None,
) -> RunResult:
    """Continue an interrupted job from its last checkpoint; finished nodes are not re-run."""
    root = state_dir(home)
    record = load_record(root, thread_id)
    spec = parse_workflow(record.workflow_text, record.workflow_file)
    if chat_model is None:
        preflight(spec, Path(record.workflow_file).parent)
    return _drive(spec, record, root, None, chat_model, sandbox_factory, on_event)


def job_history(thread_id: str, *, home: str | Path | None = None) -> list[Checkpoint]:
    """A job's checkpoints, oldest first."""
    root = state_dir(home)
    record = load_record(root, thread_id)
    spec = parse_workflow(record.workflow_text, record.workflow_file)
    with _graph(spec, record, root, None, None) as graph:
        snapshots = list(graph.get_state_history(_config(thread_id)))
    rows = []
    for snap in reversed(snapshots):
        values = snap.values or {}
        rows.append(
            Checkpoint(
                step=int((snap.metadata or {}).get("step", -1)),
                node=values.get("last_node") or "(start)",
                next=",".join(snap.next) or "END",
                attempt=int(values.get("attempt", 0)),
                status=str(values.get("status", "")),
                created_at=str(snap.created_at or ""),
                checkpoint_id=str(snap.config["configurable"].get("checkpoint_id", "")),
            )
        )
    return rows


def preflight(spec: WorkflowSpec, base_dir: Path) -> None:
    """Fail before anything runs when a model the nodes use is not configured.

    Raises:
        ConfigError: With what to set, e.g. when no endpoint or API key is configured.
    """
    for name in {node.model for node in spec.nodes.values()}:
        model = spec.models[name]
        if model.provider != "local":  # building a remote client sends nothing
            build_chat_model(model, base_dir)


def _resolve_workflow(workflow: str | Path | WorkflowSpec) -> tuple[WorkflowSpec, Path, str]:
    if isinstance(workflow, WorkflowSpec):
        import yaml

        text = yaml.safe_dump(workflow.model_dump(by_alias=True, exclude_defaults=True))
        return workflow, Path.cwd() / "<api>.yaml", text
    spec, path = load_workflow(workflow)
    return spec, path, path.read_text(encoding="utf-8")


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": 200}


@contextmanager
def _graph(
    spec: WorkflowSpec,
    record: JobRecord,
    root: Path,
    chat_model: BaseChatModel | None,
    sandbox_factory: SandboxFactory | None,
) -> Iterator[Any]:
    with open_checkpointer(root) as saver:
        yield build_graph(
            spec,
            base_dir=Path(record.workflow_file).parent,
            checkpointer=saver,
            chat_model=chat_model,
            sandbox_factory=sandbox_factory,
        )


def _drive(
    spec: WorkflowSpec,
    record: JobRecord,
    root: Path,
    start: dict[str, Any] | None,
    chat_model: BaseChatModel | None,
    sandbox_factory: SandboxFactory | None,
    on_event: Callable[[NodeEvent], None] | None,
) -> RunResult:
    config = _config(record.thread_id)
    save_record(root, record.with_status("running"))
    with _graph(spec, record, root, chat_model, sandbox_factory) as graph:
        try:
            for mode, chunk in graph.stream(start, config, stream_mode=["tasks", "updates"]):
                if on_event is not None:
                    for event in _events(record.thread_id, mode, chunk):
                        on_event(event)
        except ConfigError as exc:
            _failed(root, record, graph.get_state(config).values, str(exc))
            raise
        except CodeAgentError as exc:
            return _failed(root, record, graph.get_state(config).values, str(exc))
        except Exception as exc:  # a bug or an unexpected library error: keep the job resumable
            return _failed(
                root, record, graph.get_state(config).values, f"{type(exc).__name__}: {exc}"
            )
        values = graph.get_state(config).values
    status = values.get("status", "failed")
    if status == "running":  # the graph stopped without a terminal transition
        status = "failed"
    write_tree(Path(record.out_dir), {**values.get("files", {}), **values.get("tests", {})})
    save_record(root, record.with_status(status))
    return _result(record, values, status)


def _events(thread_id: str, mode: str, chunk: Any) -> list[NodeEvent]:
    if mode == "tasks" and isinstance(chunk, dict) and "input" in chunk:
        return [NodeEvent(thread_id, str(chunk.get("name")), {}, kind="start")]
    if mode == "updates" and isinstance(chunk, dict):
        return [NodeEvent(thread_id, n, u) for n, u in chunk.items() if isinstance(u, dict)]
    return []


def _failed(root: Path, record: JobRecord, values: dict[str, Any], message: str) -> RunResult:
    save_record(root, record.with_status("error", message))
    return _result(record, values, "error", error=message)


def _result(
    record: JobRecord, values: dict[str, Any], status: str, error: str | None = None
) -> RunResult:
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
    )
