"""The pilot set of repository tasks on the real embedded model (0.5B, for speed).

Marked ``llm``: run alone with ``pytest -m llm``. They skip without the model on a
developer's machine and fail under ``CI=true`` (CI installs it first). The 0.5B model
rarely resolves a task; what is checked is that the whole eval runs on a real model
(repo job, read step, edits, the repository's tests, scoring on hidden tests) and that
every number it reports agrees with what happened. The workflow is ``repo-fix-small``,
the one a repo job runs on the embedded model when no endpoint is configured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from codeagent.configs import workflow_path
from codeagent.evals.repo.harness import RepoEvalOptions, run_repo_eval
from codeagent.evals.repo.report import write_repo_report
from codeagent.tools.models.local import stop_all
from codeagent.tools.repo.patch import patch_stats
from tests.host_support import require_model

MODEL = os.environ.get("CODEAGENT_TEST_MODEL", "qwen2.5-coder-0.5b")
PILOT = Path(__file__).resolve().parents[1] / "evals" / "pilot" / "tasks.jsonl"
TASKS = ["billing-parse-negative", "textkit-csv-doubled-quotes"]  # Python and JavaScript
CALLS = 3  # the job's model-call budget
ENDINGS = {
    "agent": {"success", "failed", "budget_exceeded", "error"},
    "single-shot": {"answered"},
}
# at most about 10 minutes on 2 cores: two agent jobs of up to 3 calls, two single calls
# (768 tokens)
# method="thread": past the limit the run stops loudly instead of leaving the eval's
# worker thread holding the model while the suite goes on
pytestmark = [pytest.mark.llm, pytest.mark.slow, pytest.mark.timeout(1500, method="thread")]


@pytest.fixture(scope="module", autouse=True)
def _model() -> Iterator[None]:
    require_model(MODEL)
    yield
    stop_all()


@pytest.mark.usefixtures("bwrap", "node")
def test_the_pilot_eval_runs_on_the_real_model_and_its_numbers_add_up(tmp_path: Path) -> None:
    path = workflow_path("repo-fix-small")
    assert path is not None
    data = yaml.safe_load(path.read_text())
    data["models"] = {  # answers cut at 768 tokens and few calls: minutes, not an hour
        "default": {
            "provider": "local",
            "model": MODEL,
            "temperature": 0.2,
            "seed": 7,
            "max_tokens": 768,
        }
    }
    data["nodes"]["code"]["options"]["reasks"] = 1
    data["sandbox"]["backend"] = "local"
    data["budgets"] = {"max_model_calls": CALLS, "max_wall_s": 600}
    workflow = tmp_path / "repo-fix-small-0.5b.yaml"
    workflow.write_text(yaml.safe_dump(data, sort_keys=False))
    subset = tmp_path / "subset.txt"
    subset.write_text("\n".join(TASKS) + "\n")
    out = tmp_path / "eval"

    runs = {
        mode: run_repo_eval(
            RepoEvalOptions(
                dataset=PILOT, mode=mode, subset=subset, workflow=str(workflow), out=out
            )
        )
        for mode in ("agent", "single-shot")
    }

    for mode, run in runs.items():
        assert [r.instance_id for r in run.results] == TASKS, mode
        for result in run.results:
            # a 0.5B model may never write an edit that applies: the job then ends
            # "error" with the reason, and its calls still count
            assert result.status in ENDINGS[mode], (mode, result.instance_id, result.detail)
            assert result.calls >= 1 and result.output_tokens > 0, (mode, result)
            patch = (out / "work" / mode / result.instance_id / "patch.diff").read_text()
            stats = patch_stats(patch)
            assert (result.patch_files, result.patch_added, result.patch_removed) == (
                len(stats.files),
                stats.added,
                stats.removed,
            ), (mode, result.instance_id)
            if result.resolved:  # scored on the hidden tests: a patch did it
                assert patch.strip() and result.applied and not result.failed
            else:
                assert result.detail, (mode, result.instance_id)
        resolved = sum(r.resolved for r in run.results)
        assert run.summary["resolved"] == resolved
        assert run.summary["resolved_pct"] == pytest.approx(100.0 * resolved / len(TASKS), abs=0.1)
    agent = runs["agent"].results
    assert all(r.calls >= 1 for r in agent)  # the coder called the model
    # the budget is checked before each node: the coder may finish its re-ask past it
    assert all(r.calls <= CALLS + 1 for r in agent)
    assert all("could not be applied" in r.detail for r in agent if r.status == "error")
    report = json.loads(write_repo_report(out)["json"].read_text())
    assert set(report["summary"]) == {"agent", "single-shot"}
    for mode, run in runs.items():
        assert report["summary"][mode]["resolved"] == run.summary["resolved"]
