"""Benchmark: a one-test pytest run, per sandbox mode, side by side with its references.

Usage::

    python -m codeagent.evals.benchmarks.bench_sandbox --runs 10 [--json]

Each sample is the whole job as the tester node sees it: get a sandbox, write two
files, run pytest, read nothing back, give the sandbox up. The modes:

- ``cold``: a cold start: a container created and started, its runner ready, the files
  written and the test run, until the result is in hand (what a process's first run
  costs, and what every run cost before jobs leased from a pool); ``cold_remove``: the
  removal of that container afterwards (a pool's sandboxes are removed when it closes,
  off the job's path; before pools, after every run);
- ``pool``: leases from the process's shared pool (``open_docker_or_auto``) back to
  back: lease, files, run, give back, and at once the next lease, which waits for the
  reset of the sandbox given back just before when no other is idle (the worst case);
  files, the run and its output go through the container's resident runner;
- ``first``: a run of a job as jobs do it: the job asks the pool to warm a sandbox as
  it starts (``prewarm``), its model answers (``--model-s`` seconds, not timed, in
  which the sandbox given back before is reset), then a node leases one, writes, runs
  and gives it back (timed). Every test, example and candidate check of a job leases
  this way, each after a model answer, so each finds a reset, warm sandbox;
- ``lease``: a further run in a sandbox already leased, with no lease and no reset
  (AutoGen's pattern): what the runs after the first within one lease cost (a tester's
  stub check and probe run in the sandbox its tests ran in);
- ``exec``: the same pool with the runner off: ``put_archive`` and a ``docker exec``
  (what jobs did before the runner);
- ``autogen``: AutoGen's ``DockerCommandLineCodeExecutor`` exec path, reproduced (the
  package is not installed here): one long-running container with a bind-mounted host
  directory, files written on the host, ``container.exec_run(["timeout", ...])``;
  no reset and no isolation between runs;
- ``local``: the bubblewrap backend; ``host``: pytest on the host, no sandbox.

All run the same ``python3 -c`` program: plugin autoloading off (the sandbox image has
none; on the host, this interpreter's plugins would dominate), then
``pytest.main(["-q", "-p", "no:cacheprovider"])``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.sandbox.docker import DockerSandbox, docker_client
from codeagent.tools.sandbox.factory import open_docker_or_auto, prewarm_docker
from codeagent.tools.sandbox.image import default_image
from codeagent.tools.sandbox.pool import POOL_SIZE, SandboxPool, close_shared_pools

__all__ = ["main", "summarize"]

FILES = {
    "solution.py": "def add(a, b):\n    return a + b\n",
    "test_solution.py": "from solution import add\n\n\ndef test_add():\n"
    "    assert add(1, 2) == 3\n",
}
PROGRAM = (
    "import os, sys\n"
    "os.environ['PYTEST_DISABLE_PLUGIN_AUTOLOAD'] = '1'\n"
    "import pytest\n"
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider']))\n"
)
CMD = ["python3", "-c", PROGRAM]


def summarize(samples: list[float]) -> dict[str, float]:
    """Median and 95th percentile (nearest rank) of ``samples``, in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def _write_and_run(sandbox: Any) -> None:
    sandbox.write_files(FILES)
    result = sandbox.run(CMD, timeout_s=60)
    if not result.ok:
        raise RuntimeError(f"benchmark job failed: {result.stdout}{result.stderr}")


def _job(open_sandbox: Callable[[], Any]) -> float:
    started = time.perf_counter()
    with open_sandbox() as sandbox:
        _write_and_run(sandbox)
    return time.perf_counter() - started


def _cold_job(limits: SandboxLimits, image: str, client: Any) -> tuple[float, float]:
    """A cold start until the result is in hand, and the container's removal after it."""
    started = time.perf_counter()
    sandbox = DockerSandbox(limits, image, client=client)
    try:
        sandbox.start()
        _write_and_run(sandbox)
        ready = time.perf_counter()
    finally:
        removing = time.perf_counter()
        sandbox.close()
    return ready - started, time.perf_counter() - removing


def _first_run_of_a_job(limits: SandboxLimits, image: str, model_s: float) -> float:
    """A job's first run: the pool warmed as the job starts, the model's time (not
    timed), then lease, files, run and give back (timed)."""
    prewarm_docker(limits, image)  # as a job does when it starts
    time.sleep(model_s)
    return _job(lambda: open_docker_or_auto("docker", limits, image))


def _runs_in(sandbox: Any) -> float:
    """One more run in a sandbox a job already holds: write the files, run the tests."""
    started = time.perf_counter()
    _write_and_run(sandbox)
    return time.perf_counter() - started


