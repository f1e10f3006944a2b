"""Benchmark: orchestration overhead per transition, and eval throughput with K workers.

Usage::

    python -m codeagent.evals.benchmarks.bench_orchestration --jobs 20 --workers 1,2,4 [--json]

``transition``: what codeagent adds to each transition of a graph. The same graph is run
twice on the same SQLite checkpointer (LangGraph's default durability on both sides):
as a codeagent workflow through ``run_job`` (state bookkeeping, routes, budgets,
guardrails, tracing with the trace file and the audit log, run records) and as a bare
LangGraph graph. Its nodes return canned updates on both sides (plan -> code -> test ->
review, the test node failing ``k`` times so that ``code -> test`` loops), so that
neither side's time is a model's or a sandbox's. Jobs of 4 and of 40 transitions give
the cost per transition (the difference over the 36 extra transitions: the marginal
cost, which would grow with the history length if anything were quadratic) and the
fixed cost of a job (opening it, compiling the graph, its records). A third side, the
bare graph on codeagent's state schema (``AgentState``, about 25 channels), shows what
the state's size costs LangGraph itself; a fourth, the same graph writing the bookkeeping
channels every codeagent step writes (``next``, ``last_node``, ``error``, ``transitions``,
``node_runs``, ``usage``: what a checkpoint must hold to resume, route and audit a
job), shows what those writes cost LangGraph. Each side is timed in wall-clock time (the
ratio the issue's target is about) and in the process's CPU time (steadier on a shared
machine).

``job``: whole default-workflow jobs (plan -> code -> test -> review) through
``run_job`` with a scripted model that answers at once and a fake sandbox: what a
job costs end to end besides its model and sandbox.

``throughput``: ``run_eval`` in agent mode on synthetic problems with a scripted
model that takes ``--model-delay`` seconds per call, with K workers.
"""

from __future__ import annotations

import json
import operator
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TypedDict

import typer
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from codeagent.evals.harness import EvalOptions, run_eval
from codeagent.evals.scoring import HIDDEN_OK
from codeagent.graphs.builder import step_bookkeeping
from codeagent.graphs.jobs.checkpoint import open_checkpointer
from codeagent.graphs.jobs.runner import run_job
from codeagent.graphs.routes import Transition
from codeagent.nodes.kinds import node_kind
from codeagent.tools.contracts.state import AgentState
from codeagent.tools.sandbox import ExecResult
from codeagent.tools.testing import FakeRun, FakeSandbox, Rule, ScriptedChatModel

__all__ = [
    "Timed",
    "bare_graph_s",
    "canned_code",
    "canned_plan",
    "canned_review",
    "canned_test",
    "codeagent_job_s",
    "default_job_s",
    "main",
    "throughput",
]

_PLAN = '{"summary": "add", "files": ["solution.py"], "steps": ["add"], "test_cases": []}'
_SOURCE = "def add(a, b):\n    return a + b\n"
_CODE = f"solution.py\n```python\n{_SOURCE}```\n"
_TESTS = (
    "test_solution.py\n```python\nfrom solution import add\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n```\n"
)
TASK = "Write add(a, b) returning the sum."
SHORT, LONG = 4, 40  # transitions of the short and the long job


# -- canned nodes: the same updates on both sides ---------------------------------------


def _report(ok: bool) -> dict[str, Any]:
    return {
        "passed": int(ok),
        "failed": int(not ok),
        "errors": 0,
        "total": 1,
        "coverage": None,
        "output": "",
        "exit_code": 0 if ok else 1,
        "timed_out": False,
        "ok": ok,
    }


def _plan_update() -> dict[str, Any]:
    return {"plan": {"summary": "add", "files": ["solution.py"], "steps": ["add"]}}


def _code_update(runs: int) -> dict[str, Any]:
    return {"files": {"solution.py": f"{_SOURCE}# attempt {runs}\n"}}


def _test_update(history: Sequence[Any], fails: int, files: dict[str, str]) -> dict[str, Any]:
    report = _report(len(history) >= fails)
    entry = {"files": files, "tests": {}, "report": report}
    return {"test_report": report, "history": [entry]}


class CannedTestOptions(BaseModel):
    """How many times the canned test node fails before it passes."""

    fails: int = 0


@node_kind(role="planner")
def canned_plan(state: Any, ctx: Any) -> dict[str, Any]:
    """A plan, at once."""
    return _plan_update()


@node_kind(role="coder", capabilities={"writes_code"})
def canned_code(state: Any, ctx: Any) -> dict[str, Any]:
    """The same file again (one line differs per attempt)."""
    return _code_update(len(state.get("history") or []))


@node_kind(role="tester", capabilities={"runs_code"}, options=CannedTestOptions)
def canned_test(state: Any, ctx: Any) -> dict[str, Any]:
    """A failing test report ``fails`` times, then a passing one."""
    fails = int(ctx.options.get("fails", 0))
    return _test_update(state.get("history") or [], fails, state.get("files") or {})


@node_kind(role="reviewer")
def canned_review(state: Any, ctx: Any) -> dict[str, Any]:
    """An approval."""
    return {"review": {"verdict": "approve", "comments": []}}


