"""The sampling coder: several candidates, each run against the task's own examples.

Small models often get a function right on the second or third draw when the
first is wrong. This node asks for up to ``candidates`` answers (the first at the
node's temperature, later ones hotter, so they differ), runs each against the
tests made from the examples in the task text (never the hidden or the tester's
tests) and keeps the first that passes them all, else the one passing most.
With no examples in the task it keeps the first answer whose code parses (one
call, unless an answer was cut off mid-code).

With ``agreement: 2`` or more it does not stop at the first candidate passing
the examples: it draws until that many of them also return the same on probe
inputs varied from the examples, then keeps the one agreeing most with the
rest (see :mod:`codeagent.nodes.probes`). With ``signature_probes: true`` a task
without usable examples is drawn the same way, on probe inputs made from its
function's signature, and the candidates agreeing with the kept one go along as
``peers``: a model-written test they all fail as it does is disputed, not counted
(:mod:`codeagent.nodes.tester`).

A candidate whose code breaks the workflow's guardrails is rejected before it
runs (it never reaches the sandbox) and ranks below every candidate that ran;
when all break it, the first is kept and the tester's check sends it back or
stops the job, as the workflow's ``on_violation`` says.

With ``parallel: K`` the answers are asked for K at a time, side by side (the
embedded model decodes them together when it has ``slots: K``; a remote endpoint
gets K requests at once). They are still judged one by one in the order they were
asked for, with the same per-draw temperature and seed, so the kept answer is the
one drawing one at a time would keep; answers of the last round past the one that
settled it are spent (and counted) without being judged.

Its prompt (``nodes/templates/sampling_coder.md``) is the single-shot baseline's: the
task and one code block asked for, no instructions about files (the answer goes to the
solution file); the plan, when a planner ran, follows the task. A repair adds the
coder's feedback (the previous code and one line per failed check).

Use it in a workflow in place of ``coder``::

    nodes:
      code: {kind: sampling_coder, options: {candidates: 5, agreement: 2, parallel: 2}}
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from codeagent.nodes.coder import coder_prompt, hotter_call, source_files
from codeagent.nodes.context import NodeContext
from codeagent.nodes.examples import task_examples
from codeagent.nodes.kinds import node_kind
from codeagent.nodes.probes import choose, consistent, probe_calls, settled, signature_calls
from codeagent.nodes.tester import all_examples_broken, example_tests, run_probe, run_tests
from codeagent.nodes.testfiles import solution_module, source_path
from codeagent.tools.contracts.state import files_fingerprint
from codeagent.tools.errors import ModelError
from codeagent.tools.languages import ProbeProgram
from codeagent.tools.models.llm import Reply, ask_text, total_usage

if TYPE_CHECKING:
    from codeagent.tools.contracts.state import AgentState

__all__ = [
    "DEFAULT_CANDIDATES",
    "RETRY_TEMPERATURE",
    "SamplingOptions",
    "candidate_key",
    "sampling_coder",
]

DEFAULT_CANDIDATES = 3
RETRY_TEMPERATURE = 0.8


class SamplingOptions(BaseModel):
    """The ``options`` a workflow may give a ``sampling_coder`` node."""

    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(
        default=DEFAULT_CANDIDATES, ge=1, le=10, description="Answers drawn at most per attempt."
    )
    retry_temperature: float = Field(
        default=RETRY_TEMPERATURE, ge=0, le=2, description="Temperature of the 2nd+ candidates."
    )
    agreement: int = Field(
        default=1,
        ge=1,
        le=10,
        description=(
            "Stop drawing once this many candidates pass the examples and return the same"
            " on probe inputs varied from them; keep the one agreeing most with the others."
            " 1: keep the first that passes."
        ),
    )
    parallel: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Answers asked for at once (side by side); judged in order all the same.",
    )
    signature_probes: bool = Field(
        default=False,
        description=(
            "With agreement above 1, also draw until candidates agree on a task without"
            " usable examples, on probe inputs made from its function's signature; the"
            " agreeing candidates can then dispute model-written tests. Off by default:"
            " on HumanEval's no-example tasks it has not measured better yet."
        ),
    )


_Drawn = tuple[tuple[int, int, int], dict[str, str], list[str] | None]
"""A drawn candidate: its :func:`candidate_key`, its files, its probe outcomes."""

_MAX_PEERS = 4  # agreeing candidates kept for the tester (each costs it one test run)

_REJECTED = (0, -1, 0)
"""The key of a candidate breaking the policy: below any that ran (``passed`` >= 0)."""


def candidate_key(report: dict[str, Any]) -> tuple[int, int, int]:
    """How good a candidate's example run is: all green, then passed, then fewest errors."""
    return (
        int(bool(report.get("ok"))),
        int(report.get("passed", 0)),
        -int(report.get("errors", 0)),
    )


