"""``codeagent graph``, ``schema`` and ``batch``, run as a user would: a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeagent.graphs.workflow.schema import SCHEMA_FILE
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
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _tasks(path: Path, n: int) -> Path:
    rows = [{"id": f"t{i}", "task": f"{scripts.TASK}\n(variant {i})"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_graph_prints_mermaid_with_retry_bounds() -> None:
    proc = codeagent("graph", "default")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flowchart TD")
    assert 'n_test -->|"fail (max 3)"| n_code' in proc.stdout


def test_graph_dot_output() -> None:
    proc = codeagent("graph", "quick", "--dot")
    assert proc.returncode == 0 and proc.stdout.startswith('digraph "quick"')


def test_graph_of_a_bad_file_points_at_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "wf.yaml"
    bad.write_text("name: x\nnodes:\n  a: {kind: nope.mod:fn}\nedges:\n  - {from: a, to: END}\n")
    proc = codeagent("graph", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3:" in proc.stderr and "cannot import node kind" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_graph_png_without_a_renderer_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no mmdc, no dot
    proc = codeagent("graph", "default", "--png", str(tmp_path / "g.png"), env=env)
    assert proc.returncode == 2
    assert "no offline renderer" in proc.stderr and "hint:" in proc.stderr
    assert proc.stdout.startswith("flowchart TD")  # the Mermaid text is still printed
    assert "Traceback" not in proc.stderr


def test_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    proc = codeagent("schema")
    assert proc.returncode == 0 and proc.stdout == SCHEMA_FILE.read_text()
    assert codeagent("schema", "--check").returncode == 0
    written = codeagent("schema", "--out", str(tmp_path / "s.json"))
    assert written.returncode == 0 and (tmp_path / "s.json").read_text() == proc.stdout


@pytest.mark.usefixtures("bwrap")
def test_batch_runs_and_skips_finished_tasks(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path, base="quick")
    tasks = _tasks(tmp_path / "tasks.jsonl", 3)
    args = ["batch", str(tasks), "--workers", "2", "--workflow", str(workflow)]
    proc = codeagent(*args, "--out", str(tmp_path / "b"), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["id"], r["status"], r["skipped"]) for r in rows] == [
        ("t0", "success", False),
        ("t1", "success", False),
        ("t2", "success", False),
    ]
    assert (tmp_path / "b" / "t1" / "solution.py").is_file()

    again = codeagent(*args, "--out", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("(finished earlier)") == 3
    assert "3 tasks: 3 success" in again.stderr


@pytest.mark.usefixtures("bwrap")
def test_batch_resumes_after_a_kill(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path, base="quick", delay_s=0.4)
    tasks = _tasks(tmp_path / "tasks.jsonl", 3)
    results = tmp_path / "b" / "results.jsonl"
    args = ["batch", str(tasks), "--workflow", str(workflow), "--out", str(tmp_path / "b")]
    first = subprocess.Popen(
        [*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not (results.is_file() and results.read_text().count("\n") >= 1):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = [json.loads(x)["id"] for x in results.read_text().splitlines()]
    assert 1 <= len(done_before) < 3

    second = codeagent(*args)
    assert second.returncode == 0, second.stderr
    ids = [json.loads(x)["id"] for x in results.read_text().splitlines()]
    assert sorted(ids) == ["t0", "t1", "t2"]  # each task finished exactly once
    assert second.stderr.count("(finished earlier)") == len(done_before)


def test_batch_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "tasks.jsonl"
    bad.write_text('{"id": "a", "task": "x"}\n{"task": \n')
    proc = codeagent("batch", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:2:" in proc.stderr and "invalid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = codeagent("batch", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "cannot read the tasks file" in missing.stderr


@pytest.mark.usefixtures("bwrap")
def test_batch_exits_1_when_a_task_fails(tmp_path: Path) -> None:
    workflow = scripts.write_workflow(tmp_path, base="quick", code=[scripts.BAD], fix=[scripts.BAD])
    tasks = _tasks(tmp_path / "tasks.jsonl", 1)
    proc = codeagent("batch", str(tasks), "--workflow", str(workflow), "--out", str(tmp_path / "b"))
    assert proc.returncode == 1
    assert "failed" in proc.stderr and "1/4 tests" in proc.stderr
