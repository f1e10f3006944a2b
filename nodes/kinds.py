"""What a node kind is: its role and capabilities, declared by its author.

Policy keys on these, never on a kind's name, so that a renamed, sampling or
plugin node gets the same treatment as the built-in it stands in for:

- ``runs_code`` without ``writes_code``: the node runs the job's ``files``, so the
  workflow's guardrails check them before the node starts;
- ``calls_model``: the model-call and token budgets stop the job before the node;
- role ``planner``: its plan is checked by the guardrails and, with
  ``approvals: [plan]``, approved by a person before the job goes on;
- role ``coder``: its model is "the coder's model" (the single-shot eval baseline).

Whatever a node runs in a sandbox is checked as well, whatever it declares: the
sandbox a node gets from ``ctx.open_sandbox()`` refuses to run code that breaks
the policy (see :mod:`codeagent.tools.sandbox.policy`).

Declare a node with the :func:`node_kind` decorator::

    from codeagent.nodes.kinds import node_kind

    @node_kind(role="tester", capabilities={"runs_code"}, options=SmokeOptions)
    def smoke(state, ctx):
        ...

A node without a declaration (a plain function, an older plugin) is taken to be
role ``other`` that may call a model and run the job's code
(:data:`UNDECLARED_CAPABILITIES`), so the guardrails and budgets apply to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel

__all__ = [
    "CAPABILITIES",
    "ROLES",
    "UNDECLARED_CAPABILITIES",
    "Capability",
    "NodeFn",
    "NodeKind",
    "Role",
    "describe",
    "node_kind",
]

NodeFn = Callable[[Any, Any], dict[str, Any]]
Role = Literal["planner", "coder", "tester", "reviewer", "other"]
Capability = Literal["calls_model", "runs_code", "writes_code", "writes_tests"]
ROLES: tuple[Role, ...] = get_args(Role)
CAPABILITIES: tuple[Capability, ...] = get_args(Capability)
UNDECLARED_CAPABILITIES: frozenset[Capability] = frozenset({"calls_model", "runs_code"})
"""What an undeclared node is assumed to do: the conservative choice, so policy applies."""

_ATTR = "__codeagent_node_kind__"
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class NodeKind:
    """A node kind as the graph sees it.

    Attributes:
        fn: The node function ``(state, ctx) -> dict``.
        role: ``planner``, ``coder``, ``tester``, ``reviewer`` or ``other``.
        capabilities: What the node may do: ``calls_model`` (asks a chat model),
            ``runs_code`` (runs code in a sandbox), ``writes_code`` (writes the
            solution's ``files``), ``writes_tests`` (writes ``tests``).
        options_model: The pydantic model its ``options:`` are validated against
            (None: the kind takes no options).
        declared: False when the function declares nothing and the conservative
            default applies.
    """

    fn: NodeFn
    role: Role = "other"
    capabilities: frozenset[Capability] = UNDECLARED_CAPABILITIES
    options_model: type[BaseModel] | None = None
    declared: bool = False

    def can(self, capability: Capability) -> bool:
        """True when the kind declares (or is assumed to have) ``capability``."""
        return capability in self.capabilities

    @property
    def runs_job_code(self) -> bool:
        """True when the node runs the job's current ``files`` (code it did not write).

        A node that also writes code (a coder trying its candidates) replaces the
        files instead; what it runs is checked in its sandbox.
        """
        return self.can("runs_code") and not self.can("writes_code")


def node_kind(
    *,
    role: Role = "other",
    capabilities: Iterable[Capability] = (),
    options: type[BaseModel] | None = None,
) -> Callable[[_F], _F]:
    """Declare what a node function is; returns the function unchanged (marked).

    Args:
        role: The part the node plays in the workflow.
        capabilities: What it may do (see :class:`NodeKind`). Declare ``runs_code``
            when it runs anything in a sandbox, ``calls_model`` when it asks a model.
        options: A pydantic model for the node's ``options:`` in the workflow (use
            ``extra="forbid"`` so a misspelt option is an error at load).

    Raises:
        ValueError: For an unknown role or capability.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    caps = frozenset(capabilities)
    unknown = sorted(set(caps) - set(CAPABILITIES))
    if unknown:
        raise ValueError(f"unknown capabilities {unknown}; use some of: {', '.join(CAPABILITIES)}")

    def mark(fn: _F) -> _F:
        setattr(fn, _ATTR, NodeKind(fn, role, caps, options, declared=True))
        return fn

    return mark


def describe(fn: NodeFn) -> NodeKind:
    """The declared kind of node function ``fn``, or the conservative default.

    An undeclared function keeps a bare ``options_model`` attribute working (the
    way node options were declared before :func:`node_kind`).
    """
    found = getattr(fn, _ATTR, None)
    if isinstance(found, NodeKind):
        return found if found.fn is fn else replace(found, fn=fn)  # e.g. a functools.wraps copy
    return NodeKind(fn, options_model=getattr(fn, "options_model", None))
