"""Build the LangGraph state machine from a :class:`WorkflowSpec` (no topology in code)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import cache, partial
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END as LG_END
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from opentelemetry.trace import Span

from codeagent.graphs.approvals import APPROVAL_NODES, approval_node
from codeagent.graphs.budgets import budget_spent
from codeagent.graphs.enforcement import gated, guarded, policy_of
from codeagent.graphs.rollback import rollback_update
from codeagent.graphs.routes import Transition, decide, event_attributes
from codeagent.graphs.workflow.spec import END, WorkflowSpec
from codeagent.nodes.context import NodeContext
from codeagent.nodes.registry import NodeKind, describe_node
from codeagent.tools.contracts.state import AgentState, best_attempt, reduce_update
from codeagent.tools.languages import get_adapter
from codeagent.tools.models.llm import build_chat_model
from codeagent.tools.observability.tracing import active_tracer
from codeagent.tools.repo.snapshot import Snapshot
from codeagent.tools.sandbox import Sandbox, SandboxLimits, open_sandbox
from codeagent.tools.sandbox.traced import TracedSandbox

__all__ = [
    "SandboxFactory",
    "build_graph",
    "spec_limits",
    "spec_sandbox",
    "step_bookkeeping",
]

SandboxFactory = Callable[[], Sandbox]


def build_graph(
    spec: WorkflowSpec,
    *,
    base_dir: Path,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    chat_model: BaseChatModel | None = None,
    sandbox_factory: SandboxFactory | None = None,
    load_snapshot: Callable[[str], Snapshot] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the workflow into a LangGraph graph.

    Args:
        spec: The validated workflow.
        base_dir: Directory of the workflow file (prompt and script paths are relative to it).
        checkpointer: Where every step is saved (None: no persistence).
        chat_model: Use this model for every node instead of the spec's models (tests, API).
        sandbox_factory: Use this instead of the spec's sandbox backend.
        load_snapshot: How repo nodes load the job's repository snapshot by id.
    """
    language = get_adapter(spec.sandbox.language)
    policy = policy_of(spec.guardrails)
    make_sandbox = gated(_traced(sandbox_factory or spec_sandbox(spec)), policy, language)
    chat_for = _chat_factory(spec, base_dir, chat_model)
    graph = StateGraph(AgentState)
    for node_id, node in spec.nodes.items():
        ctx = NodeContext(
            node_id=node_id,
            make_chat=partial(chat_for, node.model, node.temperature),
            structured=spec.models[node.model].structured_output,
            language=language,
            open_sandbox=make_sandbox,
            test_timeout_s=spec.sandbox.timeout_s,
            prompt_file=(base_dir / node.prompt) if node.prompt else None,
            options=node.options,
            max_model_calls=spec.budgets.max_model_calls,
            policy=policy,
            load_snapshot=load_snapshot,
        )
        graph.add_node(
            node_id,
            _step(spec, node_id, describe_node(node.kind), ctx),
            destinations=_destinations(spec, node_id),
        )
    graph.add_edge(START, spec.entry_node)
    for kind in spec.approvals:
        gate = APPROVAL_NODES[kind]
        graph.add_node(
            gate,
            _traced_node(gate, "approval", approval_node(kind)),
            destinations=(*spec.nodes, LG_END),
        )
    return graph.compile(checkpointer=checkpointer)


def _destinations(spec: WorkflowSpec, node_id: str) -> tuple[str, ...]:
    """Where a node's transitions can go (for drawing the graph): its edge's targets,
    the approval nodes, and END (a spent budget or bound can end the job anywhere)."""
    edge = spec.edges_from(node_id)
    targets = [*(edge.targets() if edge else []), *(APPROVAL_NODES[k] for k in spec.approvals)]
    return tuple(dict.fromkeys([*(t for t in targets if t != END), LG_END]))


def _step(spec: WorkflowSpec, node_id: str, kind: NodeKind, ctx: NodeContext) -> Callable[..., Any]:
    """Wrap a node: budget check, run it, decide the transition, finish the job at END."""
    name = spec.nodes[node_id].kind
    return _traced_node(node_id, name, lambda state: _run_step(spec, node_id, kind, ctx, state))


def _traced_node(
    node_id: str, kind: str, run: Callable[[AgentState], dict[str, Any]]
) -> Callable[..., Any]:
    """Run ``run`` inside the node's span (when the job is traced) and record its outcome."""

    def step(state: AgentState) -> Command[str]:
        tracer = active_tracer()
        span_cm = (
            tracer.node_span(node_id, kind, state.get("attempt", 0)) if tracer else nullcontext()
        )
        with span_cm as span:
            out = run(state)
            if span is not None:
                _trace_step(span, state, out)
        # the node names its successor itself: no router reads the state back
        to = out.get("next") or state.get("next") or END
        return Command(update=out, goto=LG_END if to == END else to)

    step.__name__ = f"node_{node_id}"
    return step


