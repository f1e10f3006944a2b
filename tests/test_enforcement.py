"""Guardrails keyed on what nodes declare: no workflow runs code that breaks the policy.

Every shipped workflow and one with a custom node, each given code with a
forbidden import by a scripted model, on the local sandbox.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from codeagent.configs import workflow_path
from codeagent.graphs import run_job
from codeagent.graphs.enforcement import gated
from codeagent.tools.errors import PolicyViolation
from codeagent.tools.guardrails import Policy
from codeagent.tools.languages import get_adapter
from codeagent.tools.languages.python import PROBE_PATH
from codeagent.tools.sandbox import ExecResult
from codeagent.tools.sandbox.protocol import SandboxContext
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts
from tests.host_support import require_node
from tests.recording import Recorder

SNEAKY = "solution.py\n```python\nimport socket\n\ndef add(a, b):\n    return a + b\n```\n"
JS_PLAN = json.dumps({"summary": "add", "files": ["solution.js"], "steps": ["add"]})
JS_GOOD = (
    "solution.js\n```javascript\nfunction add(a, b) {\n  return a + b;\n}\n"
    "module.exports = { add };\n```\n"
)
JS_SNEAKY = JS_GOOD.replace("function add", "const net = require('net');\n\nfunction add")
JS_TESTS = (
    "solution.test.js\n```javascript\nconst test = require('node:test');\n"
    "const assert = require('node:assert');\nconst { add } = require('./solution');\n\n"
    "test('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});\n```\n"
)
CUSTOM = {
    "name": "custom",
    "nodes": {"code": {"kind": "coder"}, "smoke": {"kind": "tests.custom_nodes:smoke"}},
    "edges": [
        {"from": "code", "to": "smoke"},
        {
            "from": "smoke",
            "route": "tests",
            "branches": {"pass": "END", "fail": {"to": "code", "max": 2}},
        },
    ],
    "sandbox": {"backend": "local"},
}
WORKFLOWS = ["default", "quick", "tdd", "small-model", "javascript", "custom"]


def _workflow(directory: Path, name: str, on_violation: str) -> Path:
    """A copy of a shipped workflow (or the custom one) forbidding socket / net."""
    if name == "custom":
        data: dict[str, Any] = json.loads(json.dumps(CUSTOM))
    else:
        source = workflow_path(name)
        assert source is not None
        data = yaml.safe_load(source.read_text())
        for prompt in {n["prompt"] for n in data["nodes"].values() if n.get("prompt")}:
            (directory / prompt).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source.parent / prompt, directory / prompt)
    data["sandbox"]["backend"] = "local"
    banned = "net" if data["sandbox"].get("language") == "javascript" else "socket"
    data["guardrails"] = {"forbidden_imports": [banned], "on_violation": on_violation}
    path = directory / "workflow.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _model(name: str) -> ScriptedChatModel:
    """Code with a forbidden import first; the repair (which sees the reason) is clean."""
    if name == "javascript":
        require_node()
        return ScriptedChatModel(
            rules=[
                Rule(match="You are the planner", reply=JS_PLAN),
                Rule(match="You write JavaScript tests", reply=JS_TESTS),
                Rule(match="Your previous version", reply=JS_GOOD),
                Rule(match="You are the coder", reply=JS_SNEAKY),
                Rule(match="You are the reviewer", reply=scripts.APPROVE),
            ]
        )
    return ScriptedChatModel(
        rules=[
            Rule(match="You are the test writer", reply=scripts.TESTS),
            *scripts.rules(code=[SNEAKY], fix=[scripts.GOOD]),
        ]
    )


def _forbidden(name: str) -> str:
    return "require('net')" if name == "javascript" else "import socket"


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("name", WORKFLOWS)
def test_stop_blocks_every_workflow_before_the_code_runs(name: str, tmp_path: Path) -> None:
    sandboxes = Recorder()
    result = run_job(
        scripts.TASK,
        workflow=_workflow(tmp_path, name, "stop"),
        chat_model=_model(name),
        sandbox_factory=sandboxes,
        out=tmp_path / "out",
    )

    assert result.status == "blocked", result.error
    assert not sandboxes.ran_code_with(_forbidden(name))


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("name", WORKFLOWS)
def test_retry_sends_every_workflow_back_with_the_reason(name: str, tmp_path: Path) -> None:
    sandboxes = Recorder()
    model = _model(name)
    result = run_job(
        scripts.TASK,
        workflow=_workflow(tmp_path, name, "retry"),
        chat_model=model,
        sandbox_factory=sandboxes,
        out=tmp_path / "out",
    )

    assert result.status == "success", result.error
    assert result.attempts == 2
    repair = next(p for p in model.prompts if "Your previous version" in p)
    assert "which the policy forbids" in repair
    assert not sandboxes.ran_code_with(_forbidden(name))
    assert sandboxes.ran  # the repaired code did run


@pytest.mark.usefixtures("bwrap")
def test_code_a_node_runs_itself_is_checked_in_its_sandbox(tmp_path: Path) -> None:
    data = json.loads(json.dumps(CUSTOM))
    data["nodes"]["code"] = {"kind": "tests.custom_nodes:tried_author"}
    data["guardrails"] = {"forbidden_imports": ["socket"], "on_violation": "stop"}
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    sandboxes = Recorder()

    result = run_job(
        scripts.TASK,
        workflow=tmp_path / "wf.yaml",
        chat_model=scripts.model(code=[SNEAKY]),
        sandbox_factory=sandboxes,
        out=tmp_path / "out",
    )

    assert result.status == "blocked"
    assert sandboxes.ran == []


def test_a_custom_planners_plan_is_checked(tmp_path: Path) -> None:
    plan = json.dumps({"summary": "s", "files": ["a.py", "b.py", "c.py"], "steps": []})
    data = {
        "name": "outlined",
        "nodes": {"plan": {"kind": "tests.custom_nodes:outline"}, "code": {"kind": "coder"}},
        "edges": [{"from": "plan", "to": "code"}, {"from": "code", "to": "END"}],
        "guardrails": {"max_files": 2},
    }
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    model = ScriptedChatModel(rules=[Rule(match="planner", reply=plan)])

    result = run_job(scripts.TASK, workflow=tmp_path / "wf.yaml", chat_model=model)

    assert result.status == "blocked"
    assert result.files == {}


class _Inert(SandboxContext):
    """A sandbox that runs nothing: it counts the commands it was asked to run."""

    backend = "inert"

    def __init__(self) -> None:
        self.runs = 0

    def start(self) -> None:
        pass

    def write_files(self, files: Mapping[str, str]) -> None:
        pass

    def run(self, cmd: Sequence[str], timeout_s: float) -> ExecResult:
        self.runs += 1
        return ExecResult(0, "", "", 0.0)

    def read_files(self, paths: Sequence[str]) -> dict[str, str]:
        return {}

    def close(self) -> None:
        pass


def test_the_gate_checks_the_sources_not_the_tests_or_the_probe() -> None:
    inert = _Inert()
    policy = Policy(forbidden_imports=("socket",), forbidden_calls=("eval",), max_files=1)
    make = gated(lambda: inert, policy, get_adapter("python"))

    with make() as sandbox:
        sandbox.write_files({"solution.py": "def add(a, b):\n    return a + b\n"})
        sandbox.write_files({"test_solution.py": "import socket\n", PROBE_PATH: "eval('1')\n"})
        sandbox.run(["pytest"], timeout_s=5)
        sandbox.write_files({"helper.py": "import socket\n"})
        with pytest.raises(PolicyViolation) as info:
            sandbox.run(["pytest"], timeout_s=5)

    assert inert.runs == 1
    assert "helper.py: line 1: imports socket, which the policy forbids" in info.value.problems
    assert "the plan has 2 files; the policy allows 1" in info.value.problems
