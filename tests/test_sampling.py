"""The sampling coder: candidates chosen by the task's own examples (scripted model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graphs import run_job
from nodes.sampling import candidate_key
from tests import scripts

pytestmark = pytest.mark.usefixtures("bwrap")


def _workflow(
    directory: Path,
    *,
    code: list[str],
    fix: list[str] | None = None,
    tester: str = "tester",
    options: dict[str, object] | None = None,
) -> Path:
    rules = [r.model_dump(exclude_defaults=True) for r in scripts.rules(code=code, fix=fix)]
    (directory / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}))
    workflow = {
        "name": "sampling",
        "models": {"default": {"provider": "scripted", "script": "rules.yaml"}},
        "nodes": {
            "code": {"kind": "nodes.sampling:sampling_coder", "options": options or {}},
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


def test_the_first_candidate_passing_the_examples_wins(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.BAD, scripts.GOOD, scripts.BAD])
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert "a + b" in result.files["solution.py"]
    assert result.attempts == 1
    assert result.usage["calls"] == 3  # two coder candidates + the tester


def test_with_no_candidate_passing_the_best_is_kept_and_repaired(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.BAD], fix=[scripts.GOOD])
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.attempts == 2
    assert result.usage["calls"] == 3 + 1 + 1  # 3 bad candidates, the tester, one good fix


def test_the_candidates_option_bounds_the_draws(tmp_path: Path) -> None:
    options = {"candidates": 1}
    workflow = _workflow(tmp_path, code=[scripts.BAD], fix=[scripts.GOOD], options=options)
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1 + 1 + 1  # one bad candidate, the tester, one good fix


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"candidates": 0}, "option candidates: Input should be greater than or equal to 1"),
        ({"candidates": "many"}, "option candidates: Input should be a valid integer"),
        ({"samples": 3}, "option samples: unknown option"),
    ],
)
def test_bad_options_are_config_errors_at_load(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    from graphs.loader import load_workflow
    from tools.errors import ConfigError

    workflow = _workflow(tmp_path, code=[scripts.GOOD], options=options)
    with pytest.raises(ConfigError) as info:
        load_workflow(str(workflow))

    assert message in info.value.message
    assert info.value.location == f"nodes.code.options.{next(iter(options))}"
    assert "takes: candidates, retry_temperature" in (info.value.hint or "")


def test_a_kind_without_options_rejects_them(tmp_path: Path) -> None:
    from graphs.loader import load_workflow
    from tools.errors import ConfigError

    workflow = _workflow(tmp_path, code=[scripts.GOOD])
    data = yaml.safe_load(workflow.read_text())
    data["nodes"]["test"]["options"] = {"strict": True}
    workflow.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="node kind 'tester' takes no options, got: strict"):
        load_workflow(str(workflow))


def test_a_task_without_examples_takes_one_call(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.GOOD])
    task = "Write add(a, b) that returns the sum of two integers."
    result = run_job(task, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 2


def test_candidate_key_orders_green_then_passed_then_errors() -> None:
    green = {"ok": True, "passed": 1}
    half = {"ok": False, "passed": 2, "errors": 0}
    broken = {"ok": False, "passed": 2, "errors": 1}

    assert candidate_key(green) > candidate_key(half) > candidate_key(broken)


def test_the_example_tester_uses_the_tasks_examples_without_a_model_call(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.GOOD], tester="nodes.tester:example_tester")
    result = run_job(scripts.TASK, workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 1
    assert list(result.tests) == ["test_examples.py"]


def test_the_example_tester_asks_the_model_when_the_task_has_no_examples(tmp_path: Path) -> None:
    workflow = _workflow(tmp_path, code=[scripts.GOOD], tester="nodes.tester:example_tester")
    result = run_job("Write add(a, b) returning a + b.", workflow=workflow, out=tmp_path / "out")

    assert result.status == "success"
    assert result.usage["calls"] == 2
    assert "test_solution.py" in result.tests
