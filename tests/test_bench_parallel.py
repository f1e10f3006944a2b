"""The parallel-decoding benchmark runs the real embedded model with 1 and 2 slots."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.host_support import require_model

MODEL = "qwen2.5-coder-0.5b"
pytestmark = [pytest.mark.llm, pytest.mark.slow]


def test_answers_decoded_side_by_side_are_counted_and_compared_to_one_at_a_time() -> None:
    require_model(MODEL)
    cmd = [sys.executable, "-m", "codeagent.evals.benchmarks.bench_parallel"]
    args = ["--model", MODEL, "--slots", "2", "--max-tokens", "16", "--threads", "2", "--json"]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300, check=True)
    rows = json.loads(done.stdout)["rows"]
    assert [r["slots"] for r in rows] == [1, 2]  # the one-at-a-time reference is always run
    for row in rows:
        assert 0 < row["output_tokens"] <= 16 * row["slots"]
        assert row["tokens_per_s"] == pytest.approx(row["output_tokens"] / row["seconds"], rel=0.02)
    assert rows[1]["speedup"] == round(rows[1]["tokens_per_s"] / rows[0]["tokens_per_s"], 2)
