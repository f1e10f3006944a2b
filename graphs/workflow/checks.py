"""Workflow warnings: things that load fine but will likely fail or surprise at run time.

``codeagent validate`` shows them after the schema and graph checks (which are
errors, see :mod:`codeagent.graphs.workflow.loader`). Warnings are returned as data, never printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from codeagent.graphs.workflow.loader import load_workflow, locate
from codeagent.graphs.workflow.spec import WorkflowSpec
from codeagent.tools.errors import CodeAgentError

__all__ = ["WorkflowCheck", "WorkflowWarning", "check_workflow", "workflow_warnings"]


@dataclass(frozen=True)
class WorkflowWarning:
    """One warning about a valid workflow, with where it points and how to fix it."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    location: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        text = (f"{where}: " if where else "") + (f"{self.location}: " if self.location else "")
        text += self.message
        return text if not self.hint else f"{text}\n  hint: {self.hint}"


@dataclass(frozen=True)
class WorkflowCheck:
    """A validated workflow and its warnings."""

    spec: WorkflowSpec
    path: Path
    warnings: list[WorkflowWarning]


def check_workflow(ref: str | Path, env: Mapping[str, str] | None = None) -> WorkflowCheck:
    """Load a workflow (errors raise) and collect its warnings.

    Args:
        ref: A workflow file or shipped name.
        env: The environment to check variables in (default ``os.environ``).

    Raises:
        ConfigError: For schema and graph errors, with file:line:column and a hint.
    """
    spec, path = load_workflow(ref)
    text = path.read_text(encoding="utf-8")
    found = workflow_warnings(spec, text, str(path), path.parent, env)
    return WorkflowCheck(spec, path, found)


def workflow_warnings(
    spec: WorkflowSpec,
    text: str,
    filename: str,
    base_dir: Path,
    env: Mapping[str, str] | None = None,
) -> list[WorkflowWarning]:
    """Warnings for a workflow that passed :func:`.loader.parse_workflow` (no output).

    Checks: unused and unknown models, model env vars that are not set, and missing
    script and prompt files. (An unknown sandbox language or backend is an error.)
    """
    environ = os.environ if env is None else env
    tree = yaml.compose(text)

    def warn(message: str, loc: tuple[Any, ...], hint: str) -> WorkflowWarning:
        line, column = locate(tree, loc)
        dotted = ".".join(str(p) for p in loc)
        return WorkflowWarning(message, filename, line, column, dotted, hint)

    out = _model_warnings(spec, base_dir, environ, warn)
    out += _node_warnings(spec, base_dir, warn)
    return out


def _model_warnings(
    spec: WorkflowSpec, base_dir: Path, environ: Mapping[str, str], warn: Any
) -> list[WorkflowWarning]:
    used = {node.model for node in spec.nodes.values()}
    out = []
    for name, model in spec.models.items():
        loc = ("models", name)
        if name not in used:
            out.append(warn(f"model {name!r} is not used by any node", loc, "remove it"))
            continue
        if model.provider == "scripted" and model.script:
            if not (base_dir / model.script).is_file():
                out.append(
                    warn(
                        f"script file {model.script!r} not found",
                        (*loc, "script"),
                        "script paths are relative to the workflow file",
                    )
                )
        elif model.provider == "local":
            out += _local_model_warnings(model.model, (*loc, "model"), warn)
        elif model.provider == "openai":
            out += _env_warnings(model, loc, environ, warn)
        elif model.provider == "auto" and _env_warnings(model, loc, environ, warn):
            # no endpoint or key: the embedded model is used, so it must be installed
            out += _local_model_warnings(model.local_model, (*loc, "local_model"), warn)
    return out


def _env_warnings(
    model: Any, loc: tuple[Any, ...], environ: Mapping[str, str], warn: Any
) -> list[WorkflowWarning]:
    if model.base_url or environ.get("OPENAI_BASE_URL"):
        return []  # a local server (vLLM, Ollama, llama.cpp) often needs no key
    if model.api_key_env and environ.get(model.api_key_env):
        return []
    name = model.api_key_env or "OPENAI_API_KEY"
    return [
        warn(
            f"environment variable {name} is not set and no base_url is given",
            (*loc, "api_key_env") if "api_key_env" in model.model_fields_set else loc,
            f"export {name}=... , or set base_url (or OPENAI_BASE_URL) to an "
            "OpenAI-compatible server",
        )
    ]


def _local_model_warnings(name: str, loc: tuple[Any, ...], warn: Any) -> list[WorkflowWarning]:
    try:
        from codeagent.tools.models.local import resolve_model_path
    except ImportError:  # the embedded model's extra is not installed
        return []
    try:
        resolve_model_path(name)
    except CodeAgentError as exc:
        return [warn(exc.message, loc, exc.hint or "")]
    return []


def _node_warnings(spec: WorkflowSpec, base_dir: Path, warn: Any) -> list[WorkflowWarning]:
    from codeagent.nodes.prompts import load_template, render

    out = []
    for node_id, node in spec.nodes.items():
        if node.prompt is None:
            continue
        loc = ("nodes", node_id, "prompt")
        try:
            render(load_template(node.kind, base_dir / node.prompt))
        except CodeAgentError as exc:
            out.append(warn(exc.message, loc, exc.hint or ""))
    return out
