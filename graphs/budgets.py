"""Raising a job's budgets: the overrides kept in its run record, and reopening a job
that ended ``budget_exceeded`` so that it goes on where it stopped.

A job stops on a spent budget before the node it was about to run (that node did
not run). Reopening forks the thread at its last checkpoint: the status goes back
to ``running`` and the graph is pointed at that node again, with a
``budget_raised`` transition recorded in the state, the trace and the audit log.
Nothing that ran is run again; the files are the best attempt the stop kept.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from codeagent.graphs.routes import Transition
from codeagent.graphs.workflow.spec import BudgetSpec, WorkflowSpec
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.errors import CodeAgentError, ConfigError

__all__ = ["apply_budgets", "budget_spent", "merge_budgets", "reopen_update"]


def merge_budgets(
    spec: WorkflowSpec, kept: dict[str, Any] | None, raised: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The overrides to keep in the run record: earlier ones updated with ``raised``.

    Raises:
        ConfigError: When a value is not a valid budget (e.g. zero or negative).
    """
    if not raised:
        return kept
    merged = {**(kept or {}), **{k: v for k, v in raised.items() if v is not None}}
    try:
        BudgetSpec.model_validate({**spec.budgets.model_dump(), **merged})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(
            f"budget {'.'.join(map(str, error['loc']))}: {error['msg']}",
            hint="give a positive number, e.g. --max-model-calls 60",
        ) from None
    return merged


def apply_budgets(spec: WorkflowSpec, overrides: dict[str, Any] | None) -> WorkflowSpec:
    """``spec`` with its budgets replaced by the run record's overrides."""
    if not overrides:
        return spec
    budgets = BudgetSpec.model_validate({**spec.budgets.model_dump(), **overrides})
    return spec.model_copy(update={"budgets": budgets})


def budget_spent(budgets: BudgetSpec, state: AgentState, *, calls_model: bool = True) -> str | None:
    """Why the job must stop before the next node, or None while budgets remain (pure).

    Args:
        budgets: The job's budgets.
        state: The job's state (its ``usage``).
        calls_model: Whether the next node may call a model (its kind declares
            ``calls_model``, as an undeclared kind is assumed to). The model-call and
            token budgets stop only such a node; a node that calls no model (a lint
            step) cannot spend them, and the wall-time budget stops any node.

    Wall time is the time spent running nodes (``usage.node_ms``): a job that waited
    for an approval, or was resumed a day after a crash, is not over budget for that.
    """
    usage = state.get("usage") or {}
    if calls_model:
        spent = _model_budget_spent(budgets, usage)
        if spent is not None:
            return spent
    elapsed = usage.get("node_ms", 0) / 1000
    if budgets.max_wall_s is not None and elapsed >= budgets.max_wall_s:
        return f"wall-time budget spent ({elapsed:.0f}s of {budgets.max_wall_s:.0f}s)"
    return None


def _model_budget_spent(budgets: BudgetSpec, usage: dict[str, Any]) -> str | None:
    calls = usage.get("calls", 0)
    if budgets.max_model_calls is not None and calls >= budgets.max_model_calls:
        return f"model-call budget spent ({calls} of {budgets.max_model_calls})"
    tokens = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
    if budgets.max_tokens is not None and tokens >= budgets.max_tokens:
        return f"token budget spent ({tokens} of {budgets.max_tokens})"
    return None


def reopen_update(
    old: BudgetSpec, new: BudgetSpec, state: AgentState
) -> tuple[dict[str, Any], str, Transition]:
    """How to reopen a ``budget_exceeded`` job under ``new`` budgets (pure).

    Returns:
        The state update, the node to apply it as (so that its edge leads to the
        node the job stopped before), and the ``budget_raised`` transition.

    Raises:
        ConfigError: When the new budgets are still spent.
        CodeAgentError: When the state does not show where the job stopped.
    """
    still = budget_spent(new, state)
    if still is not None:
        raise ConfigError(
            f"the raised budgets are still spent: {still}",
            hint="raise the budget above what the job has used (see 'codeagent history')",
        )
    transitions = state.get("transitions") or []
    stop = next((t for t in reversed(transitions) if t["outcome"] == "budget"), None)
    if stop is None:
        raise CodeAgentError("the job ended budget_exceeded but has no budget transition")
    node = stop["from"]
    came = [t for t in transitions if t["to"] == node and t is not stop]
    if not came:
        raise CodeAgentError(f"cannot find the edge that led to node {node!r}")
    changes = [
        f"{name} {getattr(old, name)} -> {getattr(new, name)}"
        for name in BudgetSpec.model_fields
        if getattr(old, name) != getattr(new, name)
    ]
    reason = "budgets raised: " + (", ".join(changes) or "unchanged")
    transition = Transition(node, node, "budget_raised", reason)
    update = {"status": "running", "next": node, "transitions": [transition.to_state()]}
    return update, came[-1]["from"], transition
