"""The sandbox benchmark runs every mode for real and prints ratios of what it measured."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.docker_support import require_docker

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("bwrap")]


def test_the_sandbox_benchmark_measures_every_mode_side_by_side() -> None:
    _, image = require_docker()
    cmd = [sys.executable, "-m", "codeagent.evals.benchmarks.bench_sandbox"]
    done = subprocess.run(
        [*cmd, "--runs", "2", "--image", image, "--model-s", "0.5", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    data = json.loads(done.stdout)
    results = data["results"]
    assert set(results) == {
        "cold",
        "cold_remove",
        "pool",
        "first",
        "lease",
        "exec",
        "autogen",
        "local",
        "host",
    }
    assert all(r["median_ms"] > 0 for r in results.values())
    ratio = results["pool"]["median_ms"] / results["autogen"]["median_ms"]
    assert data["ratios"]["pool/autogen"] == round(ratio, 2)
    ratio = results["first"]["median_ms"] / results["autogen"]["median_ms"]
    assert data["ratios"]["first/autogen"] == round(ratio, 2)
    ratio = results["lease"]["median_ms"] / results["autogen"]["median_ms"]
    assert data["ratios"]["lease/autogen"] == round(ratio, 2)
    ratio = results["exec"]["median_ms"] / results["autogen"]["median_ms"]
    assert data["ratios"]["exec/autogen"] == round(ratio, 2)
    assert data["ratios"]["local/host"] == round(
        results["local"]["median_ms"] / results["host"]["median_ms"], 2
    )
