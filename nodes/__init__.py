"""The agent's nodes: planner, coder, tester, reviewer; plain functions of (state, context)."""

from __future__ import annotations

from codeagent.nodes.coder import coder
from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import NodeKind, node_kind
from codeagent.nodes.planner import planner
from codeagent.nodes.registry import describe_node, get_node, node_kinds
from codeagent.nodes.reviewer import Review, reviewer
from codeagent.nodes.tester import tester
from codeagent.tools.contracts.plan import Plan

__all__ = [
    "NodeContext",
    "NodeKind",
    "Plan",
    "Review",
    "coder",
    "describe_node",
    "get_node",
    "node_kind",
    "node_kinds",
    "planner",
    "reviewer",
    "tester",
]
