"""Aggregate metrics over per-problem results (pure)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from codeagent.evals.results import ProblemResult

__all__ = ["sample_metrics", "summarize"]

_NO_VERDICT = "answered"  # a single-shot answer: no job, no verdict of its own


def summarize(results: Sequence[ProblemResult]) -> dict[str, Any]:
    """pass@1, own-test pass rate, coverage and vacuous tests, time, calls, tokens, attempts.

    Means are over problems; ``own_pass_rate`` is over problems that had own tests.
    ``own_vacuous_total`` counts the agent's own tests that passed against a stub of
    its code (not counted as passed), ``own_vacuous_problems`` the problems with any.
    The two disagreements between a job's verdict and the hidden tests (agent mode; a
    single-shot answer has no verdict): ``right_but_not_success`` counts jobs whose code
    passes the hidden tests though the job did not end ``success`` (the agent's own
    checks failed right code), ``success_but_wrong`` jobs that ended ``success`` on code
    the hidden tests fail. ``samples`` mode adds the ceiling of choosing among its draws
    (:func:`sample_metrics`).
    """
    n = len(results)
    if n == 0:
        return {"problems": 0, "passed": 0, "pass_at_1": 0.0}
    with_tests = [r for r in results if r.own_ok is not None]
    coverages = [r.own_coverage for r in results if r.own_coverage is not None]
    walls = [r.wall_s for r in results]
    return {
        "problems": n,
        "passed": sum(r.passed for r in results),
        "pass_at_1": round(sum(r.passed for r in results) / n, 4),
        "own_pass_rate": (
            round(sum(bool(r.own_ok) for r in with_tests) / len(with_tests), 4)
            if with_tests
            else None
        ),
        "own_coverage_mean": round(statistics.fmean(coverages), 1) if coverages else None,
        "own_vacuous_total": sum(r.own_vacuous for r in results),
        "own_vacuous_problems": sum(1 for r in results if r.own_vacuous),
        "wall_s_mean": round(statistics.fmean(walls), 2),
        "wall_s_median": round(statistics.median(walls), 2),
        "wall_s_total": round(sum(walls), 1),
        "calls_mean": round(statistics.fmean(r.calls for r in results), 2),
        "input_tokens_mean": round(statistics.fmean(r.input_tokens for r in results), 1),
        "output_tokens_mean": round(statistics.fmean(r.output_tokens for r in results), 1),
        "tokens_total": sum(r.input_tokens + r.output_tokens for r in results),
        "attempts_mean": round(statistics.fmean(r.attempts for r in results), 2),
        "statuses": dict(Counter(r.status for r in results)),
        "right_but_not_success": sum(
            1 for r in results if r.passed and r.status not in ("success", _NO_VERDICT)
        ),
        "success_but_wrong": sum(1 for r in results if r.status == "success" and not r.passed),
        **sample_metrics(results),
    }


def sample_metrics(results: Sequence[ProblemResult]) -> dict[str, Any]:
    """``samples``, ``any_of_first``, ``examples_any`` and ``examples_pick`` (see
    :mod:`codeagent.evals.samples`); empty when no result has draws (pure)."""
    drawn = [r for r in results if r.draws_hidden]
    if not drawn:
        return {}
    n = len(drawn)
    most = max(len(r.draws_hidden) for r in drawn)
    return {
        "samples": most,
        "any_of_first": {
            str(j): round(sum(any(r.draws_hidden[:j]) for r in drawn) / n, 4)
            for j in range(1, most + 1)
        },
        "examples_any": round(sum(any(bool(e) for e in r.draws_examples) for r in drawn) / n, 4),
        "examples_pick": round(sum(_picked_by_examples(r) for r in drawn) / n, 4),
    }


def _picked_by_examples(result: ProblemResult) -> bool:
    """Whether the first draw passing the examples (else draw 0) passes the hidden tests."""
    index = next((i for i, ok in enumerate(result.draws_examples) if ok), 0)
    return result.draws_hidden[index]
