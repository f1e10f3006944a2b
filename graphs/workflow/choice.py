"""Which workflow a job runs when the caller names none: the one measured best for the model
that will answer.

``default`` (plan, code, test, review) is the workflow for a capable remote model. When no
endpoint or key is configured, ``provider: auto`` resolves to the embedded model, and on
that model ``small-model`` measured best (README, "Evaluating the agent": HumanEval
every-4 and held-out, seeded, ``default`` vs ``small-model`` vs one call). So a job that
names no workflow runs ``small-model`` there, and its summary says so and why. A workflow
named by the caller is always run as named; a caller's own chat model (a scripted one, a
worker's factory) is not the embedded model, so it keeps ``default``. A repository job runs
``repo-fix``; on the embedded model its summary says that repo mode did not work there
(README, "Repository tasks": 0 of 18 pilot tasks) and how to use a stronger model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.models.llm import resolve_provider

__all__ = ["DEFAULT", "EMBEDDED", "REPO_DEFAULT", "WorkflowChoice", "choose_workflow"]

DEFAULT = "default"
REPO_DEFAULT = "repo-fix"
EMBEDDED = "small-model"  # measured best on the embedded model (see the module docstring)


@dataclass(frozen=True)
class WorkflowChoice:
    """The workflow to run, and why codeagent chose it (``None``: the caller named it, or
    it is the plain default)."""

    workflow: str | Path | WorkflowSpec
    reason: str | None = None


def choose_workflow(
    requested: str | Path | WorkflowSpec | None, *, repo: bool = False, own_model: bool = False
) -> WorkflowChoice:
    """The workflow for a job: ``requested`` when given, else the default for its model.

    Args:
        requested: The workflow the caller named (a file, a shipped name, a spec), or None.
        repo: A repository job (its default is ``repo-fix``, whatever the model).
        own_model: The caller supplies the chat model (the default's model is not used).

    Raises:
        ConfigError: When the shipped default workflow cannot be read (a broken install).
    """
    if requested is not None:
        return WorkflowChoice(requested)
    if repo:
        if own_model or not _embedded_default(REPO_DEFAULT):
            return WorkflowChoice(REPO_DEFAULT)
        return WorkflowChoice(
            REPO_DEFAULT,
            "no model endpoint is configured, so the embedded model answers; on it repo mode"
            " resolved 0 of the 18 pilot tasks (README, Repository tasks): set OPENAI_BASE_URL"
            " or OPENAI_API_KEY for a stronger model",
        )
    if own_model or not _embedded_default():
        return WorkflowChoice(DEFAULT)
    return WorkflowChoice(
        EMBEDDED,
        f"no model endpoint is configured, so the embedded model answers and {EMBEDDED!r} "
        f"measured best on it; --workflow {DEFAULT} runs plan, code, test and review",
    )


def _embedded_default(workflow: str = DEFAULT) -> bool:
    """True when the shipped ``workflow``'s model resolves to the embedded model."""
    spec, _ = load_workflow(workflow)
    return resolve_provider(spec.models["default"]).provider == "local"
