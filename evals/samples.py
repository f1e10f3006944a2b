"""The model's ceiling: K answers per problem, each scored, so selection can be measured against it.

``codeagent eval --mode samples --samples K`` asks the single-shot prompt K times per
problem. Draw 0 is the single-shot call itself (same prompt, temperature and seed, so
``passed`` is single-shot's pass@1); draws 1 to K-1 are hotter, at the workflow's
sampling coder ``retry_temperature`` (default 0.8), each with its own seed when the
model is seeded: the settings ``sampling_coder`` draws its candidates with (its prompt
is the coder's template, not this one, so its draws differ in wording from these).
Every draw is scored on the hidden tests and, where the task shows examples, on them
(each example ``assert (EXPR) == (EXPECTED)``, as :func:`~codeagent.nodes.examples.task_examples`
reads them).

The summary then says (all over problems;
:func:`~codeagent.evals.metrics.sample_metrics`):

- ``any_of_first``: for each j, the share of problems where one of the first j draws
  passes the hidden tests: what a perfect choice among j draws would score.
- ``examples_any``: the share where some draw passes the task's examples (problems
  without examples do not count as passing).
- ``examples_pick``: the share where the first draw that passes the examples (else
  draw 0) passes the hidden tests: what choosing by the examples alone would score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from codeagent.evals.datasets import Problem
from codeagent.evals.scoring import score_hidden
from codeagent.evals.tasks import extract_code, single_shot_prompt, task_text
from codeagent.nodes.coder import hotter_call
from codeagent.nodes.examples import task_examples
from codeagent.tools.languages.python_source import module_names_used
from codeagent.tools.models.llm import Reply, ask_text, total_usage
from codeagent.tools.sandbox import Sandbox
from codeagent.tools.workspace import write_tree

__all__ = ["examples_check", "samples_solver"]

Solver = Callable[[Problem], tuple[dict[str, str], dict[str, Any]]]


def examples_check(problem: Problem) -> Problem | None:
    """``problem`` with a ``check`` asserting the examples its task shows (None: it shows none).

    The solution's names are in scope (the scoring runner star-imports it), so each
    example runs as the task writes it; the standard modules the examples use are imported.
    """
    pairs = task_examples(task_text(problem))
    if not pairs:
        return None
    used = sorted(module_names_used([text for pair in pairs for text in pair]))
    lines = [*(f"import {name}" for name in used), "", "", "def check(candidate):"]
    lines += [f"    assert ({expr}) == ({expected})" for expr, expected in pairs]
    return Problem(problem.task_id, problem.prompt, "\n".join(lines) + "\n", problem.entry_point)


def samples_solver(
    model: BaseChatModel,
    samples: int,
    temperature: float,
    open_sandbox: Callable[[], Sandbox],
    timeout_s: float,
    work: Path,
) -> Solver:
    """A solver drawing ``samples`` answers per problem and scoring each (module docstring).

    It returns draw 0's files, and fields that already hold ``passed`` (draw 0 on the
    hidden tests), ``draws_hidden`` and ``draws_examples``; each draw's file is kept
    under ``work/PROBLEM/draw-N``.
    """

    def solve(problem: Problem) -> tuple[dict[str, str], dict[str, Any]]:
        prompt = single_shot_prompt(problem)
        check = examples_check(problem)
        replies: list[Reply] = []
        hidden: list[bool] = []
        examples: list[bool | None] = []
        first: dict[str, str] = {}
        detail = ""
        for index in range(samples):
            call = hotter_call(model, temperature, index) if index else {}
            replies.append(ask_text(model, prompt, **call))
            files = {"solution.py": extract_code(replies[-1].text)}
            write_tree(work / problem.key / f"draw-{index}", files)
            score = score_hidden(problem, files, open_sandbox, timeout_s)
            hidden.append(score.passed)
            shown = None if check is None else score_hidden(check, files, open_sandbox, timeout_s)
            examples.append(None if shown is None else shown.passed)
            if index == 0:
                first, detail = files, score.detail
        fields: dict[str, Any] = {
            "status": "answered",
            "attempts": samples,
            "passed": hidden[0],
            "detail": detail,
            "draws_hidden": hidden,
            "draws_examples": examples,
            **total_usage(replies),
        }
        return first, fields

    return solve
