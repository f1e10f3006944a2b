"""The JSON Schema of workflow files, generated from :class:`~.spec.WorkflowSpec`.

The committed copy is ``configs/workflow.schema.json``; editors with the YAML
language server pick it up from the first line of a workflow file::

    # yaml-language-server: $schema=./workflow.schema.json

Regenerate it after changing the spec: ``codeagent schema --out configs/workflow.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from codeagent.graphs.workflow.shipped import configs_dir
from codeagent.graphs.workflow.spec import WorkflowSpec

__all__ = ["SCHEMA_FILE", "schema_text", "workflow_schema"]

SCHEMA_FILE = configs_dir() / "workflow.schema.json"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def workflow_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) a workflow YAML file must match."""
    schema = WorkflowSpec.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    _branch_shorthand(defs)
    _kind_help(defs)
    return {"$schema": _DRAFT, **schema}


def schema_text() -> str:
    """The schema as the committed file holds it (sorted, indented, newline-terminated)."""
    return json.dumps(workflow_schema(), indent=2, sort_keys=True) + "\n"


def _branch_shorthand(defs: dict[str, Any]) -> None:
    """``pass: review`` is shorthand for ``pass: {to: review}`` (a before-validator in the spec)."""
    branches = defs.get("EdgeSpec", {}).get("properties", {}).get("branches")
    if branches is None:
        return
    target = branches.get("additionalProperties")
    branches["additionalProperties"] = {
        "anyOf": [{"type": "string", "description": "A node id or END."}, target]
    }


def _kind_help(defs: dict[str, Any]) -> None:
    kind = defs.get("NodeSpec", {}).get("properties", {}).get("kind")
    if kind is not None:
        kind["description"] = (
            "A built-in kind (planner, coder, tester, reviewer, test_writer), an import "
            "path 'package.module:function', or a plugin name from the 'codeagent.nodes' "
            "entry-point group."
        )
        kind["examples"] = ["planner", "coder", "tester", "reviewer", "test_writer"]
    route = defs.get("EdgeSpec", {}).get("properties", {}).get("route")
    if route is not None:
        route["description"] = (
            "A built-in route (tests, review), an import path 'package.module:name' of a "
            "@route-decorated function, or a plugin name from 'codeagent.routes'."
        )
