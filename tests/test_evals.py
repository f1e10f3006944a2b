"""The eval harness with the scripted model and the real local sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from codeagent.evals.cli import register
from codeagent.evals.datasets import Problem, load_dataset, read_subset, select
from codeagent.evals.harness import EvalOptions, run_eval
from codeagent.evals.report import write_report
from codeagent.evals.results import ProblemResult, read_results
from codeagent.evals.scoring import hidden_program, score_hidden
from codeagent.evals.tasks import extract_code, single_shot_prompt, task_text
from codeagent.tools.errors import ConfigError
from codeagent.tools.sandbox import LocalSandbox, SandboxLimits
from codeagent.tools.testing import Rule, ScriptedChatModel
from tests import scripts

MARKER = "HIDDEN-MARKER-7d1f"
PROMPT = 'def add(a, b):\n    """Return the sum.\n    >>> add(2, 3)\n    5\n    """\n'
TEST = f"def check(candidate):\n    assert candidate(1, 2) == 3  # {MARKER}\n"


def _dataset(tmp_path: Path, n: int = 3) -> Path:
    rows = [
        {"task_id": f"Toy/{i}", "prompt": PROMPT, "test": TEST, "entry_point": "add"}
        for i in range(n)
    ]
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxLimits(cpu_time_s=10))


def _single_shot_model(answer: str = scripts.GOOD) -> ScriptedChatModel:
    return ScriptedChatModel(rules=[Rule(match="expert Python programmer", reply=answer)])


def test_humaneval_ships_164_problems() -> None:
    problems = load_dataset("humaneval")

    assert len(problems) == 164
    assert problems[0].task_id == "HumanEval/0"
    assert "def check" in problems[0].test


def test_every4_held_out_and_odd_make_all_164_once_each() -> None:
    """The README's all-164 rows add these three subsets' runs: they must partition it."""
    parts = [
        read_subset(Path(name))
        for name in ("humaneval-every4", "humaneval-every4-from2", "humaneval-odd")
    ]

    assert [len(ids) for ids in parts] == [41, 41, 82]
    assert sorted(i for ids in parts for i in ids) == sorted(
        p.task_id for p in load_dataset("humaneval")
    )


def test_a_jsonl_by_path_with_limit_and_subset(tmp_path: Path) -> None:
    problems = load_dataset(_dataset(tmp_path, 5))
    subset = tmp_path / "subset.txt"
    subset.write_text("# two of them\nToy/3\nToy/1\n")

    assert [p.task_id for p in select(problems, limit=2)] == ["Toy/0", "Toy/1"]
    assert [p.task_id for p in select(problems, subset=subset)] == ["Toy/3", "Toy/1"]
    assert len(read_subset(Path("humaneval-every8"))) == 21


def test_bad_dataset_rows_and_unknown_subset_ids_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "x", "prompt": "p"}\n')
    subset = tmp_path / "subset.txt"
    subset.write_text("Nope/1\n")

    with pytest.raises(ConfigError, match="line 1"):
        load_dataset(bad)
    with pytest.raises(ConfigError, match="no dataset"):
        load_dataset(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="unknown task ids"):
        select(load_dataset(_dataset(tmp_path)), subset=subset)


def test_the_task_shows_the_prompt_and_never_the_hidden_test(tmp_path: Path) -> None:
    problem = load_dataset(_dataset(tmp_path))[0]

    assert PROMPT.strip() in task_text(problem)
    assert MARKER not in task_text(problem)
    assert all(MARKER not in text for _, text in single_shot_prompt(problem))


def test_a_prompt_in_words_is_shown_as_words_and_one_in_python_as_code() -> None:
    prose = Problem(
        task_id="m/1",
        prompt="Write a function `double(x)` that returns twice x.\nassert double(2) == 4\n",
        test="def check(candidate):\n    assert candidate(3) == 6\n",
        entry_point="double",
    )
    text = task_text(prose)
    assert "```" not in text and "docstring" not in text
    assert text.endswith(
        "Write a function `double(x)` that returns twice x.\nassert double(2) == 4\n"
    )
    assert "`double`" in text.splitlines()[0]

    doc = 'def double(x):\n    """Twice x.\n    >>> double(2)\n    4\n    """\n'
    code = Problem("h/1", doc, prose.test, "double")
    assert f"```python\n{code.prompt.rstrip()}\n```" in task_text(code)
    bare = Problem("h/2", "def double(x):", prose.test, "double")  # a signature, no body yet
    assert "```python\ndef double(x):\n```" in task_text(bare)


def test_extract_code_takes_the_longest_block_or_the_bare_text() -> None:
    assert extract_code("x\n```python\na = 1\n```\n```python\nb = 22\nc = 3\n```") == (
        "b = 22\nc = 3\n"
    )
    assert extract_code("def f():\n    return 1") == "def f():\n    return 1\n"


@pytest.mark.usefixtures("bwrap")
def test_scoring_runs_the_hidden_check(tmp_path: Path) -> None:
    problem = load_dataset(_dataset(tmp_path))[0]
    good = {"solution.py": "def add(a, b):\n    return a + b\n"}
    bad = {"solution.py": "def add(a, b):\n    return a - b\n"}
    loops = {"solution.py": "def add(a, b):\n    while True:\n        pass\n"}

    assert score_hidden(problem, good, _sandbox).passed
    assert not score_hidden(problem, bad, _sandbox).passed
    assert score_hidden(problem, loops, _sandbox, timeout_s=2).detail == "timed out"
    assert score_hidden(problem, {}, _sandbox).detail == "no solution file"


CHEATS = {
    "prints the marker and exits 0 at import": (
        "import os\nprint('CODEAGENT-HIDDEN-OK', flush=True)\nos._exit(0)\n"
    ),
    "prints the marker from an atexit hook": (
        "import atexit, os\n"
        "atexit.register(lambda: (print('CODEAGENT-HIDDEN-OK', flush=True), os._exit(0)))\n"
    ),
    "reads the marker from the runner's file": (
        "import os, re\n"
        "try:\n"
        "    text = open('run_hidden_check.py').read()\n"
        "    print(*re.findall(r'CODEAGENT-HIDDEN-OK[-0-9a-f]*', text), sep='\\n', flush=True)\n"
        "    os._exit(0)\n"
        "except OSError:\n"
        "    pass\n"
    ),
}


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("how", CHEATS)
def test_a_solution_cannot_fake_its_hidden_score(tmp_path: Path, how: str) -> None:
    problem = load_dataset(_dataset(tmp_path))[0]
    wrong = {"solution.py": CHEATS[how] + "\ndef add(a, b):\n    return a - b\n"}

    assert not score_hidden(problem, wrong, _sandbox).passed


def test_the_hidden_marker_is_fresh_per_run() -> None:
    problem = load_dataset("humaneval")[0]
    runners = [hidden_program(problem, "x = 1\n")["run_hidden_check.py"] for _ in range(2)]

    assert runners[0] != runners[1]


def test_the_hidden_program_keeps_the_prompts_helpers() -> None:
    problem = load_dataset("humaneval")[38]  # decode_cyclic uses encode_cyclic from the prompt
    files = hidden_program(problem, "def decode_cyclic(s):\n    return s\n")

    module = files["candidate_solution.py"]
    assert "def encode_cyclic" in module
    assert module.rstrip().endswith("return s")


@pytest.mark.usefixtures("bwrap")
def test_agent_mode_never_shows_the_hidden_test_to_the_model(tmp_path: Path) -> None:
    model = scripts.model()
    options = EvalOptions(
        dataset=str(_dataset(tmp_path, 1)),
        workflow=str(scripts.write_workflow(tmp_path)),
        out=tmp_path / "eval",
    )
    run = run_eval(options, chat_model=model)

    assert run.summary["pass_at_1"] == 1.0
    (result,) = run.results
    assert (result.status, result.own_ok, result.calls) == ("success", True, 4)
    assert result.own_coverage == 100.0
    assert model.prompts and all(MARKER not in p for p in model.prompts)
    # without --capture-content, no prompt or answer text goes into the job's trace
    assert "gen_ai.output.messages" not in _trace_text(tmp_path / "eval/state")


@pytest.mark.usefixtures("bwrap")
def test_capture_content_records_each_calls_prompt_and_answer_in_the_jobs_trace(
    tmp_path: Path,
) -> None:
    options = EvalOptions(
        dataset=str(_dataset(tmp_path, 1)),
        workflow=str(scripts.write_workflow(tmp_path)),
        out=tmp_path / "eval",
        capture_content=True,
    )
    run_eval(options, chat_model=scripts.model())

    text = _trace_text(tmp_path / "eval/state")
    assert text.count("gen_ai.output.messages") == 4  # each of the job's 4 calls
    assert "def add(a, b)" in text


def test_capture_content_is_refused_where_it_would_record_nothing(tmp_path: Path) -> None:
    options = EvalOptions(dataset=str(_dataset(tmp_path, 1)), capture_content=True)
    with pytest.raises(ConfigError, match="--engine local"):
        run_eval(options.model_copy(update={"engine": "celery"}))
    runner = CliRunner()
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    args = ["eval", "--mode", "single-shot", "--capture-content", "--out", str(tmp_path)]
    done = runner.invoke(app, args)
    assert done.exit_code == 2 and "--capture-content is for --mode agent" in done.output


def _trace_text(state: Path) -> str:
    traces = sorted(state.glob("*/runs/*/trace.jsonl"))
    return "".join(p.read_text(encoding="utf-8") for p in traces)


@pytest.mark.usefixtures("bwrap")
def test_single_shot_is_one_call_and_a_wrong_answer_fails(tmp_path: Path) -> None:
    model = _single_shot_model(scripts.BAD)
    options = EvalOptions(
        dataset=str(_dataset(tmp_path, 2)),
        mode="single-shot",
        workflow=str(scripts.write_workflow(tmp_path)),
        out=tmp_path / "eval",
    )
    run = run_eval(options, chat_model=model, sandbox_factory=_sandbox)

    assert [r.passed for r in run.results] == [False, False]
    assert [r.calls for r in run.results] == [1, 1]
    assert len(model.prompts) == 2
    for result in run.results:  # the whole answer is kept beside the code taken from it
        reply = tmp_path / "eval/work/single-shot" / result.task_id.replace("/", "_") / "reply.md"
        assert reply.read_text(encoding="utf-8") == scripts.BAD


@pytest.mark.usefixtures("bwrap")
def test_resume_runs_only_the_unfinished_problems(tmp_path: Path) -> None:
    dataset = str(_dataset(tmp_path, 3))
    workflow = str(scripts.write_workflow(tmp_path))
    first = EvalOptions(
        dataset=dataset, mode="single-shot", workflow=workflow, limit=2, out=tmp_path / "e"
    )
    run_eval(first, chat_model=_single_shot_model(), sandbox_factory=_sandbox)
    with (tmp_path / "e" / "results-single-shot.jsonl").open("a") as handle:
        handle.write('{"task_id": "Toy/2", "mode": "single-sh')  # torn by an interrupt

    model = _single_shot_model()
    again = first.model_copy(update={"limit": None, "resume": True, "workers": 2})
    run = run_eval(again, chat_model=model, sandbox_factory=_sandbox)

    assert len(model.prompts) == 1  # only Toy/2 ran
    assert [r.task_id for r in run.results] == ["Toy/0", "Toy/1", "Toy/2"]
    assert run.summary["passed"] == 3


def test_report_files(tmp_path: Path) -> None:
    def result(task: str, mode: str, passed: bool) -> ProblemResult:
        return ProblemResult.model_validate(
            {"task_id": task, "mode": mode, "passed": passed, "status": "x", "wall_s": 1.5}
        )

    for mode, flags in (("single-shot", [True, False]), ("agent", [True, True])):
        lines = [result(f"T/{i}", mode, f).model_dump_json() for i, f in enumerate(flags)]
        (tmp_path / f"results-{mode}.jsonl").write_text("\n".join(lines) + "\n")

    files = write_report(tmp_path, {"dataset": "toy"})

    data = json.loads(files["json"].read_text())
    assert data["summary"]["agent"]["pass_at_1"] == 1.0
    assert data["summary"]["single-shot"]["pass_at_1"] == 0.5
    assert "| pass_at_1 | 0.5 | 1.0 |" in files["md"].read_text()
    assert "| passed on the problems all modes ran | 1/2 | 2/2 |" in files["md"].read_text()
    assert files["png"].read_bytes()[:4] == b"\x89PNG"
    assert len(read_results(tmp_path / "results-agent.jsonl")) == 2


@pytest.mark.usefixtures("bwrap")
def test_the_eval_command(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command, so "eval" is a subcommand
    workflow = scripts.write_workflow(tmp_path)
    rules = [{"match": "expert Python programmer", "reply": scripts.GOOD}]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}))
    args = ["eval", "--dataset", str(_dataset(tmp_path, 2)), "--workflow", str(workflow)]
    args += ["--mode", "single-shot", "--out", str(tmp_path / "e"), "--json"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["pass_at_1"] == 1.0
    assert (tmp_path / "e" / "report.md").exists()
    bad = CliRunner().invoke(app, ["eval", "--dataset", str(tmp_path / "nope.jsonl")])
    assert bad.exit_code == 2
    assert "no dataset" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.usefixtures("bwrap")
def test_single_shot_asks_the_model_of_the_node_whose_role_is_coder(tmp_path: Path) -> None:
    for name, answer in (("bad", scripts.BAD), ("good", scripts.GOOD)):
        rules = [{"match": "expert Python programmer", "reply": answer}]
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"rules": rules}))
    workflow = {
        "name": "roles",
        "models": {
            "default": {"provider": "scripted", "script": "bad.yaml"},
            "author": {"provider": "scripted", "script": "good.yaml"},
        },
        "nodes": {
            "check": {"kind": "tests.custom_nodes:decoder_check"},  # "coder" in the name only
            "write": {"kind": "tests.custom_nodes:author", "model": "author"},  # role coder
        },
        "edges": [{"from": "check", "to": "write"}, {"from": "write", "to": "END"}],
        "sandbox": {"backend": "local"},
    }
    (tmp_path / "wf.yaml").write_text(yaml.safe_dump(workflow, sort_keys=False))
    options = EvalOptions(
        dataset=str(_dataset(tmp_path, 1)),
        mode="single-shot",
        workflow=str(tmp_path / "wf.yaml"),
        out=tmp_path / "eval",
    )

    run = run_eval(options, sandbox_factory=_sandbox)

    assert [r.passed for r in run.results] == [True]


def test_metrics_count_the_agents_vacuous_tests() -> None:
    from codeagent.evals.metrics import summarize

    results = [
        ProblemResult(task_id="t/1", mode="agent", passed=True, status="success", own_vacuous=2),
        ProblemResult(task_id="t/2", mode="agent", passed=True, status="success"),
    ]

    metrics = summarize(results)
    assert (metrics["own_vacuous_total"], metrics["own_vacuous_problems"]) == (2, 1)


def test_metrics_count_verdicts_the_hidden_tests_contradict() -> None:
    from codeagent.evals.metrics import summarize

    def result(task: str, passed: bool, status: str, mode: str = "agent") -> ProblemResult:
        return ProblemResult(task_id=task, mode=mode, passed=passed, status=status)  # type: ignore[arg-type]

    agent = [
        result("t/1", True, "success"),
        result("t/2", True, "failed"),  # right code, ended failed
        result("t/3", True, "budget_exceeded"),  # right code, ran out of budget
        result("t/4", False, "success"),  # "success" on wrong code
        result("t/5", False, "failed"),
    ]
    metrics = summarize(agent)
    assert (metrics["right_but_not_success"], metrics["success_but_wrong"]) == (2, 1)
    # a single-shot answer has no verdict to contradict
    single = [result("t/1", True, "answered", "single-shot"), result("t/2", False, "answered")]
    metrics = summarize(single)
    assert (metrics["right_but_not_success"], metrics["success_but_wrong"]) == (0, 0)
