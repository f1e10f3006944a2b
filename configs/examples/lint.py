"""An example custom node and route: a lint step between the coder and the tester.

Used by ``configs/examples/lint.yaml``::

    nodes:
      lint: {kind: "codeagent.configs.examples.lint:lint"}
    edges:
      - from: lint
        route: "codeagent.configs.examples.lint:lint_outcome"
        branches: {clean: test, issues: {to: code, max: 2}}

A node is a plain function ``(state, ctx) -> dict``: it reads the job state, does
its work (here: pure Python, no model and no sandbox), and returns only the state
keys it changes. Findings go into ``review`` as change requests, so the coder's
next attempt sees them exactly like a reviewer's comments. ``@node_kind`` declares
what it is: a reviewer that neither calls a model nor runs code (so a spent
model-call budget does not stop it, and no guardrail check is needed before it).
"""

from __future__ import annotations

import ast
from typing import Any

from codeagent.graphs.routes import route
from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind

__all__ = ["lint", "lint_outcome", "lint_source"]

_BY = "lint"
_DEBUG_CALLS = {"print", "breakpoint", "eval", "exec"}


def lint_source(path: str, text: str) -> list[str]:
    """Findings for one Python file (pure): syntax errors, bare except, debug calls, import *."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return [f"{path}:{exc.lineno}: syntax error: {exc.msg}"]
    findings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            findings.append(f"{path}:{node.lineno}: bare 'except:'; catch a specific exception")
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            findings.append(f"{path}:{node.lineno}: 'import *'; import the names you use")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _DEBUG_CALLS
        ):
            findings.append(f"{path}:{node.lineno}: call to {node.func.id}(); remove it")
    return sorted(findings)


@node_kind(role="reviewer")
def lint(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Lint the solution's Python files; findings become change requests in ``review``.

    Returns:
        ``review`` with ``by: lint``: ``request_changes`` and the findings, or
        ``approve`` when the files are clean.
    """
    findings = [
        finding
        for path, text in sorted((state.get("files") or {}).items())
        if path.endswith(".py")
        for finding in lint_source(path, text)
    ]
    verdict = "request_changes" if findings else "approve"
    return {"review": {"verdict": verdict, "comments": findings, "by": _BY}}


@route("clean", "issues", success={"clean"})
def lint_outcome(state: Any) -> tuple[str, str]:
    """``clean`` when the lint step found nothing, else ``issues``."""
    review = state.get("review") or {}
    comments = review.get("comments") or []
    if review.get("by") == _BY and comments:
        return "issues", f"lint found {len(comments)} problem(s): {comments[0]}"
    return "clean", "lint found no problem"
