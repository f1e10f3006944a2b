"""Custom node kinds for the tests, named in workflows as ``tests.custom_nodes:NAME``.

Some declare what they are with ``@node_kind``; ``smoke`` declares nothing, as an
older plugin would, and gets the conservative default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from codeagent.nodes.coder import coder
from codeagent.nodes.context import NodeContext
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.planner import planner


class ImportCheckOptions(BaseModel):
    """Options of :func:`import_check`."""

    model_config = ConfigDict(extra="forbid")

    module: str = "solution"


def _import_report(ctx: NodeContext, files: dict[str, str], module: str) -> dict[str, Any]:
    """Import ``module`` from ``files`` in a sandbox; the outcome as a one-test report."""
    with ctx.open_sandbox() as sandbox:
        sandbox.write_files(files)
        result = sandbox.run(["python3", "-c", f"import {module}"], timeout_s=ctx.test_timeout_s)
    return {
        "passed": int(result.ok),
        "failed": 0,
        "errors": int(not result.ok),
        "total": 1,
        "coverage": None,
        "output": result.stderr[-2000:],
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "ok": result.ok,
    }


def smoke(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Undeclared: imports the solution in a sandbox, reported like a test run."""
    return {"test_report": _import_report(ctx, state.get("files") or {}, "solution")}


@node_kind(role="tester", capabilities={"runs_code"}, options=ImportCheckOptions)
def import_check(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Declared tester: imports ``options.module`` in a sandbox."""
    options = ImportCheckOptions.model_validate(dict(ctx.options))
    return {"test_report": _import_report(ctx, state.get("files") or {}, options.module)}


@node_kind(role="coder", capabilities={"calls_model", "writes_code"})
def author(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Declared coder under a name without "coder" in it."""
    return coder(state, ctx)


@node_kind(role="coder", capabilities={"calls_model", "writes_code", "runs_code"})
def tried_author(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """A coder that tries its answer itself before handing it on (through its sandbox)."""
    update = coder(state, ctx)
    _import_report(ctx, update["files"], "solution")
    return update


@node_kind(role="planner", capabilities={"calls_model"})
def outline(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Declared planner under another name."""
    return planner(state, ctx)


@node_kind()
def decoder_check(state: Any, ctx: NodeContext) -> dict[str, Any]:
    """Role ``other`` with "coder" in its name: changes nothing."""
    return {}
