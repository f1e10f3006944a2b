"""Crash safety: SIGKILL the CLI at random points over many runs, resume each, compare."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeagent.graphs import job_history
from tests import scripts

CLI = [sys.executable, "-m", "codeagent.graphs.cli"]
KILLS = 8
pytestmark = [pytest.mark.usefixtures("bwrap"), pytest.mark.slow]


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CODEAGENT_HOME": str(home)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def test_random_sigkills_never_lose_or_redo_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = scripts.write_workflow(tmp_path, code=[scripts.BAD], fix=[scripts.GOOD], delay_s=0.2)
    home = tmp_path / "home"
    started = time.monotonic()
    ref = _run("run", scripts.TASK, "-w", str(wf), "--thread-id", "ref", "--json", home=home)
    duration = time.monotonic() - started
    assert ref.returncode == 0, ref.stderr
    expected = json.loads(ref.stdout)
    monkeypatch.setenv("CODEAGENT_HOME", str(home))  # job_history reads the same state dir
    expected_nodes = [row.node for row in job_history("ref")]

    rng = random.Random(20261124)
    killed = 0
    for i in range(KILLS):
        thread = f"crash-{i}"
        env = {**os.environ, "CODEAGENT_HOME": str(home)}
        proc = subprocess.Popen(
            [*CLI, "run", scripts.TASK, "-w", str(wf), "--thread-id", thread],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(rng.uniform(0.3, duration * 0.9))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        # the job record exists before the first node runs; a kill before that leaves none
        if not (home / "runs" / thread / "job.json").exists():
            continue
        resumed = _run("resume", thread, "--json", home=home)
        assert resumed.returncode == 0, resumed.stderr
        result = json.loads(resumed.stdout)
        assert result["status"] == expected["status"] == "success"
        assert result["files"] == expected["files"]
        assert result["tests"] == expected["tests"]
        assert result["attempts"] == expected["attempts"]
        assert [row.node for row in job_history(thread)] == expected_nodes  # nothing redone
    assert killed >= KILLS // 2, f"only {killed} runs were killed mid-job"
    with sqlite3.connect(home / "checkpoints.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