@node_kind(
    role="coder",
    capabilities={"calls_model", "writes_code", "runs_code"},
    options=SamplingOptions,
)
def sampling_coder(state: AgentState, ctx: NodeContext) -> dict[str, Any]:
    """Write the solution files, choosing among up to N candidates by the task's examples.

    ``N`` is the node's ``options.candidates`` (:class:`SamplingOptions`). With
    ``options.agreement`` above 1, drawing goes on until that many candidates
    that pass the examples also behave the same on probe inputs made from them
    (:mod:`codeagent.nodes.probes`), and the one agreeing most with the others is kept.
    A candidate breaking the workflow's policy is never run (see the module docstring).
    Returns ``files``, ``attempt`` and ``usage``.

    Raises:
        ModelError: When no answer had a usable code block.
    """
    default = source_path(state, ctx.language)
    prompt = coder_prompt(state, ctx, "sampling_coder")
    examples = example_tests(state, ctx.language)
    options = SamplingOptions.model_validate(dict(ctx.options))
    probe = _probe(state, ctx, bool(examples), options)
    replies: list[Reply] = []
    drawn: list[_Drawn] = []
    for reply in _answers(ctx, prompt, options, _draws(state, ctx, options.candidates), replies):
        files = source_files(reply.text, default, ctx, state["task"])
        if not files:
            continue
        if ctx.check_code(files):  # breaks the policy: rejected without running
            drawn.append((_REJECTED, files, None))
            continue
        if examples:
            report = run_tests(ctx, files, examples, probe=probe)
            if not all_examples_broken(report):
                drawn.append((candidate_key(report), files, report.get("probe")))
                top = _best(drawn)
                if top[0][0][0] and _settled(top, options.agreement if probe else 1):
                    break
                continue
            # none reached the code: judge as without examples, on the signature's probes
            examples = {}
            probe = _probe(state, ctx, False, options)
        # no examples: an answer that parses; with probes, draw until enough agree on them
        parses = not _syntax_errors(files, ctx)
        outcomes = run_probe(ctx, files, probe) if parses and probe else None
        drawn.append(((int(parses), 0, 0), files, outcomes))
        if parses and (probe is None or _settled(_best(drawn), options.agreement)):
            break
    if not drawn:
        raise ModelError(
            "no candidate answer of the coder contained a code block", usage=total_usage(replies)
        )
    top = _best(drawn)
    chosen = top[choose([outcomes for _, _, outcomes in top])] if probe else top[0]
    usage = total_usage(replies)
    return {
        "files": chosen[1],
        "attempt": state.get("attempt", 0) + 1,
        "usage": usage,
        "peers": _peers(chosen, top) if probe else None,
    }


def _settled(top: list[_Drawn], needed: int) -> bool:
    return settled([outcomes for _, _, outcomes in top], needed)


def _peers(chosen: _Drawn, top: list[_Drawn]) -> dict[str, Any] | None:
    """The other candidates behaving as ``chosen`` on the probes (``state["peers"]``)."""
    mine = chosen[2]
    if mine is None:
        return None
    files = [d[1] for d in top if d is not chosen and d[2] is not None and consistent(mine, d[2])][
        :_MAX_PEERS
    ]
    return {"of": files_fingerprint(chosen[1]), "files": files} if files else None


def _answers(
    ctx: NodeContext,
    prompt: list[tuple[str, str]],
    options: SamplingOptions,
    count: int,
    spent: list[Reply],
) -> Iterator[Reply]:
    """Up to ``count`` answers in draw order, asked for ``options.parallel`` at a time.

    Every answer received is appended to ``spent`` (its usage counts) before the first
    of its round is yielded; the caller stops iterating once it has what it needs.
    """
    if options.parallel == 1:
        for index in range(count):
            spent.append(ask_text(ctx.chat, prompt, **_later_draw(ctx, options, index)))
            yield spent[-1]
        return
    with ThreadPoolExecutor(options.parallel, thread_name_prefix="draw") as pool:
        for start in range(0, count, options.parallel):
            indexes = range(start, min(count, start + options.parallel))
            futures = [
                pool.submit(_ask_here, contextvars.copy_context(), ctx, prompt, kwargs)
                for kwargs in (_later_draw(ctx, options, index) for index in indexes)
            ]
            round_ = [future.result() for future in futures]
            spent.extend(round_)
            yield from round_


def _ask_here(
    context: contextvars.Context,
    ctx: NodeContext,
    prompt: list[tuple[str, str]],
    kwargs: dict[str, Any],
) -> Reply:
    """One call in a copy of the node's context: its span is a child of the node's."""
    return context.run(ask_text, ctx.chat, prompt, **kwargs)


def _later_draw(ctx: NodeContext, options: SamplingOptions, index: int) -> dict[str, Any]:
    """Call settings of draw ``index``: later draws hotter, and with their own seed if seeded."""
    return hotter_call(ctx.chat, options.retry_temperature, index) if index else {}


def _syntax_errors(files: dict[str, str], ctx: NodeContext) -> list[str]:
    """Why files of this answer cannot be parsed (an answer cut off at ``max_tokens``)."""
    found = (ctx.language.syntax_error(path, text) for path, text in files.items())
    return [error for error in found if error]


def _draws(state: AgentState, ctx: NodeContext, candidates: int) -> int:
    """How many answers to draw at most: ``candidates``, within the job's model-call budget."""
    if ctx.max_model_calls is None:
        return candidates
    spent = int((state.get("usage") or {}).get("calls", 0))
    return max(1, min(candidates, ctx.max_model_calls - spent))


def _best(drawn: list[_Drawn]) -> list[_Drawn]:
    """The candidates with the best example results, in the order they were drawn."""
    key = max(d[0] for d in drawn)
    return [d for d in drawn if d[0] == key]


def _probe(
    state: AgentState, ctx: NodeContext, examples: bool, options: SamplingOptions
) -> ProbeProgram | None:
    """The language's probe program for this task (``None``: no agreement asked for, no
    probe inputs, or no probes).

    The inputs are varied from the task's examples; for a Python task without
    (working) examples, with ``signature_probes``, made from its function's signature.
    """
    if options.agreement <= 1:
        return None
    if examples:
        calls = probe_calls(task_examples(state["task"]))
    elif options.signature_probes and ctx.language.name == "python":
        calls = signature_calls(state["task"])
    else:
        calls = []
    if not calls:
        return None
    return ctx.language.probe_program(solution_module(state, ctx.language), calls)
