"""What a node gets besides the state: its injected dependencies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from codeagent.tools.guardrails import Policy, check_code
from codeagent.tools.languages import LanguageAdapter
from codeagent.tools.sandbox import Sandbox

if TYPE_CHECKING:
    from codeagent.tools.repo.snapshot import Snapshot

__all__ = ["NodeContext"]


@dataclass(frozen=True)
class NodeContext:
    """A node's dependencies; built once per node by the graph builder.

    Attributes:
        node_id: The node's id in the workflow.
        make_chat: Builds the node's chat model (called at most once, on first use).
        structured: How to ask for JSON: ``json_schema`` or ``prompt``.
        language: The language adapter.
        open_sandbox: Creates a fresh (not started) sandbox. In a graph it is gated by
            the workflow's policy: running code that breaks it raises
            :class:`~codeagent.tools.errors.PolicyViolation` instead (see
            :mod:`codeagent.tools.sandbox.policy`).
        test_timeout_s: Wall-clock limit of one test run.
        prompt_file: A template replacing the kind's built-in prompt.
        options: The node's ``options`` from the workflow (kind-specific settings).
        max_model_calls: The job's model-call budget (None: none). A node that makes
            several calls stops drawing before the job's calls reach it.
        policy: The workflow's guardrails (empty: nothing forbidden).
        load_snapshot: Loads a repository snapshot by id from the job's state dir
            (repo jobs; None where the graph was built without one).
    """

    node_id: str
    make_chat: Callable[[], BaseChatModel]
    structured: str
    language: LanguageAdapter
    open_sandbox: Callable[[], Sandbox]
    test_timeout_s: float = 60.0
    prompt_file: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    max_model_calls: int | None = None
    policy: Policy = field(default_factory=Policy)
    load_snapshot: Callable[[str], Snapshot] | None = None

    def check_code(self, files: Mapping[str, str]) -> list[str]:
        """What in ``files`` (solution sources, not tests) breaks the policy; empty: nothing.

        A node that draws several answers checks each before running it, so that
        one breaking the policy is rejected without ever running.
        """
        return check_code(files, self.policy)

    @cached_property
    def chat(self) -> BaseChatModel:
        """The node's chat model (built lazily: a local model starts only when used)."""
        return self.make_chat()
