"""The command line, run as a user would: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import scripts

CLI = [sys.executable, "-m", "codeagent.graphs.cli"]


def codeagent(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env} if env else None,
    )


@pytest.mark.usefixtures("bwrap")
def test_run_writes_files_and_prints_json(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path)
    out = tmp_path / "out"
    proc = codeagent("run", scripts.TASK, "--workflow", str(workflow), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "success"
    assert result["test_report"]["passed"] == 4
    assert (out / "solution.py").read_text() == result["files"]["solution.py"]

    history = codeagent("history", result["thread_id"], "--json")
    assert history.returncode == 0, history.stderr
    nodes = [row["node"] for row in json.loads(history.stdout)]
    assert nodes[-4:] == ["plan", "code", "test", "review"]

    jobs = codeagent("jobs", "--json")
    assert [j["thread_id"] for j in json.loads(jobs.stdout)] == [result["thread_id"]]


@pytest.mark.usefixtures("bwrap")
def test_a_failed_job_exits_1_and_shows_progress(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path, base="quick", code=[scripts.BAD], fix=[scripts.BAD])
    proc = codeagent("run", scripts.TASK, "--workflow", str(workflow), "--out", str(tmp_path / "o"))
    assert proc.returncode == 1
    assert "failed" in proc.stderr
    assert "1/4 tests passed" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "no task given"),
        (["run", "x", "--workflow", "nope.yaml"], "not found"),
        (["run", "x"], "no model endpoint is configured and the local model"),
        (["resume", "no-such-job"], "no job 'no-such-job'"),
        (["history", "no-such-job"], "no job 'no-such-job'"),
        (["run", "--bogus"], "No such option"),
    ],
)
def test_usage_and_config_errors_exit_2_without_a_traceback(
    args: list[str], message: str, tmp_path: Path
) -> None:
    proc = codeagent(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_openai_model_without_endpoint_or_key_exits_2(tmp_path: Path) -> None:
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(
        "name: w\nmodels:\n  default: {provider: openai, model: gpt-4o-mini}\n"
        "nodes:\n  code: {kind: coder}\nedges:\n  - {from: code, to: END}\n"
    )
    proc = codeagent("run", "x", "-w", str(workflow))
    assert proc.returncode == 2
    assert "no model endpoint configured for model 'gpt-4o-mini'" in proc.stderr
    assert "OPENAI_API_KEY" in proc.stderr


def test_validate_reports_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "wf.yaml"
    bad.write_text("name: x\nnodes:\n  a: {kind: wizard}\nedges:\n  - {from: a, to: END}\n")
    proc = codeagent("validate", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3:" in proc.stderr and "unknown node kind 'wizard'" in proc.stderr
    ok = codeagent("validate", "default")
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_no_help_text_loses_words_to_rich_markup() -> None:
    """Typer renders help with rich markup, which swallows ``[words]`` (a ``[default: x]``
    written by hand disappeared from ``eval --help``); every command's and option's help
    must survive rendering word for word."""
    import typer.main
    from rich.markup import render

    from codeagent.graphs.cli.main import app

    def texts(command: Any, path: str) -> list[tuple[str, str]]:  # typer's own click types
        found = [(path, command.help or "")]
        found += [(f"{path} {p.name}", getattr(p, "help", None) or "") for p in command.params]
        for name, sub in getattr(command, "commands", {}).items():
            found += texts(sub, f"{path} {name}")
        return found

    found = texts(typer.main.get_command(app), "codeagent")
    assert len(found) > 50
    lost = [(where, text) for where, text in found if render(text).plain != text]
    assert lost == []
