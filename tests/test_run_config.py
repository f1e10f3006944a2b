"""The run configuration: flags and environment read once at the edge, then passed down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeagent.graphs import job_history, run_job
from codeagent.graphs.cli import main
from codeagent.graphs.jobs.config import RunConfig, run_config
from codeagent.tools.testing import FakeSandbox
from tests import scripts


def test_the_environment_fills_in_what_is_not_given(tmp_path: Path) -> None:
    env = {"CODEAGENT_HOME": str(tmp_path / "h"), "CODEAGENT_CHECKPOINT_URL": "postgresql://db/x"}

    assert RunConfig.from_env(env=env) == RunConfig(tmp_path / "h", "postgresql://db/x")
    assert RunConfig.from_env(tmp_path / "mine", env=env).home == tmp_path / "mine"
    assert RunConfig.from_env(env={}) == RunConfig(Path(".codeagent").resolve())


def test_home_overrides_a_given_config_and_the_url_stays_out_of_the_repr(tmp_path: Path) -> None:
    config = RunConfig(tmp_path / "a", checkpoint_url="postgresql://me:hunter2@db/x")

    assert run_config(config, tmp_path / "b") == RunConfig(tmp_path / "b", config.checkpoint_url)
    assert run_config(config) is config
    assert "hunter2" not in repr(config)


def test_a_given_config_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEAGENT_CHECKPOINT_URL", "mysql://not-read-below-the-edge")
    config = RunConfig(tmp_path / "state")

    result = run_job(
        scripts.TASK, chat_model=scripts.model(), sandbox_factory=FakeSandbox, config=config
    )

    assert result.status == "success", result.error
    assert (tmp_path / "state" / "runs" / result.thread_id / "job.json").is_file()
    assert (tmp_path / "state" / "checkpoints.sqlite").is_file()
    assert [row.node for row in job_history(result.thread_id, config=config)][-1] == "review"


def test_the_cli_passes_checkpoint_url_down_without_setting_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "state"
    result = run_job(
        scripts.TASK, chat_model=scripts.model(), sandbox_factory=FakeSandbox, home=home
    )

    with pytest.raises(SystemExit) as exited:
        main(["--checkpoint-url", "mysql://x", "history", result.thread_id, "--home", str(home)])

    assert exited.value.code == 2
    assert "unsupported checkpoint URL 'mysql://x'" in capsys.readouterr().err
    assert "CODEAGENT_CHECKPOINT_URL" not in os.environ
