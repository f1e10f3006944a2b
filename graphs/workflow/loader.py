"""Load a workflow YAML file into a :class:`WorkflowSpec`, or fail with file:line and a hint."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from codeagent.graphs.routes import Route, get_route
from codeagent.graphs.workflow.shipped import workflow_path
from codeagent.graphs.workflow.spec import END, WorkflowSpec
from codeagent.nodes.registry import check_options, resolve_node
from codeagent.tools.errors import ConfigError
from codeagent.tools.languages import get_adapter
from codeagent.tools.sandbox import get_backend

__all__ = ["load_workflow", "locate", "parse_workflow"]


def load_workflow(ref: str | Path) -> tuple[WorkflowSpec, Path]:
    """Read and validate a workflow.

    Args:
        ref: A path to a YAML file, or the name of a shipped workflow (``default``).

    Returns:
        The validated spec and the resolved file path (prompt overrides and
        scripts are relative to it).

    Raises:
        ConfigError: With file, line, location and a hint, for any mistake.
    """
    path = Path(ref)
    if not path.exists() and isinstance(ref, str) and "/" not in ref and not ref.endswith(".yaml"):
        shipped = workflow_path(ref)
        if shipped is not None:
            path = shipped
    if not path.is_file():
        raise ConfigError(
            f"workflow file {str(ref)!r} not found",
            hint="give a path to a YAML file or a shipped workflow name such as 'default'",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read workflow file: {exc}", file=str(path)) from exc
    return parse_workflow(text, str(path)), path.resolve()


def parse_workflow(text: str, filename: str = "<workflow>") -> WorkflowSpec:
    """Validate workflow YAML text (pure: no file access).

    The spec is frozen, so the same text in the same process (a batch, an eval, a
    resume) is parsed once.
    """
    return _parse(text, filename)


@lru_cache(maxsize=64)
def _parse(text: str, filename: str) -> WorkflowSpec:
    try:
        tree = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}",
            file=filename,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="check indentation and that every 'key: value' has a space after the colon",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "a workflow file must be a YAML mapping (name:, nodes:, edges:, ...)",
            file=filename,
            line=1,
            hint="start from a copy of configs/default.yaml",
        )
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, tree, filename) from None
    _check_graph(spec, tree, filename)
    return spec


def _config_error(exc: ValidationError, tree: yaml.Node | None, filename: str) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function")))
    line, column = _locate(tree, loc)
    message = _describe(first)
    if len(errors) > 1:
        rest = "; ".join(f"{_dotted(e['loc'])}: {_describe(e)}" for e in errors[1:4])
        message += f" (and {len(errors) - 1} more: {rest})"
    hint = "see the config reference in README.md"
    if first["type"] == "extra_forbidden":
        hint = "remove or correct the key; the allowed keys are listed in README.md"
    return ConfigError(
        message, file=filename, line=line, column=column, location=_dotted(loc), hint=hint
    )


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def _dotted(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def locate(node: yaml.Node | None, loc: Sequence[Any]) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest YAML node on the path ``loc``.

    Args:
        node: The composed YAML tree (``yaml.compose(text)``).
        loc: Keys and list indexes, e.g. ``("nodes", "code", "kind")``.
    """
    if node is None:
        return None, None
    found = node
    for part in loc:
        child = None
        if isinstance(found, yaml.MappingNode):
            for key, value in found.value:
                if key.value == part or (part == "source" and key.value == "from"):
                    child = value if not isinstance(value, yaml.ScalarNode) else key
                    break
        elif (
            isinstance(found, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(found.value)
        ):
            child = found.value[part]
        if child is None:
            break
        found = child
    return found.start_mark.line + 1, found.start_mark.column + 1


_locate = locate


def _check_graph(spec: WorkflowSpec, tree: yaml.Node | None, filename: str) -> None:
    def fail(message: str, loc: tuple[Any, ...], hint: str) -> ConfigError:
        line, column = _locate(tree, loc)
        return ConfigError(
            message, file=filename, line=line, column=column, location=_dotted(loc), hint=hint
        )

    known = list(spec.nodes)
    for node_id, node in spec.nodes.items():
        try:
            fn = resolve_node(node.kind)
        except ConfigError as exc:
            raise fail(exc.message, ("nodes", node_id, "kind"), exc.hint or "") from None
        try:
            check_options(node.kind, fn, node.options)
        except ConfigError as exc:
            path = tuple((exc.location or "").split("."))
            raise fail(exc.message, ("nodes", node_id, "options", *path), exc.hint or "") from None
        if node.model not in spec.models:
            raise fail(
                f"node uses model {node.model!r}, which is not defined under 'models'",
                ("nodes", node_id, "model"),
                f"define it under models: or use one of: {', '.join(spec.models)}",
            )
    _check_sandbox(spec, fail)
    if spec.entry is not None and spec.entry not in spec.nodes:
        raise fail(f"entry node {spec.entry!r} is not defined", ("entry",), f"use one of: {known}")
    seen: set[str] = set()
    for i, edge in enumerate(spec.edges):
        _check_edge(spec, edge, i, seen, fail)
    for node_id in spec.nodes:
        if node_id not in seen:
            raise fail(
                f"node {node_id!r} has no outgoing edge",
                ("nodes", node_id),
                f"add an edge such as '- {{from: {node_id}, to: END}}'",
            )
    _check_reachable(spec, fail)
    _check_unbounded_cycles(spec, fail)


def _check_sandbox(spec: WorkflowSpec, fail: Any) -> None:
    """The language and the backend name an adapter and a backend (built-in or plugin)."""
    try:
        get_adapter(spec.sandbox.language)
    except ConfigError as exc:
        raise fail(exc.message, ("sandbox", "language"), exc.hint or "") from None
    try:
        get_backend(spec.sandbox.backend)
    except ConfigError as exc:
        raise fail(exc.message, ("sandbox", "backend"), exc.hint or "") from None


def _check_edge(spec: WorkflowSpec, edge: Any, i: int, seen: set[str], fail: Any) -> None:
    if edge.source not in spec.nodes:
        raise fail(
            f"edge starts at unknown node {edge.source!r}",
            ("edges", i, "source"),
            f"use one of: {', '.join(spec.nodes)}",
        )
    if edge.source in seen:
        raise fail(
            f"node {edge.source!r} has more than one outgoing edge",
            ("edges", i),
            "use one 'route:' with 'branches:' for a conditional choice",
        )
    seen.add(edge.source)
    if edge.route is not None:
        try:
            route: Route = get_route(edge.route)
        except ConfigError as exc:
            raise fail(exc.message, ("edges", i, "route"), exc.hint or "") from None
        for outcome in edge.branches:
            if outcome not in route.outcomes:
                raise fail(
                    f"route {edge.route!r} has no outcome {outcome!r}",
                    ("edges", i, "branches", outcome),
                    f"its outcomes are: {', '.join(route.outcomes)}",
                )
        missing = [o for o in route.outcomes if o not in edge.branches]
        if missing:
            raise fail(
                f"route {edge.route!r} does not say where outcome(s) {missing} go",
                ("edges", i, "branches"),
                "map every outcome to a node or END",
            )
    for j, target in enumerate(edge.targets()):
        if target != END and target not in spec.nodes:
            loc = (
                ("edges", i, "to") if edge.to else ("edges", i, "branches", list(edge.branches)[j])
            )
            raise fail(
                f"edge leads to unknown node {target!r}",
                loc,
                f"use END or one of: {', '.join(spec.nodes)}",
            )


def _check_reachable(spec: WorkflowSpec, fail: Any) -> None:
    reached, todo = set(), [spec.entry_node]
    while todo:
        node = todo.pop()
        if node in reached or node == END:
            continue
        reached.add(node)
        edge = spec.edges_from(node)
        todo.extend(edge.targets() if edge else [])
    for node_id in spec.nodes:
        if node_id not in reached:
            raise fail(
                f"node {node_id!r} can never run: no edge leads to it from {spec.entry_node!r}",
                ("nodes", node_id),
                "add an edge to it or remove it",
            )


def _check_unbounded_cycles(spec: WorkflowSpec, fail: Any) -> None:
    """Every loop must pass through a branch with ``max:``, or a job could run forever."""
    graph: dict[str, list[str]] = {}
    for edge in spec.edges:
        if edge.to is not None:
            graph[edge.source] = [edge.to]
        else:
            graph[edge.source] = [t.to for t in edge.branches.values() if t.max is None]
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if nxt == END:
                continue
            if state.get(nxt) == 1:
                cycle = " -> ".join([*path[path.index(nxt) :], nxt])
                raise fail(
                    f"the loop {cycle} has no retry bound",
                    ("edges",),
                    "give the branch that goes back a bound, e.g. 'fail: {to: code, max: 3}'",
                )
            if state.get(nxt) is None:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in spec.nodes:
        if node not in state:
            visit(node, [node])