@contextmanager
def _autogen_container(client: Any, image: str) -> Iterator[tuple[Any, Path]]:
    """AutoGen's set-up: a container kept running, the work dir bind-mounted from the host."""
    work = Path(tempfile.mkdtemp(prefix="bench-autogen-"))
    work.chmod(0o777)
    container = client.containers.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        auto_remove=False,
        volumes={str(work): {"bind": "/workspace", "mode": "rw"}},
        working_dir="/workspace",
        entrypoint=[],
        network_mode="none",
    )
    try:
        yield container, work
    finally:
        container.remove(force=True)
        shutil.rmtree(work, ignore_errors=True)


def _autogen_job(container: Any, work: Path) -> float:
    """One sample the way AutoGen's executor runs a code block: write it on the host, exec."""
    started = time.perf_counter()
    for name, text in FILES.items():
        (work / name).write_text(text)
    exit_code, output = container.exec_run(
        ["timeout", "60", *CMD], workdir="/workspace", environment={}
    )
    elapsed = time.perf_counter() - started
    if exit_code != 0:
        raise RuntimeError(f"benchmark job failed: {output!r}")
    return elapsed


def _host_job() -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in FILES.items():
            Path(tmp, name).write_text(text)
        done = subprocess.run([sys.executable, *CMD[1:]], cwd=tmp, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"benchmark job failed: {done.stdout!r}")
    return elapsed


def _measure(
    runs: int, image: str, docker: bool, model_s: float = 1.0
) -> dict[str, dict[str, float]]:
    limits = SandboxLimits()
    results: dict[str, dict[str, float]] = {}
    if docker:
        client = docker_client()
        _cold_job(limits, image, client)  # the image's first start (page cache)
        cold = [_cold_job(limits, image, client) for _ in range(runs)]
        results["cold"] = summarize([ready for ready, _ in cold])
        results["cold_remove"] = summarize([removal for _, removal in cold])
        _job(lambda: open_docker_or_auto("docker", limits, image))  # the pool's first start
        results["pool"] = summarize(
            [_job(lambda: open_docker_or_auto("docker", limits, image)) for _ in range(runs)]
        )
        results["first"] = summarize(
            [_first_run_of_a_job(limits, image, model_s) for _ in range(runs)]
        )
        with open_docker_or_auto("docker", limits, image) as leased:
            _runs_in(leased)
            results["lease"] = summarize([_runs_in(leased) for _ in range(runs)])
        close_shared_pools()
        with SandboxPool(limits, image, size=POOL_SIZE, client=client, resident=False) as pool:
            _job(pool.sandbox)
            results["exec"] = summarize([_job(pool.sandbox) for _ in range(runs)])
        with _autogen_container(client, image) as (container, work):
            _autogen_job(container, work)
            results["autogen"] = summarize([_autogen_job(container, work) for _ in range(runs)])
    results["local"] = summarize([_job(lambda: LocalSandbox(limits)) for _ in range(runs)])
    results["host"] = summarize([_host_job() for _ in range(runs)])
    return results


def _ratios(results: dict[str, dict[str, float]]) -> dict[str, float]:
    def ratio(a: str, b: str) -> float | None:
        if a in results and b in results:
            return round(results[a]["median_ms"] / results[b]["median_ms"], 2)
        return None

    pairs = {
        "pool/autogen": ratio("pool", "autogen"),
        "first/autogen": ratio("first", "autogen"),
        "lease/autogen": ratio("lease", "autogen"),
        "exec/autogen": ratio("exec", "autogen"),
        "cold/autogen": ratio("cold", "autogen"),
        "local/host": ratio("local", "host"),
    }
    return {k: v for k, v in pairs.items() if v is not None}


def main(
    runs: Annotated[int, typer.Option("--runs", min=1, help="Samples per mode.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    image: Annotated[str | None, typer.Option("--image", help="Sandbox image.")] = None,
    docker: Annotated[bool, typer.Option(help="Measure the docker modes.")] = True,
    model_s: Annotated[
        float,
        typer.Option("--model-s", min=0.0, help="Model time before a job's first run (first)."),
    ] = 1.0,
) -> None:
    """Print median and p95 of a one-test pytest job per mode, and the ratios."""
    results = _measure(runs, image or default_image(), docker, model_s)
    ratios = _ratios(results)
    if as_json:
        typer.echo(json.dumps({"runs": runs, "results": results, "ratios": ratios}, indent=2))
        return
    typer.echo(f"one-test pytest job, {runs} runs each")
    for mode, stats in results.items():
        typer.echo(
            f"  {mode:<11}  median {stats['median_ms']:8.1f} ms   p95 {stats['p95_ms']:8.1f} ms"
        )
    for name, value in ratios.items():
        typer.echo(f"  {name:<14} {value}x")


if __name__ == "__main__":
    typer.run(main)
