"""The workflows that ship with codeagent (copy one and edit it to make your own)."""

from __future__ import annotations

from codeagent.graphs.workflow.shipped import shipped_workflows, workflow_path

__all__ = ["shipped_workflows", "workflow_path"]
