"""The contracts every layer shares, at the bottom so nothing imports upwards for them.

The job state and its typed records (plan, test report, history entry) and the model
spec. Plain data: pydantic models at the boundaries, TypedDicts and frozen dataclasses
inside; no I/O.
"""

from __future__ import annotations

from codeagent.tools.contracts.history import HistoryEntry, history_entry
from codeagent.tools.contracts.model import ModelSpec
from codeagent.tools.contracts.plan import Plan
from codeagent.tools.contracts.report import TestReport
from codeagent.tools.contracts.state import AgentState, add_counts, best_attempt, initial_state

__all__ = [
    "AgentState",
    "HistoryEntry",
    "ModelSpec",
    "Plan",
    "TestReport",
    "add_counts",
    "best_attempt",
    "history_entry",
    "initial_state",
]
