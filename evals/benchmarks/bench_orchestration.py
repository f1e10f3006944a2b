"""Benchmark: orchestration overhead per transition, and eval throughput with K workers.

Usage::

    python -m codeagent.evals.benchmarks.bench_orchestration --jobs 20 --workers 1,2,4 [--json]

``transition``: whole default-workflow jobs (plan -> code -> test -> review, 4
transitions) through ``run_job`` with a scripted model that answers at once and a
fake sandbox (``codeagent.tools.testing.FakeSandbox``), against a bare LangGraph
graph of the same shape on the same SQLite checkpointer whose nodes return canned
updates. The difference per transition is
what codeagent adds: state bookkeeping, routes, budgets, tracing, run records.

``throughput``: ``run_eval`` in agent mode on synthetic problems with a scripted
model that takes ``--model-delay`` seconds per call, with K workers.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TypedDict

import typer
from langgraph.graph import END, START, StateGraph

from codeagent.evals.harness import EvalOptions, run_eval
from codeagent.evals.scoring import HIDDEN_OK
from codeagent.graphs.jobs.checkpoint import open_checkpointer
from codeagent.graphs.jobs.runner import run_job
from codeagent.tools.sandbox import ExecResult
from codeagent.tools.testing import FakeRun, FakeSandbox, Rule, ScriptedChatModel

__all__ = ["bare_graph_s", "codeagent_job_s", "main", "throughput"]

_PLAN = '{"summary": "add", "files": ["solution.py"], "steps": ["add"], "test_cases": []}'
_CODE = "solution.py\n```python\ndef add(a, b):\n    return a + b\n```\n"
_TESTS = (
    "test_solution.py\n```python\nfrom solution import add\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n```\n"
)
TASK = "Write add(a, b) returning the sum."
TRANSITIONS = 4


class _ScoredFake(FakeSandbox):
    """Runs nothing: one green test, and the hidden-check runner's fresh marker (scoring)."""

    def run(self, cmd: Sequence[str], timeout_s: float = 60.0) -> ExecResult:
        result = super().run(cmd, timeout_s)
        markers = (_MARKER.search(text) for text in self.files.values())
        found = next((m.group(0) for m in markers if m), "")
        return replace(result, stdout=f"{found}\n")


_MARKER = re.compile(re.escape(HIDDEN_OK) + r"-[0-9a-f]+")


def _sandbox() -> FakeSandbox:
    return _ScoredFake(FakeRun())


def _model(delay_s: float = 0.0) -> ScriptedChatModel:
    rules = [
        Rule(match="You are the planner", reply=_PLAN),
        Rule(match="You are the coder", reply=_CODE),
        Rule(match="You are the tester", reply=_TESTS),
        Rule(match="You are the reviewer", reply='{"verdict": "approve", "comments": []}'),
        Rule(match="expert Python programmer", reply=_CODE),
    ]
    return ScriptedChatModel(rules=rules, delay_s=delay_s)


def codeagent_job_s(home: Path, jobs: int) -> list[float]:
    """Seconds per job of the default workflow through ``run_job`` (scripted, no-op sandbox)."""
    model, times = _model(), []
    for i in range(jobs):
        started = time.perf_counter()
        result = run_job(
            TASK, chat_model=model, sandbox_factory=_sandbox, home=home, out=home / f"o{i}"
        )
        times.append(time.perf_counter() - started)
        assert result.status == "success", result.error
    return times


class _Bare(TypedDict, total=False):
    files: dict[str, str]
    review: str


def bare_graph_s(home: Path, jobs: int) -> list[float]:
    """Seconds per job of a plain LangGraph graph of the same shape and checkpointer."""
    graph = StateGraph(_Bare)
    graph.add_node("plan", lambda s: {"files": {}})
    graph.add_node("code", lambda s: {"files": {"solution.py": _CODE}})
    graph.add_node("test", lambda s: {"files": s["files"]})
    graph.add_node("review", lambda s: {"review": "approve"})
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "code")
    graph.add_edge("code", "test")
    graph.add_conditional_edges("test", lambda s: "review", {"review": "review", "code": "code"})
    graph.add_conditional_edges("review", lambda s: END, {END: END, "code": "code"})
    times = []
    with open_checkpointer(home / "bare") as saver:
        compiled = graph.compile(checkpointer=saver)
        for i in range(jobs):
            started = time.perf_counter()
            compiled.invoke({"files": {}}, {"configurable": {"thread_id": f"bare-{i}"}})
            times.append(time.perf_counter() - started)
    return times


def throughput(root: Path, problems: int, workers: int, delay_s: float) -> dict[str, float]:
    """Problems per second of an agent-mode eval with ``workers`` workers."""
    dataset = root / f"synthetic-{workers}.jsonl"
    row = {
        "prompt": 'def add(a, b):\n    """Sum."""\n',
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
        "entry_point": "add",
    }
    lines = [json.dumps({"task_id": f"S/{i}", **row}) for i in range(problems)]
    dataset.write_text("\n".join(lines) + "\n")
    options = EvalOptions(dataset=str(dataset), workers=workers, out=root / f"eval-{workers}")
    started = time.perf_counter()
    run_eval(options, chat_model=_model(delay_s), sandbox_factory=_sandbox)
    seconds = time.perf_counter() - started
    return {"workers": workers, "seconds": round(seconds, 3), "per_s": round(problems / seconds, 2)}


def _stats(times: list[float]) -> dict[str, float]:
    per = [t / TRANSITIONS * 1000 for t in times[1:] or times]  # the first job warms caches
    return {
        "job_ms_median": round(statistics.median(times[1:] or times) * 1000, 2),
        "per_transition_ms_median": round(statistics.median(per), 3),
        "per_transition_ms_p90": round(
            statistics.quantiles(per, n=10)[-1] if len(per) > 1 else per[0], 3
        ),
    }


def main(
    jobs: Annotated[int, typer.Option(help="Jobs per side of the overhead comparison.")] = 20,
    workers: Annotated[str, typer.Option(help="Worker counts to measure, comma-separated.")] = (
        "1,2,4"
    ),
    problems: Annotated[int, typer.Option(help="Synthetic problems per throughput run.")] = 8,
    model_delay: Annotated[float, typer.Option(help="Seconds per scripted model call.")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the overhead per transition and eval throughput with K workers."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours = _stats(codeagent_job_s(root / "home", jobs))
        bare = _stats(bare_graph_s(root, jobs))
        rates = [throughput(root, problems, int(k), model_delay) for k in workers.split(",")]
    overhead = round(ours["per_transition_ms_median"] - bare["per_transition_ms_median"], 3)
    data: dict[str, Any] = {
        "transition": {"codeagent": ours, "bare_langgraph": bare, "overhead_ms": overhead},
        "throughput": {"model_delay_s": model_delay, "problems": problems, "runs": rates},
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"per transition: codeagent {ours['per_transition_ms_median']} ms, ")
    typer.echo(f"  bare LangGraph {bare['per_transition_ms_median']} ms, overhead {overhead} ms")
    for rate in rates:
        typer.echo(f"eval throughput, {rate['workers']} workers: {rate['per_s']} problems/s")


if __name__ == "__main__":
    typer.run(main)
