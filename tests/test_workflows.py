"""Every shipped workflow, examples included, runs end to end (scripted model, local sandbox)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from codeagent.configs import shipped_workflows, workflow_path
from codeagent.graphs import run_job
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts
from tests.host_support import require_node

pytestmark = pytest.mark.usefixtures("bwrap")

EXAMPLES = Path(workflow_path("default") or "").parent / "examples"
JS_PLAN = json.dumps({"summary": "add", "files": ["solution.js"], "steps": ["add"]})
JS_GOOD = (
    "solution.js\n```javascript\nfunction add(a, b) {\n  return a + b;\n}\n"
    "module.exports = { add };\n```\n"
)
JS_TESTS = (
    "solution.test.js\n```javascript\nconst test = require('node:test');\n"
    "const assert = require('node:assert');\nconst { add } = require('./solution');\n\n"
    "test('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});\n"
    "test('zero', () => {\n  assert.strictEqual(add(0, 0), 0);\n});\n```\n"
)
PRINTS = "solution.py\n```python\ndef add(a, b):\n    print(a, b)\n    return a + b\n```\n"


def _rules(*, code: list[str] | None = None, house: str = scripts.APPROVE) -> list[Rule]:
    """Answers for every built-in prompt, the test writer's and the example reviewer's."""
    return [
        Rule(name="test_writer", match="You are the test writer", reply=scripts.TESTS),
        Rule(name="house", match="enforce the house style", reply=house),
        *scripts.rules(code=code),
    ]


def _js_rules() -> list[Rule]:
    return [
        Rule(name="plan", match="You are the planner", reply=JS_PLAN),
        Rule(name="test", match="You write JavaScript tests", reply=JS_TESTS),
        Rule(name="code", match="You are the coder", reply=JS_GOOD),
        Rule(name="review", match="You are the reviewer", reply=scripts.APPROVE),
    ]


def _rules_for(path: Path) -> list[Rule]:
    language = yaml.safe_load(path.read_text()).get("sandbox", {}).get("language", "python")
    if language != "javascript":
        return _rules()
    require_node()
    return _js_rules()


def _local(spec: WorkflowSpec) -> WorkflowSpec:
    return spec.model_copy(update={"sandbox": spec.sandbox.model_copy(update={"backend": "local"})})


def _scripted_copy(source: Path, directory: Path, rules: list[Rule]) -> Path:
    """A copy of ``source`` (and its prompt files) whose models are a scripted rules file."""
    data = yaml.safe_load(source.read_text())
    data["models"] = {"default": {"provider": "scripted", "script": "rules.yaml"}}
    data["sandbox"]["backend"] = "local"
    for prompt in {n["prompt"] for n in data["nodes"].values() if n.get("prompt")}:
        (directory / prompt).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source.parent / prompt, directory / prompt)
    dumped = [r.model_dump(exclude_defaults=True) for r in rules]
    (directory / "rules.yaml").write_text(yaml.safe_dump({"rules": dumped}))
    target = directory / source.name
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _all_workflows() -> list[Path]:
    """The workflows that take a task alone (repo workflows: tests/test_repo_jobs.py)."""
    shipped = [workflow_path(name) for name in shipped_workflows()]
    found = [p for p in shipped if p is not None and not p.stem.startswith("repo-")]
    return found + sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", _all_workflows(), ids=lambda p: p.stem)
def test_every_workflow_succeeds_end_to_end(path: Path, tmp_path: Path) -> None:
    workflow = _scripted_copy(path, tmp_path, _rules_for(path))
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success", result.error
    assert result.test_report is not None and result.test_report["ok"]
    assert result.files and all((tmp_path / "out" / f).is_file() for f in result.files)


def test_the_shipped_set_includes_tdd_and_an_example() -> None:
    assert {"default", "quick", "tdd", "javascript"} <= set(shipped_workflows())
    assert (EXAMPLES / "lint.yaml").is_file() and (EXAMPLES / "__init__.py").is_file()


def test_tdd_writes_tests_first_and_codes_against_them(tmp_path: Path) -> None:
    model = ScriptedChatModel(rules=_rules(code=[scripts.BAD]))
    spec = _local(load_workflow("tdd")[0])
    result = run_job(scripts.TASK, workflow=spec, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2  # BAD fails the tests written first, then the fix passes
    first, coder = model.prompts[0], model.prompts[1]
    assert "You are the test writer" in first and "def add" not in first  # no code yet
    assert "assert add(1, 2) == 3" in coder  # the coder sees the tests it must pass
    assert not any("You are the tester" in p for p in model.prompts)  # tests are never rewritten
    assert set(result.tests) == {"test_solution.py", "test_examples.py"}
    assert result.usage["calls"] == 4  # test writer, coder, coder (fix), reviewer


def test_tdd_drops_written_tests_that_do_not_import_the_plans_module(tmp_path: Path) -> None:
    # `plus` is not a function the task names: nothing to import it from
    elsewhere = "test_solution.py\n```python\ndef test_add():\n    assert plus(1, 2) == 3\n```\n"
    reask = "do not import the code under test"
    rules = _rules()
    rules[0] = Rule(name="test_writer", match="You are the test writer", reply=elsewhere)
    model = ScriptedChatModel(rules=[Rule(name="again", match=reask, reply=elsewhere), *rules])
    spec = _local(load_workflow("tdd")[0])
    result = run_job(scripts.TASK, workflow=spec, chat_model=model, out=tmp_path / "out")

    assert sum(reask in p for p in model.prompts) == 1  # asked once more, then dropped
    assert set(result.tests) == {"test_examples.py"}  # the task's examples import solution
    assert result.test_report is not None
    assert any("test_solution.py dropped" in n for n in result.test_report["notes"])


def test_tdd_tests_with_their_own_copy_of_a_named_function_import_the_plans_module(
    tmp_path: Path,
) -> None:
    own_add = (
        "test_solution.py\n```python\ndef add(a, b):\n    return a + b\n\n\n"
        "def test_add():\n    assert add(1, 2) == 3\n```\n"
    )
    rules = _rules(code=[scripts.BAD])
    rules[0] = Rule(name="test_writer", match="You are the test writer", reply=own_add)
    model = ScriptedChatModel(rules=rules)
    spec = _local(load_workflow("tdd")[0])
    result = run_job(scripts.TASK, workflow=spec, chat_model=model, out=tmp_path / "out")

    assert not any("do not import the code under test" in p for p in model.prompts)
    written = result.tests["test_solution.py"]
    assert written.startswith("from solution import add\n") and "return a + b" not in written
    assert result.status == "success"
    assert result.attempts == 2  # BAD fails, then the fix passes
    fix = next(p for p in model.prompts if "Your previous version" in p)
    assert "add(1, 2) should be 3, but it returned -1" in fix  # it ran the code, not a copy


def test_lint_example_sends_findings_back_to_the_coder(tmp_path: Path) -> None:
    model = ScriptedChatModel(rules=_rules(code=[PRINTS]))
    workflow = _scripted_copy(EXAMPLES / "lint.yaml", tmp_path, [])
    result = run_job(scripts.TASK, workflow=workflow, chat_model=model, out=tmp_path / "out")

    assert result.status == "success"
    assert "print" not in result.files["solution.py"]
    fix = next(p for p in model.prompts if "Your previous version" in p)
    assert "solution.py:2: call to print(); remove it" in fix


def test_per_node_model_and_prompt_overrides(tmp_path: Path) -> None:
    """The example's reviewer uses its own prompt file (next to the workflow) and model."""
    workflow = _scripted_copy(EXAMPLES / "lint.yaml", tmp_path, _rules())
    data = yaml.safe_load(workflow.read_text())
    data["models"]["strict"] = {"provider": "scripted", "script": "strict.yaml"}
    data["nodes"]["review"]["model"] = "strict"
    workflow.write_text(yaml.safe_dump(data, sort_keys=False))
    only_house = {
        "log": "strict.jsonl",
        "rules": [{"match": "house style", "reply": scripts.CHANGES}],
    }
    (tmp_path / "strict.yaml").write_text(yaml.safe_dump(only_house))

    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "failed"  # the strict reviewer never approves: bound reached
    assert result.review is not None and result.review["comments"] == ["add a docstring"]
    calls = (tmp_path / "strict.jsonl").read_text().splitlines()
    assert len(calls) == 2 * 3  # start + done for each of the 3 review rounds
