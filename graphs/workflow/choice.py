"""Which workflow a job runs when the caller names none: the one measured best for the model
that will answer.

``default`` (plan, code, test, review) is the workflow for a capable remote model. When no
endpoint or key is configured, ``provider: auto`` resolves to the embedded model, and on
that model ``small-model`` measured best (README, "Evaluating the agent": HumanEval
every-4 and held-out, seeded, ``default`` vs ``small-model`` vs one call). So a job that
names no workflow runs ``small-model`` there, and its summary says so and why. A workflow
named by the caller is always run as named; a caller's own chat model (a scripted one, a
worker's factory) is not the embedded model, so it keeps ``default``. A repository job runs
``repo-fix``, or on the embedded model ``repo-fix-small`` (one function at a time, chosen by
the agent), which measured best there (README, "Repository tasks": 2 of the 18 pilot
tasks and 2 of the 9 held out, vs 0 of 18 for ``repo-fix``); its summary says so and how
to use a stronger model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeagent.graphs.workflow.loader import load_workflow
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.models.llm import resolve_provider

__all__ = [
    "DEFAULT",
    "EMBEDDED",
    "REPO_DEFAULT",
    "REPO_EMBEDDED",
    "WorkflowChoice",
    "choose_workflow",
]

DEFAULT = "default"
REPO_DEFAULT = "repo-fix"
EMBEDDED = "small-model"  # measured best on the embedded model (see the module docstring)
REPO_EMBEDDED = "repo-fix-small"  # the same, for repository jobs


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
        repo: A repository job (``repo-fix``; ``repo-fix-small`` on the embedded model).
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
            REPO_EMBEDDED,
            f"no model endpoint is configured, so the embedded model answers and"
            f" {REPO_EMBEDDED!r} measured best on it (2 of the 18 pilot tasks"
            f" and 2 of the 9 held out; {REPO_DEFAULT!r}: 0 of 18); set OPENAI_BASE_URL or"
            f" OPENAI_API_KEY for a stronger model and {REPO_DEFAULT!r}",
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
