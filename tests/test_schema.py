"""The published JSON Schema: generated from the spec, committed, and matching the configs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from codeagent.configs import shipped_workflows, workflow_path
from codeagent.graphs.workflow.schema import SCHEMA_FILE, schema_text, workflow_schema

CONFIGS = SCHEMA_FILE.parent
ALL = [p for p in (workflow_path(n) for n in shipped_workflows()) if p is not None]
ALL += sorted((CONFIGS / "examples").glob("*.yaml"))


def test_the_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "run: codeagent schema --out " + str(
        SCHEMA_FILE
    )


def test_the_schema_forbids_unknown_keys_and_knows_the_shorthand() -> None:
    schema = workflow_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "nodes", "edges"}
    branch = schema["$defs"]["EdgeSpec"]["properties"]["branches"]["additionalProperties"]
    assert {"type": "string", "description": "A node id or END."} in branch["anyOf"]
    assert (
        "package.module:function"
        in schema["$defs"]["NodeSpec"]["properties"]["kind"]["description"]
    )


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_shipped_workflow_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (path.parent / first.split("$schema=")[1]).resolve()
    assert target == SCHEMA_FILE


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_shipped_workflow_matches_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    assert _errors(yaml.safe_load(path.read_text()), schema, schema) == []


def test_the_schema_catches_a_typo() -> None:
    schema = workflow_schema()
    data = {
        "name": "x",
        "nodes": {"a": {"kind": "coder", "modle": "m"}},
        "edges": [{"from": "a", "route": "tests", "branches": {"pass": 3}}],
    }
    assert _errors(data, schema, schema) == [
        "nodes.a: unknown key 'modle'",
        "edges[0].branches.pass: not string",
    ]


def _errors(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "") -> list[str]:
    """A small JSON Schema checker (the subset pydantic emits), enough for these tests."""
    if "$ref" in schema:
        return _errors(value, root["$defs"][schema["$ref"].split("/")[-1]], root, at)
    if "anyOf" in schema:
        options = [_errors(value, s, root, at) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else min(options, key=len)
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    kinds |= {"integer": int, "number": (int, float)}
    if "type" in schema and not isinstance(value, kinds[schema["type"]]):
        return [f"{at}: not {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: not one of {schema['enum']}"]
    if isinstance(value, list) and "items" in schema:
        return [
            e for i, v in enumerate(value) for e in _errors(v, schema["items"], root, f"{at}[{i}]")
        ]
    if not isinstance(value, dict):
        return []
    out = [f"{at}: missing {k!r}" for k in schema.get("required", []) if k not in value]
    props, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
    for key, item in value.items():
        where = f"{at}.{key}" if at else key
        if key in props:
            out += _errors(item, props[key], root, where)
        elif extra is False:
            out.append(f"{at}: unknown key {key!r}")
        elif isinstance(extra, dict):
            out += _errors(item, extra, root, where)
    return out
