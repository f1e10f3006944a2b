"""Guardrails: the policy is checked on plans and code before anything runs."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codeagent.configs import workflow_path
from codeagent.graphs import WorkflowSpec, load_workflow, parse_workflow, run_job
from codeagent.tools.errors import ConfigError
from codeagent.tools.guardrails import Policy, check_code, check_plan
from codeagent.tools.sandbox import LocalSandbox
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

NET = Policy(forbidden_imports=("socket", "subprocess"), forbidden_calls=("eval", "os.system"))
SNEAKY = "solution.py\n```python\nimport socket\n\ndef add(a, b):\n    return a + b\n```\n"


def test_forbidden_imports_and_calls_are_found_with_their_line() -> None:
    code = (
        "import os\nimport subprocess as sp\nfrom socket import create_connection\n"
        "def f(x):\n    os.system('ls')\n    return eval(x)\n"
    )
    problems = check_code({"a.py": code}, NET)
    assert problems == [
        "a.py: line 2: imports subprocess, which the policy forbids",
        "a.py: line 3: imports socket, which the policy forbids",
        "a.py: line 5: calls os.system, which the policy forbids",
        "a.py: line 6: calls eval, which the policy forbids",
    ]


def test_javascript_imports_are_found_by_module_name() -> None:
    code = (
        "const net = require('net');\n"
        "import { spawn } from 'node:child_process';\n"
        "const fs = require('fs');\n"
        'const dns = await import("dns/promises");\n'
        "const netlify = require('netlify');\n"
    )
    policy = Policy(forbidden_imports=("net", "child_process", "dns"))

    assert check_code({"solution.js": code}, policy) == [
        "solution.js: line 1: imports net, which the policy forbids",
        "solution.js: line 2: imports child_process, which the policy forbids",
        "solution.js: line 4: imports dns/promises, which the policy forbids",
    ]


def test_clean_code_and_syntax_errors_pass_the_static_check() -> None:
    assert check_code({"a.py": "import math\nprint(math.pi)\n"}, NET) == []
    assert check_code({"a.py": "def broken(:\n"}, NET) == []  # the test run reports it


def test_sizes_counts_and_paths() -> None:
    policy = Policy(max_files=1, max_file_bytes=10)
    problems = check_code({"a.py": "x = 1234567890\n", "b.py": ""}, policy)
    assert "the plan has 2 files; the policy allows 1" in problems
    assert "a.py is 15 bytes; the policy allows 10" in problems
    assert check_plan(["../../etc/passwd"], Policy()) == [
        "'../../etc/passwd' is outside the workspace"
    ]


def _spec(**rails: object) -> WorkflowSpec:
    path = workflow_path("default")
    assert path is not None
    data = load_workflow(str(path))[0].model_dump(by_alias=True)
    data["guardrails"] = rails
    return WorkflowSpec.model_validate(data)


@pytest.mark.usefixtures("bwrap")
def test_a_violation_is_sent_back_as_an_attempt() -> None:
    exporter = InMemorySpanExporter()
    model = scripts.model(code=[SNEAKY], fix=[scripts.GOOD])
    result = run_job(
        scripts.TASK,
        workflow=_spec(forbidden_imports=["socket"]),
        chat_model=model,
        sandbox_factory=LocalSandbox,
        span_processors=[SimpleSpanProcessor(exporter)],
    )
    assert result.status == "success"
    assert result.attempts == 2
    fix_prompt = next(p for p in model.prompts if "Your previous version" in p)
    assert "imports socket, which the policy forbids" in fix_prompt
    spans = exporter.get_finished_spans()
    # the bad code never ran: only the good code's tests and their stub run
    assert sum(s.name == "execute_tool sandbox.run" for s in spans) == 2
    reasons = [e.attributes["codeagent.reason"] for s in spans for e in s.events]
    assert any(r.startswith("guardrail: solution.py: line 1: imports socket") for r in reasons)


@pytest.mark.usefixtures("bwrap")
def test_stop_ends_the_job_blocked_without_running_anything() -> None:
    exporter = InMemorySpanExporter()
    result = run_job(
        scripts.TASK,
        workflow=_spec(forbidden_imports=["socket"], on_violation="stop"),
        chat_model=scripts.model(code=[SNEAKY]),
        sandbox_factory=LocalSandbox,
        span_processors=[SimpleSpanProcessor(exporter)],
    )
    assert result.status == "blocked"
    assert not any(s.name == "execute_tool sandbox.run" for s in exporter.get_finished_spans())


def test_a_plan_that_breaks_the_policy_stops_the_job() -> None:
    plan = json.dumps({"summary": "s", "files": ["a.py", "b.py", "c.py"], "steps": []})
    model = ScriptedChatModel(rules=[Rule(match="planner", reply=plan)])
    result = run_job(scripts.TASK, workflow=_spec(max_files=2), chat_model=model)
    assert result.status == "blocked"
    assert result.plan is not None and result.files == {}


def test_a_language_outside_the_policy_is_a_config_error() -> None:
    text = (workflow_path("quick") or "").read_text() + "guardrails:\n  languages: [javascript]\n"
    with pytest.raises(ConfigError, match=r"not in guardrails\.languages"):
        parse_workflow(text, "wf.yaml")
