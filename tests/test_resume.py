"""Resume after SIGKILL: a real CLI process is killed mid-job, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import scripts

CLI = [sys.executable, "-m", "codeagent.graphs.cli"]
pytestmark = [pytest.mark.usefixtures("bwrap"), pytest.mark.slow]


def _done_calls(log: Path) -> Counter[str]:
    lines = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    return Counter(x["rule"] for x in lines if x["event"] == "done")


def _wait_for(log: Path, rule: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and f'"start", "rule": "{rule}"' in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"the job never called the {rule!r} rule")


def test_resume_after_sigkill_finishes_with_the_same_result(tmp_path: Path) -> None:
    # Reference: the same job, uninterrupted.
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    wf = scripts.write_workflow(ref_dir, code=[scripts.BAD], fix=[scripts.GOOD], log=True)
    ref = subprocess.run(
        [*CLI, "run", scripts.TASK, "-w", str(wf), "-o", str(ref_dir / "out"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ref.returncode == 0, ref.stderr
    expected = json.loads(ref.stdout)
    expected_calls = _done_calls(ref_dir / "calls.jsonl")

    # The same job, killed with SIGKILL while the coder's model call is in flight.
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    wf = scripts.write_workflow(
        run_dir, code=[scripts.BAD], fix=[scripts.GOOD], delay_s=1.5, log=True
    )
    log = run_dir / "calls.jsonl"
    proc = subprocess.Popen(
        [
            *CLI,
            "run",
            scripts.TASK,
            "-w",
            str(wf),
            "-o",
            str(run_dir / "out"),
            "--thread-id",
            "killed-1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(log, "code")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _done_calls(log) == Counter({"plan": 1})  # the coder never finished

    resumed = subprocess.run(
        [*CLI, "resume", "killed-1", "--json"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)

    assert result["status"] == expected["status"] == "success"
    assert result["files"] == expected["files"]
    assert result["tests"] == expected["tests"]
    assert result["attempts"] == expected["attempts"] == 2
    assert (run_dir / "out" / "solution.py").read_text() == expected["files"]["solution.py"]
    # Finished nodes were not re-run: every rule answered exactly as often as uninterrupted.
    assert _done_calls(log) == expected_calls
    assert expected_calls == Counter({"plan": 1, "code": 1, "test": 1, "fix": 1, "review": 1})


def test_resuming_a_finished_job_changes_nothing(tmp_path: Path) -> None:
    wf = scripts.write_workflow(tmp_path, log=True)
    first = subprocess.run(
        [*CLI, "run", scripts.TASK, "-w", str(wf), "--thread-id", "done-1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    calls = _done_calls(tmp_path / "calls.jsonl")
    again = subprocess.run(
        [*CLI, "resume", "done-1", "--json"], capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["files"] == json.loads(first.stdout)["files"]
    assert _done_calls(tmp_path / "calls.jsonl") == calls
