"""The workflow spec: what a ``configs/*.yaml`` file may say, validated by pydantic.

The graph is built from this spec alone: nodes, plain edges, conditional routes
and their retry bounds all come from the file, none from code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codeagent.tools.contracts.model import ModelSpec

__all__ = [
    "END",
    "BudgetSpec",
    "EdgeSpec",
    "GuardrailSpec",
    "ModelSpec",
    "NodeSpec",
    "SandboxSpec",
    "Target",
    "TracingSpec",
    "WorkflowSpec",
]

END = "END"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSpec(_Strict):
    """One node of the graph."""

    kind: str = Field(description="planner, coder, tester or reviewer")
    model: str = "default"
    prompt: str | None = Field(
        default=None, description="Template file replacing the kind's built-in prompt."
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings the node kind reads, e.g. {candidates: 3} for sampling_coder.",
    )


class Target(_Strict):
    """Where a route outcome leads, with an optional retry bound."""

    to: str
    max: int | None = Field(
        default=None,
        ge=0,
        description="How often this branch may be taken in one job; then the job ends failed.",
    )


def _to_target(value: Any) -> Any:
    return {"to": value} if isinstance(value, str) else value


class EdgeSpec(_Strict):
    """A plain edge (``to``) or a conditional route (``route`` + ``branches``)."""

    source: str = Field(alias="from")
    to: str | None = None
    route: str | None = None
    branches: dict[str, Annotated[Target, Field()]] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("branches", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _to_target(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> EdgeSpec:
        if (self.to is None) == (self.route is None):
            raise ValueError("an edge needs either 'to: NODE' or 'route: NAME' with 'branches'")
        if self.route is not None and not self.branches:
            raise ValueError("a route needs 'branches' mapping each outcome to a node or END")
        return self

    def targets(self) -> list[str]:
        """Every node (or END) this edge can lead to."""
        return [self.to] if self.to is not None else [t.to for t in self.branches.values()]


class SandboxSpec(_Strict):
    """Where and how generated code and tests run."""

    backend: str = Field(
        default="auto",
        description=(
            "Where code runs: auto (docker when available, else local), docker, local, or a"
            " backend a plugin registers under the entry-point group codeagent.sandboxes."
        ),
        examples=["auto", "docker", "local"],
    )
    language: str = Field(
        default="python",
        description=(
            "The language adapter: python, javascript, or one a plugin registers under the"
            " entry-point group codeagent.languages."
        ),
        examples=["python", "javascript"],
    )
    image: str | None = None
    timeout_s: float = Field(default=60, gt=0, description="Wall-clock limit of one test run.")
    memory_mb: int = Field(default=1024, gt=0)
    cpus: float = Field(default=1.0, gt=0)
    pids: int = Field(default=128, gt=0)
    workspace_mb: int = Field(
        default=64,
        gt=0,
        description=(
            "Size of the writable workspace in MB (and of /tmp). Raise it for a repository:"
            " its files, and what setup installs, must fit."
        ),
    )
    setup: list[str] = Field(
        default_factory=list,
        description=(
            "Shell commands (sh -c) run once per job in the workspace, in order, after the"
            " repository's files are written and before any model-written code runs; later"
            " sandboxes start from their result (cached per image, commands and files)."
            " They run as the sandbox user: install into the workspace, e.g."
            " 'pip install --target .deps .' (/workspace/.deps is on PYTHONPATH)."
        ),
        examples=[["pip install --no-index --find-links wheels --target .deps mypkg"]],
    )
    setup_network: bool = Field(
        default=False,
        description=(
            "Give the setup commands a network (docker: the default bridge; local: the"
            " host's). The model-written code never has one."
        ),
    )
    setup_timeout_s: float = Field(
        default=600, gt=0, description="Wall-clock limit of all the setup commands together."
    )


class BudgetSpec(_Strict):
    """Per-job limits; when one is spent the job stops with status budget_exceeded."""

    max_model_calls: int | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    max_wall_s: float | None = Field(default=None, gt=0)


class GuardrailSpec(_Strict):
    """A policy checked on plans and generated code before anything runs (not a sandbox)."""

    languages: list[str] | None = Field(
        default=None, description="Languages a workflow may use; None: any."
    )
    forbidden_imports: list[str] = Field(default_factory=list, description="e.g. [socket]")
    forbidden_calls: list[str] = Field(default_factory=list, description="e.g. [eval, os.system]")
    max_files: int | None = Field(default=None, gt=0)
    max_file_bytes: int | None = Field(default=None, gt=0)
    on_violation: Literal["retry", "stop"] = Field(
        default="retry",
        description="retry: send the code back with the reason (counts as an attempt); "
        "stop: end the job with status blocked. A plan that breaks the policy always stops.",
    )


class TracingSpec(_Strict):
    """Where traces go besides the run folder (the OTEL_EXPORTER_OTLP_* variables also work)."""

    endpoint: str | None = Field(
        default=None, description="OTLP endpoint, e.g. http://localhost:4318"
    )
    protocol: Literal["http/protobuf", "grpc"] | None = None
    capture_content: bool = Field(
        default=False, description="Record prompt and completion text on model spans."
    )
    jaeger_ui: str | None = Field(default=None, description="e.g. http://localhost:16686")


class WorkflowSpec(_Strict):
    """A whole workflow file."""

    name: str
    description: str = ""
    models: dict[str, ModelSpec] = Field(default_factory=lambda: {"default": ModelSpec()})
    nodes: dict[str, NodeSpec]
    entry: str | None = None
    edges: list[EdgeSpec]
    sandbox: SandboxSpec = SandboxSpec()
    budgets: BudgetSpec = BudgetSpec()
    tracing: TracingSpec = TracingSpec()
    guardrails: GuardrailSpec = GuardrailSpec()
    approvals: list[Literal["plan", "final"]] = Field(
        default_factory=list,
        description="Pause for a human: after each plan, and/or before a successful end.",
    )
    rollback: Literal["off", "last_passing"] = Field(
        default="off",
        description="last_passing: when the tests fail after an earlier version passed them "
        "all, restore that version before the fail branch (the coder redoes the change).",
    )

    @model_validator(mode="after")
    def _allowed_language(self) -> WorkflowSpec:
        allowed = self.guardrails.languages
        if allowed is not None and self.sandbox.language not in allowed:
            language = self.sandbox.language
            raise ValueError(
                f"sandbox.language {language!r} is not in guardrails.languages {allowed}"
            )
        return self

    @property
    def entry_node(self) -> str:
        """The node a job starts at: ``entry``, else the first node listed."""
        return self.entry or next(iter(self.nodes))

    def edges_from(self, node: str) -> EdgeSpec | None:
        """The edge leaving ``node``, if any."""
        return next((e for e in self.edges if e.source == node), None)
