"""The workflow a job runs when the caller names none: measured best for its model."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from codeagent.graphs import run_job
from codeagent.graphs.cli.render import print_result
from codeagent.graphs.jobs.config import run_config
from codeagent.graphs.jobs.results import RunResult
from codeagent.graphs.jobs.runner import prepare_job
from codeagent.graphs.workflow.choice import EMBEDDED, choose_workflow
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.tools.models.llm import resolve_provider
from tests import scripts


def test_with_no_endpoint_the_embedded_models_best_workflow_is_chosen_and_says_why() -> None:
    # conftest removes OPENAI_* from the environment: provider auto -> the embedded model
    choice = choose_workflow(None)
    assert choice.workflow == EMBEDDED == "small-model"
    assert choice.reason is not None and "embedded model" in choice.reason
    assert "--workflow default" in choice.reason
    # and that workflow runs the same embedded model the default would have resolved to
    small = load_workflow(EMBEDDED)[0].models["default"]
    default = resolve_provider(load_workflow("default")[0].models["default"])
    assert (small.provider, small.model) == (default.provider, default.model)


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "OPENAI_BASE_URL"])
def test_a_configured_endpoint_keeps_the_full_default(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:9/v1" if "URL" in variable else "sk-test")
    assert choose_workflow(None) == choose_workflow("default")
    assert choose_workflow(None).workflow == "default"
    assert choose_workflow(None).reason is None


def test_a_named_workflow_a_repo_job_and_a_callers_own_model_are_not_switched() -> None:
    assert choose_workflow("default").workflow == "default"
    assert choose_workflow("default").reason is None
    assert choose_workflow(Path("my.yaml")).workflow == Path("my.yaml")
    assert choose_workflow(None, own_model=True).workflow == "default"
    assert choose_workflow(None, repo=True, own_model=True).workflow == "repo-fix"
    assert choose_workflow(None, repo=True, own_model=True).reason is None


def test_a_repo_job_on_the_embedded_model_says_what_was_measured_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = choose_workflow(None, repo=True)
    assert chosen.workflow == "repo-fix-small"
    reason = chosen.reason or ""
    assert "of the 18 pilot tasks" in reason and "'repo-fix': 0 of 18" in reason
    assert "OPENAI_BASE_URL" in reason
    # the workflow it names is shipped, and on the embedded model
    spec, _ = load_workflow("repo-fix-small")
    assert resolve_provider(spec.models["default"]).provider == "local"
    assert spec.nodes["code"].options["edit_format"] == "focus"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert choose_workflow(None, repo=True) == choose_workflow("repo-fix")


def test_a_job_records_the_chosen_workflow_and_why(tmp_path: Path) -> None:
    config = run_config(None, tmp_path / "home")
    job = prepare_job(
        "Write add(a, b).", workflow=None, out=None, thread_id=None, config=config,
        repo=None, test_cmd=None,
    )  # fmt: skip
    assert job.spec.name == "small-model"
    assert job.record.workflow_name == "small-model"
    assert job.record.workflow_reason == choose_workflow(None).reason
    named = prepare_job(
        "Write add(a, b).", workflow="default", out=None, thread_id=None, config=config,
        repo=None, test_cmd=None,
    )  # fmt: skip
    assert (named.record.workflow_name, named.record.workflow_reason) == ("default", None)


def test_the_result_and_the_summary_name_the_workflow(tmp_path: Path) -> None:
    # a caller's own model: the default workflow, which the result names without a reason
    result = run_job(scripts.TASK, chat_model=scripts.model(), out=tmp_path / "out")
    assert result.status == "success"
    assert (result.workflow, result.workflow_reason) == ("default", None)
    assert result.to_json()["workflow"] == "default"

    console = Console(record=True, width=200)
    reason = choose_workflow(None).reason
    print_result(
        console,
        RunResult(thread_id="t", status="success", workflow=EMBEDDED, workflow_reason=reason),
    )
    text = console.export_text()
    line = next(row for row in text.splitlines() if row.lstrip().startswith("workflow"))
    assert f"{EMBEDDED} (no model endpoint is configured" in line
