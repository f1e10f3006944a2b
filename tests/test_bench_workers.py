"""The workers benchmark runs end to end (tiny sizes) and prints its numbers as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.worker_support import require_redis

BENCH = [sys.executable, "-m", "codeagent.evals.benchmarks.bench_workers"]


def test_without_a_database_it_says_what_to_set() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CODEAGENT_CHECKPOINT_URL"}
    proc = subprocess.run(
        [*BENCH, "--jobs", "1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert "needs PostgreSQL" in proc.stderr and "CODEAGENT_CHECKPOINT_URL" in proc.stderr


@pytest.mark.slow
def test_a_tiny_run_prints_rates_and_the_queue_overhead(pg_url: str) -> None:
    require_redis()
    url = pg_url
    args = ["--jobs", "2", "--workers", "1", "--model-delay", "0", "--repeats", "1", "--json"]
    proc = subprocess.run(
        [*BENCH, *args, "--checkpoint-url", url], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(r["engine"], r["parallel"]) for r in data["runs"]] == [
        ("local (threads)", 1),
        ("celery (processes)", 1),
    ]
    assert all(r["jobs_per_s"] > 0 and r["speedup"] == 1.0 for r in data["runs"])
    assert data["overhead"]["queued_ms"] > 0 and data["overhead"]["local_ms"] > 0
