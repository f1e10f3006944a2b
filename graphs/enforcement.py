"""Enforcing a workflow's guardrails around node runs (see :mod:`codeagent.tools.guardrails`).

Policy keys on what a node kind declares (:class:`~codeagent.nodes.kinds.NodeKind`),
never on its name, in two places that together cover every node, plugins included:

- around the node (:func:`guarded`): a node that runs the job's code
  (``runs_code`` without ``writes_code``, which an undeclared node is assumed to)
  has the job's ``files`` checked before it starts; a planner's plan is checked
  after it;
- in its sandboxes (:func:`gated`): whatever code a node runs itself (a sampling
  coder's candidates and probe runs, a plugin's own scripts) is checked before
  the sandbox runs it, and a violation raised from the node ends like one found
  before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codeagent.graphs.routes import Transition
from codeagent.graphs.workflow.spec import END, GuardrailSpec
from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import NodeKind
from codeagent.tools.contracts.history import history_entry
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.errors import PolicyViolation
from codeagent.tools.guardrails import Policy, check_code, check_plan
from codeagent.tools.languages import LanguageAdapter
from codeagent.tools.sandbox import Sandbox
from codeagent.tools.sandbox.policy import PolicySandbox

__all__ = ["gated", "guarded", "policy_of"]


def policy_of(rails: GuardrailSpec) -> Policy:
    """The workflow's ``guardrails:`` as the checks take them."""
    return Policy(
        tuple(rails.forbidden_imports),
        tuple(rails.forbidden_calls),
        rails.max_files,
        rails.max_file_bytes,
    )


def gated(
    open_sandbox: Callable[[], Sandbox], policy: Policy, language: LanguageAdapter
) -> Callable[[], Sandbox]:
    """A sandbox factory whose sandboxes refuse to run sources breaking ``policy``.

    Test files (by the language's convention) and codeagent's harness scripts are
    not the job's sources, as in every other guardrail check.
    """

    def is_source(path: str) -> bool:
        return path not in language.harness_files and not language.is_test_file(path)

    def make() -> Sandbox:
        return PolicySandbox(open_sandbox(), policy, is_source)

    return make


def guarded(
    rails: GuardrailSpec, node_id: str, kind: NodeKind, ctx: NodeContext, state: AgentState
) -> tuple[dict[str, Any], Transition | None]:
    """Run the node under the workflow's guardrails.

    Before a node that runs the job's code, the code is checked; a violation
    becomes a failed test run whose output says why (so the tests route sends it
    back, as an attempt), or stops the job (``on_violation: stop``). A violation
    the node's sandbox raised is treated the same way. A planner's plan is checked
    after it; a violation stops the job.
    """
    if kind.runs_job_code:
        problems = check_code(state.get("files") or {}, ctx.policy)
        if problems:
            return _violated(rails, node_id, state, problems)
    try:
        update = kind.fn(state, ctx)
    except PolicyViolation as exc:
        return _violated(rails, node_id, state, list(exc.problems))
    if kind.role == "planner":
        problems = check_plan((update.get("plan") or {}).get("files", []), ctx.policy)
        if problems:
            return update, _blocked(node_id, problems)
    return update, None


def _violated(
    rails: GuardrailSpec, node_id: str, state: AgentState, problems: list[str]
) -> tuple[dict[str, Any], Transition | None]:
    if rails.on_violation == "stop":
        return {}, _blocked(node_id, problems)
    return _violation(state, problems), None


def _blocked(node_id: str, problems: list[str]) -> Transition:
    return Transition(node_id, END, "guardrail", "; ".join(problems)[:500], "blocked")


def _violation(state: AgentState, problems: list[str]) -> dict[str, Any]:
    """A failed test run that never ran: the code broke the policy."""
    report = {
        "passed": 0,
        "failed": 0,
        "errors": 1,
        "total": 0,
        "coverage": None,
        "output": "The code was not run: it breaks the workflow's policy:\n"
        + "\n".join(f"- {p}" for p in problems),
        "exit_code": -1,
        "timed_out": False,
        "ok": False,
        "guardrail": problems,
    }
    entry = history_entry(state, state.get("tests") or {}, report)
    return {"test_report": report, "history": [entry]}