def _run_step(
    spec: WorkflowSpec, node_id: str, kind: NodeKind, ctx: NodeContext, state: AgentState
) -> dict[str, Any]:
    spent = budget_spent(spec.budgets, state, calls_model=kind.can("calls_model"))
    if spent is not None:
        transition = Transition(node_id, END, "budget", spent, "budget_exceeded")
        return {**_finish(state, transition), **step_bookkeeping(node_id, transition, ran=False)}
    started = time.monotonic()
    update, blocked = guarded(spec.guardrails, node_id, kind, ctx, state)
    # Time spent running nodes, for the wall-time budget: a pause for an approval or the
    # time between a crash and its resume does not count.
    spent_ms = int((time.monotonic() - started) * 1000)
    update = reduce_update(update, {"usage": {"node_ms": spent_ms}})
    after = reduce_update(state, update)  # the state as the route sees it
    if blocked is not None:
        return {**update, **_finish(after, blocked), **step_bookkeeping(node_id, blocked, ran=True)}
    transition, resume_to = _gate(spec, kind, node_id, decide(spec, node_id, after))
    out = {**update, **step_bookkeeping(node_id, transition, ran=True)}
    undo = rollback_update(spec, node_id, after, transition)
    if undo is not None:
        out.update(undo[0])
        out["transitions"] = [undo[1].to_state(), *out["transitions"]]
    if resume_to is not None:
        out["resume_to"] = resume_to
    if transition.to == END:
        out.update(_finish(after, transition))
    return out


def _gate(
    spec: WorkflowSpec, kind: NodeKind, node_id: str, transition: Transition
) -> tuple[Transition, str | None]:
    """Send the transition through an approval node when the workflow asks for one.

    A plan is approved after a node of role ``planner`` (whatever its kind's name).
    """
    if "plan" in spec.approvals and kind.role == "planner" and transition.to != END:
        gate = APPROVAL_NODES["plan"]
    elif "final" in spec.approvals and transition.to == END and transition.status == "success":
        gate = APPROVAL_NODES["final"]
    else:
        return transition, None
    paused = Transition(
        node_id, gate, transition.outcome, f"{transition.reason}; awaiting approval", None
    )
    return paused, transition.to


def _trace_step(span: Span, state: AgentState, out: dict[str, Any]) -> None:
    """The node's transition (as a span event), attempt, changed files and test counts."""
    before = {**(state.get("files") or {}), **(state.get("tests") or {})}
    after = {**(out.get("files") or {}), **(out.get("tests") or {})}
    written = sorted(path for path, text in after.items() if before.get(path) != text)
    if written:
        span.set_attribute("codeagent.files_written", written)
    span.set_attribute("codeagent.attempt", int(out.get("attempt", state.get("attempt", 0))))
    report = out.get("test_report")
    if isinstance(report, dict) and "vacuous" in report:
        span.set_attribute("codeagent.tests.passed", int(report.get("passed", 0)))
        span.set_attribute("codeagent.tests.total", int(report.get("total", 0)))
        span.set_attribute("codeagent.tests.vacuous", int(report["vacuous"]))
    for t in out.get("transitions", []):
        span.add_event("codeagent.transition", event_attributes(t))
        span.set_attribute("codeagent.transition.to", t["to"])
        span.set_attribute("codeagent.transition.outcome", t["outcome"])


def step_bookkeeping(node_id: str, transition: Transition, *, ran: bool) -> dict[str, Any]:
    """What every step writes besides the node's own update: the channels a checkpoint
    needs to resume, route and audit the job (``bench_orchestration`` times them alone)."""
    return {
        "next": transition.to,
        "last_node": node_id,
        "transitions": [transition.to_state()],
        "node_runs": {node_id: 1} if ran else {},
        "error": None,
    }


def _finish(state: AgentState, transition: Transition) -> dict[str, Any]:
    """End-of-job update: the status, and the best attempt kept when the job did not succeed."""
    status = transition.status or "failed"
    out: dict[str, Any] = {"status": status}
    if status == "success":
        return out
    best = best_attempt(state.get("history", []))
    history = state.get("history") or []
    current = history[-1] if history else None
    if best is not None and best is not current:
        out.update(files=best["files"], tests=best["tests"], test_report=best["report"])
    return out


def spec_limits(spec: WorkflowSpec) -> SandboxLimits:
    """The limits of the workflow's sandboxes (its ``sandbox:`` section)."""
    return SandboxLimits(
        memory_mb=spec.sandbox.memory_mb,
        cpus=spec.sandbox.cpus,
        pids=spec.sandbox.pids,
        cpu_time_s=max(1, int(spec.sandbox.timeout_s)),
        workspace_mb=spec.sandbox.workspace_mb,
    )


def spec_sandbox(spec: WorkflowSpec) -> SandboxFactory:
    """A factory of (unstarted) sandboxes as the workflow's ``sandbox:`` section describes."""
    limits = spec_limits(spec)
    return lambda: open_sandbox(spec.sandbox.backend, limits, spec.sandbox.image)


def _traced(factory: SandboxFactory) -> SandboxFactory:
    return lambda: TracedSandbox(factory())


def _chat_factory(
    spec: WorkflowSpec, base_dir: Path, override: BaseChatModel | None
) -> Callable[[str, float | None], BaseChatModel]:
    @cache
    def chat_for(model_name: str, temperature: float | None) -> BaseChatModel:
        if override is not None:
            return override
        return build_chat_model(spec.models[model_name], base_dir, temperature)

    return chat_for