_MODULE = "codeagent.evals.benchmarks.bench_orchestration"


def _workflow(root: Path, transitions: int) -> Path:
    fails = (transitions - 4) // 2
    path = root / f"canned-{transitions}.yaml"
    path.write_text(
        f"""name: canned-{transitions}
nodes:
  plan: {{kind: "{_MODULE}:canned_plan"}}
  code: {{kind: "{_MODULE}:canned_code"}}
  test: {{kind: "{_MODULE}:canned_test", options: {{fails: {fails}}}}}
  review: {{kind: "{_MODULE}:canned_review"}}
edges:
  - {{from: plan, to: code}}
  - {{from: code, to: test}}
  - from: test
    route: tests
    branches: {{pass: review, fail: {{to: code, max: {max(fails, 1)}}}}}
  - from: review
    route: review
    branches: {{approve: END, changes: {{to: code, max: 1}}}}
sandbox: {{backend: local}}
budgets: {{max_model_calls: 40, max_wall_s: 600}}
""",
        encoding="utf-8",
    )
    return path


class Timed:
    """Wall-clock and CPU seconds of each job timed (``with timed: ...``)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._started[0])
        self.cpu.append(time.process_time() - self._started[1])


def codeagent_job_s(
    home: Path, jobs: int, transitions: int, timed: Timed | None = None
) -> list[float]:
    """Seconds per job of the canned workflow through ``run_job`` (``transitions`` each)."""
    workflow, timed = _workflow(home.parent, transitions), timed or Timed()
    home.mkdir(parents=True, exist_ok=True)
    first = len(timed.wall)
    for i in range(jobs):
        with timed:
            result = run_job(TASK, workflow=workflow, home=home, out=home / f"o{transitions}-{i}")
        assert result.status == "success", result.error
    return timed.wall[first:]


class _Bare(TypedDict, total=False):
    task: str
    plan: dict[str, Any]
    files: dict[str, str]
    test_report: dict[str, Any]
    history: Annotated[list[dict[str, Any]], operator.add]
    review: dict[str, Any]


def _bookkeeping(node: str, to: str) -> dict[str, Any]:
    """What a codeagent step writes besides the node's own update: the builder's own
    bookkeeping, and the node time it adds to ``usage``."""
    transition = Transition(node, to, "ok", "canned")
    return {**step_bookkeeping(node, transition, ran=True), "usage": {"node_ms": 0}}


def bare_graph_s(
    home: Path,
    jobs: int,
    transitions: int,
    timed: Timed | None = None,
    schema: type[Any] = _Bare,
    bookkeeping: bool = False,
) -> list[float]:
    """Seconds per job of a plain LangGraph graph of the same shape, updates and checkpointer
    (``schema``: its state, the canned updates' keys by default; ``bookkeeping``: each node
    also writes codeagent's bookkeeping channels, which ``schema`` must have)."""
    fails, timed = (transitions - 4) // 2, timed or Timed()

    def step(node: str, update: dict[str, Any], to: str) -> dict[str, Any]:
        return {**update, **_bookkeeping(node, to)} if bookkeeping else update

    def test(s: Any) -> dict[str, Any]:
        update = _test_update(s.get("history") or [], fails, s["files"])
        return step("test", update, "review" if update["test_report"]["ok"] else "code")

    graph = StateGraph(schema)
    graph.add_node("plan", lambda s: step("plan", _plan_update(), "code"))
    graph.add_node(
        "code", lambda s: step("code", _code_update(len(s.get("history") or [])), "test")
    )
    graph.add_node("test", lambda s: test(s))
    graph.add_node(
        "review", lambda s: step("review", {"review": {"verdict": "approve", "comments": []}}, END)
    )
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "code")
    graph.add_edge("code", "test")
    graph.add_conditional_edges(
        "test", lambda s: "review" if s["test_report"]["ok"] else "code", ["review", "code"]
    )
    graph.add_conditional_edges("review", lambda s: END, [END, "code"])
    first = len(timed.wall)
    with open_checkpointer(home / f"bare-{transitions}") as saver:
        compiled = graph.compile(checkpointer=saver)
        for i in range(jobs):
            config: RunnableConfig = {
                "configurable": {"thread_id": f"bare-{i}"},
                "recursion_limit": 200,
            }
            with timed:
                for _ in compiled.stream({"task": TASK, "history": []}, config):
                    pass
    return timed.wall[first:]


# -- the default workflow end to end (scripted model, fake sandbox) ----------------------


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


def default_job_s(home: Path, jobs: int) -> list[float]:
    """Seconds per job of the default workflow through ``run_job`` (scripted, no-op sandbox)."""
    model, times = _model(), []
    for i in range(jobs):
        started = time.perf_counter()
        result = run_job(
            TASK, chat_model=model, sandbox_factory=_sandbox, home=home, out=home / f"d{i}"
        )
        times.append(time.perf_counter() - started)
        assert result.status == "success", result.error
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


def _median_ms(times: list[float]) -> float:
    return statistics.median(times[1:] or times) * 1000  # the first job warms caches


