"""The orchestration benchmark measures what it says: jobs of 4 and 40 real transitions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.evals.benchmarks.bench_orchestration import LONG, SHORT, codeagent_job_s
from codeagent.graphs.jobs.store import FileStore


@pytest.mark.parametrize("transitions", [SHORT, LONG])
def test_a_canned_job_takes_the_transitions_it_is_timed_for(
    tmp_path: Path, transitions: int
) -> None:
    home = tmp_path / "home"
    times = codeagent_job_s(home, 1, transitions)
    assert len(times) == 1
    store = FileStore(home)
    (record,) = store.list_records()
    audit = store.read_audit(record.thread_id)
    assert sum(1 for line in audit if line["event"] == "transition") == transitions
    assert record.status == "success"


def test_the_benchmark_prints_both_sides_and_their_ratio() -> None:
    args = ["--jobs", "3", "--workers", "1", "--problems", "2", "--model-delay", "0", "--json"]
    cmd = [sys.executable, "-m", "codeagent.evals.benchmarks.bench_orchestration", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    data = json.loads(done.stdout)
    costs = data["transition"]
    sides = (
        "codeagent",
        "bare_langgraph",
        "bare_langgraph_agent_state",
        "bare_langgraph_bookkeeping",
    )
    for side in sides:
        assert costs[side][f"job_ms_{LONG}"] > costs[side][f"job_ms_{SHORT}"] > 0
    ours, bare = costs["codeagent"], costs["bare_langgraph"]
    assert costs["marginal_ratio"] == round(ours["marginal_ms"] / bare["marginal_ms"], 2)
    cpu = round(ours["marginal_cpu_ms"] / bare["marginal_cpu_ms"], 2)
    assert costs["marginal_cpu_ratio"] == cpu
    book = costs["bare_langgraph_bookkeeping"]["marginal_cpu_ms"] / bare["marginal_cpu_ms"]
    assert costs["bookkeeping_cpu_ratio"] == round(book, 2)
    assert data["default_job_ms"] > 0 and data["throughput"]["runs"][0]["workers"] == 1
