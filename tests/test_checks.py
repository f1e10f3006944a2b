"""Workflow warnings for ``codeagent validate``: returned as data, pointing at the line."""

from __future__ import annotations

from pathlib import Path

from codeagent.graphs.workflow.checks import check_workflow, workflow_warnings
from codeagent.graphs.workflow.loader import parse_workflow

BASE = """\
name: mine
models:
  default: {provider: openai, model: gpt-4o-mini}
nodes:
  code: {kind: coder}
  test: {kind: tester}
edges:
  - {from: code, to: test}
  - from: test
    route: tests
    branches: {pass: END, fail: {to: code, max: 2}}
"""


def _warnings(text: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    spec = parse_workflow(text, "wf.yaml")
    return [str(w) for w in workflow_warnings(spec, text, "wf.yaml", tmp_path, env or {})]


def test_a_missing_api_key_is_a_warning_at_the_model(tmp_path: Path) -> None:
    (found,) = _warnings(BASE, tmp_path)
    assert found.startswith("wf.yaml:3:12: models.default: environment variable OPENAI_API_KEY")
    assert "hint: export OPENAI_API_KEY=..." in found


def test_no_warning_when_the_key_or_an_endpoint_is_set(tmp_path: Path) -> None:
    assert _warnings(BASE, tmp_path, {"OPENAI_API_KEY": "x"}) == []
    assert _warnings(BASE, tmp_path, {"OPENAI_BASE_URL": "http://localhost:8000/v1"}) == []
    local = BASE.replace("model: gpt-4o-mini", "base_url: http://localhost:11434/v1")
    assert _warnings(local, tmp_path) == []


def test_an_unused_model(tmp_path: Path) -> None:
    text = BASE.replace("nodes:", "  spare: {provider: openai}\nnodes:")
    found = _warnings(text, tmp_path, {"OPENAI_API_KEY": "x"})
    assert found == [
        "wf.yaml:4:10: models.spare: model 'spare' is not used by any node\n  hint: remove it"
    ]


def test_missing_script_and_prompt_files(tmp_path: Path) -> None:
    text = BASE.replace(
        "{provider: openai, model: gpt-4o-mini}", "{provider: scripted, script: rules.yaml}"
    ).replace("{kind: coder}", "{kind: coder, prompt: my_coder.md}")
    found = _warnings(text, tmp_path)
    assert any("models.default.script: script file 'rules.yaml' not found" in w for w in found)
    prompt = next(w for w in found if "nodes.code.prompt" in w)
    assert prompt.startswith("wf.yaml:5:") and "cannot read prompt template" in prompt


def test_a_prompt_file_without_sections(tmp_path: Path) -> None:
    (tmp_path / "my_coder.md").write_text("just text\n")
    text = BASE.replace("{kind: coder}", "{kind: coder, prompt: my_coder.md}")
    (found,) = _warnings(text, tmp_path, {"OPENAI_API_KEY": "x"})
    assert "needs a <<system>> and/or <<user>> section" in found


def test_check_workflow_on_a_shipped_file() -> None:
    check = check_workflow("default", env={"OPENAI_API_KEY": "x"})
    assert check.spec.name == "default" and check.path.name == "default.yaml"
    assert check.warnings == []
    assert len(check_workflow("default", env={}).warnings) == 1