def _side(short: Timed, long: Timed) -> dict[str, float]:
    """Per-transition costs of one side from its short and long jobs' times."""
    s_ms, l_ms = _median_ms(short.wall), _median_ms(long.wall)
    marginal = (l_ms - s_ms) / (LONG - SHORT)
    cpu = (_median_ms(long.cpu) - _median_ms(short.cpu)) / (LONG - SHORT)
    return {
        f"job_ms_{SHORT}": round(s_ms, 2),
        f"job_ms_{LONG}": round(l_ms, 2),
        f"per_transition_ms_at_{SHORT}": round(s_ms / SHORT, 3),
        f"per_transition_ms_at_{LONG}": round(l_ms / LONG, 3),
        "marginal_ms": round(marginal, 3),
        "fixed_ms": round(s_ms - SHORT * marginal, 2),
        "marginal_cpu_ms": round(cpu, 3),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b > 0 else float("inf")


def transition_costs(root: Path, jobs: int) -> dict[str, Any]:
    """The three sides at 4 and 40 transitions, interleaved so that machine load hits all."""
    sides = (
        "codeagent",
        "bare_langgraph",
        "bare_langgraph_agent_state",
        "bare_langgraph_bookkeeping",
    )
    timed = {(side, n): Timed() for side in sides for n in (SHORT, LONG)}
    for rnd in range(3):  # three rounds, each side's samples pooled
        for n in (SHORT, LONG):
            each = max(2, jobs // 3)
            codeagent_job_s(root / f"home-{rnd}", each, n, timed["codeagent", n])
            bare_graph_s(root / f"bare-{rnd}", each, n, timed["bare_langgraph", n])
            bare_graph_s(
                root / f"state-{rnd}",
                each,
                n,
                timed["bare_langgraph_agent_state", n],
                schema=AgentState,
            )
            bare_graph_s(
                root / f"book-{rnd}",
                each,
                n,
                timed["bare_langgraph_bookkeeping", n],
                schema=AgentState,
                bookkeeping=True,
            )
    out: dict[str, Any] = {side: _side(timed[side, SHORT], timed[side, LONG]) for side in sides}
    ours, bare = out["codeagent"], out["bare_langgraph"]
    state = out["bare_langgraph_agent_state"]
    out["marginal_ratio"] = _ratio(ours["marginal_ms"], bare["marginal_ms"])
    out["marginal_cpu_ratio"] = _ratio(ours["marginal_cpu_ms"], bare["marginal_cpu_ms"])
    out["state_schema_cpu_ratio"] = _ratio(state["marginal_cpu_ms"], bare["marginal_cpu_ms"])
    book = out["bare_langgraph_bookkeeping"]
    out["bookkeeping_cpu_ratio"] = _ratio(book["marginal_cpu_ms"], bare["marginal_cpu_ms"])
    return out


def main(
    jobs: Annotated[int, typer.Option(help="Jobs per side and length of the comparison.")] = 21,
    workers: Annotated[str, typer.Option(help="Worker counts to measure, comma-separated.")] = (
        "1,2,4"
    ),
    problems: Annotated[int, typer.Option(help="Synthetic problems per throughput run.")] = 8,
    model_delay: Annotated[float, typer.Option(help="Seconds per scripted model call.")] = 0.2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the cost per transition (ours vs bare LangGraph), per job, and eval throughput."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        costs = transition_costs(root, jobs)
        job_ms = round(_median_ms(default_job_s(root / "default", max(2, jobs // 2))), 2)
        rates = [throughput(root, problems, int(k), model_delay) for k in workers.split(",")]
    data: dict[str, Any] = {
        "transition": costs,
        "default_job_ms": job_ms,
        "throughput": {"model_delay_s": model_delay, "problems": problems, "runs": rates},
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    ours, bare = costs["codeagent"], costs["bare_langgraph"]
    state, book = costs["bare_langgraph_agent_state"], costs["bare_langgraph_bookkeeping"]
    typer.echo(
        f"{'':28}{'codeagent':>12}{'bare LangGraph':>16}{'bare, AgentState':>18}"
        f"{'+ bookkeeping':>15}"
    )
    for key in ours:
        typer.echo(f"{key:28}{ours[key]:>12}{bare[key]:>16}{state[key]:>18}{book[key]:>15}")
    typer.echo(f"marginal cost per transition, codeagent / bare: {costs['marginal_ratio']}x")
    typer.echo(f"the same in CPU time: {costs['marginal_cpu_ratio']}x")
    typer.echo(
        f"bare on codeagent's state schema / bare, CPU time: {costs['state_schema_cpu_ratio']}x"
    )
    typer.echo(
        "bare on AgentState writing codeagent's bookkeeping channels / bare, CPU time: "
        f"{costs['bookkeeping_cpu_ratio']}x"
    )
    typer.echo(f"default workflow job, scripted model and fake sandbox: {job_ms} ms")
    for rate in rates:
        typer.echo(f"eval throughput, {rate['workers']} workers: {rate['per_s']} problems/s")


if __name__ == "__main__":
    typer.run(main)
