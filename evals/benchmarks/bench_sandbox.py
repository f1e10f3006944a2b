"""Benchmark: one one-test pytest run in a cold container, a warm pool and the local backend.

Usage::

    python -m codeagent.evals.benchmarks.bench_sandbox --runs 10 [--json]

Each sample is the whole job as the tester node sees it: get a sandbox, write two
files, run pytest, read nothing back, give the sandbox up. ``cold`` starts and
removes a container per sample; ``warm`` leases one from a pool warmed
beforehand (the reset on return is counted too); ``local`` is bubblewrap.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox, docker_client
from codeagent.tools.sandbox.image import default_image
from codeagent.tools.sandbox.pool import SandboxPool

__all__ = ["main", "summarize"]

FILES = {
    "solution.py": "def add(a, b):\n    return a + b\n",
    "test_solution.py": "from solution import add\n\n\ndef test_add():\n"
    "    assert add(1, 2) == 3\n",
}
CMD = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def summarize(samples: list[float]) -> dict[str, float]:
    """Median and 95th percentile (nearest rank) of ``samples``, in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def _job(open_sandbox: Callable[[], Any]) -> float:
    started = time.perf_counter()
    with open_sandbox() as sandbox:
        sandbox.write_files(FILES)
        result = sandbox.run(CMD, timeout_s=60)
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError(f"benchmark job failed: {result.stdout}{result.stderr}")
    return elapsed


def _measure(runs: int, image: str) -> dict[str, dict[str, float]]:
    limits = SandboxLimits()
    client = docker_client()
    results = {}
    results["cold"] = summarize(
        [_job(lambda: DockerSandbox(limits, image, client=client)) for _ in range(runs)]
    )
    with SandboxPool(limits, image, size=1, client=client) as pool:
        pool.warm()
        results["warm"] = summarize([_job(pool.sandbox) for _ in range(runs)])
    results["local"] = summarize([_job(lambda: LocalSandbox(limits)) for _ in range(runs)])
    return results


def main(
    runs: Annotated[int, typer.Option("--runs", min=1, help="Samples per backend.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    image: Annotated[str | None, typer.Option("--image", help="Sandbox image.")] = None,
) -> None:
    """Print median and p95 of a one-test pytest job per sandbox mode."""
    results = _measure(runs, image or default_image())
    if as_json:
        typer.echo(json.dumps({"runs": runs, "results": results}, indent=2))
        return
    typer.echo(f"one-test pytest job, {runs} runs each")
    for mode, stats in results.items():
        typer.echo(
            f"  {mode:<5}  median {stats['median_ms']:8.1f} ms   p95 {stats['p95_ms']:8.1f} ms"
        )


if __name__ == "__main__":
    typer.run(main)
