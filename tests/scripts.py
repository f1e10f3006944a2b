"""Scripted model answers and workflow files for graph and CLI tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from codeagent.tools.testing import Rule, ScriptedChatModel

PLAN = json.dumps(
    {
        "summary": "add two numbers",
        "files": ["solution.py"],
        "steps": ["define add", "return the sum"],
        "test_cases": ["add(1, 2) -> 3"],
    }
)
GOOD = "solution.py\n```python\ndef add(a, b):\n    return a + b\n```\n"
BAD = "solution.py\n```python\ndef add(a, b):\n    return a - b\n```\n"
HALF = "solution.py\n```python\ndef add(a, b):\n    return a + b if a >= 0 else a\n```\n"
TESTS = (
    "test_solution.py\n```python\nfrom solution import add\n\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n\n\n"
    "def test_negative():\n    assert add(-1, 1) == 0\n```\n"
)
APPROVE = '{"verdict": "approve", "comments": []}'
CHANGES = '{"verdict": "request_changes", "comments": ["add a docstring"]}'
TASK = "Write add(a, b) that returns the sum of two integers.\n\n>>> add(2, 3)\n5\n"


def rules(
    *,
    code: list[str] | None = None,
    fix: list[str] | None = None,
    review: list[str] | None = None,
) -> list[Rule]:
    """Rules for planner/coder/tester/reviewer; ``fix`` answers retry prompts."""
    return [
        Rule(name="plan", match="You are the planner", reply=PLAN),
        Rule(name="fix", match="Your previous version", replies=fix or [GOOD]),
        Rule(name="code", match="You are the coder|You are an expert", replies=code or [GOOD]),
        Rule(name="test", match="You are the tester", reply=TESTS),
        Rule(name="review", match="You are the reviewer", replies=review or [APPROVE]),
    ]


def model(**kwargs: Any) -> ScriptedChatModel:
    """A scripted model with :func:`rules`."""
    return ScriptedChatModel(rules=rules(**kwargs))


def write_workflow(
    directory: Path,
    *,
    base: str = "default",
    delay_s: float = 0.0,
    log: bool = False,
    **kwargs: Any,
) -> Path:
    """A copy of a shipped workflow whose model is a scripted rules file in ``directory``."""
    from codeagent.configs import workflow_path

    path = workflow_path(base)
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["models"] = {"default": {"provider": "scripted", "script": "rules.yaml"}}
    data["sandbox"]["backend"] = "local"
    rules_data: dict[str, Any] = {
        "delay_s": delay_s,
        "rules": [r.model_dump(exclude_defaults=True) for r in rules(**kwargs)],
    }
    if log:
        rules_data["log"] = "calls.jsonl"
    (directory / "rules.yaml").write_text(yaml.safe_dump(rules_data))
    target = directory / "workflow.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def sampling_workflow(
    directory: Path,
    script: list[Rule],
    *,
    tester: str = "tester",
    options: dict[str, Any] | None = None,
) -> Path:
    """A code -> test workflow (one repair round) with a sampling coder, whose model is
    the rules ``script`` (written to ``directory``), on the local sandbox."""
    dumped = [r.model_dump(exclude_defaults=True) for r in script]
    (directory / "rules.yaml").write_text(yaml.safe_dump({"rules": dumped}))
    workflow = {
        "name": "sampling",
        "models": {"default": {"provider": "scripted", "script": "rules.yaml"}},
        "nodes": {
            "code": {"kind": "codeagent.nodes.sampling:sampling_coder", "options": options or {}},
            "test": {"kind": tester},
        },
        "edges": [
            {"from": "code", "to": "test"},
            {
                "from": "test",
                "route": "tests",
                "branches": {"pass": "END", "fail": {"to": "code", "max": 1}},
            },
        ],
        "sandbox": {"backend": "local"},
    }
    path = directory / "workflow.yaml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path
