"""The node registry: node kind -> node function.

A workflow names a node kind in one of three ways:

- a built-in name: ``planner``, ``coder``, ``tester``, ``reviewer``, ``test_writer``,
  ``sampling_coder``, ``example_tester``; for repo jobs ``repo_baseline``,
  ``repo_context``, ``repo_coder``, ``repo_tester``, ``repo_tests_tester``;
- an import path ``package.module:function`` (the module must be importable);
- the name of a plugin registered under the entry-point group ``codeagent.nodes``::

      [project.entry-points."codeagent.nodes"]
      lint = "my_package.lint:lint"

A node is a plain function ``(state, ctx: NodeContext) -> dict`` returning a
partial state update; see README.md, "Custom nodes and routes". It declares what
it is with :func:`codeagent.nodes.kinds.node_kind` (its role, its capabilities
and the pydantic model of its ``options:``); :func:`describe_node` gives that
declaration, which the graph's guardrails, approvals and budgets key on. A node
that declares nothing gets the conservative default (it may call a model and
run code, so policy applies to it), and a bare ``options_model`` attribute on it
still declares its options.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from codeagent.nodes.kinds import NodeFn, NodeKind, describe
from codeagent.tools.errors import ConfigError
from codeagent.tools.plugins import import_path, load_entry_point, plugin_names

__all__ = [
    "NODE_GROUP",
    "NodeFn",
    "NodeKind",
    "check_options",
    "describe_node",
    "get_node",
    "load_object",
    "node_kinds",
    "resolve_node",
]

NODE_GROUP = "codeagent.nodes"


def _builtin() -> dict[str, NodeFn]:
    from codeagent.nodes.coder import coder
    from codeagent.nodes.planner import planner
    from codeagent.nodes.repo_coder import repo_coder
    from codeagent.nodes.repo_context import repo_context
    from codeagent.nodes.repo_tester import repo_baseline, repo_tester
    from codeagent.nodes.repo_tests import repo_tests_tester
    from codeagent.nodes.reviewer import reviewer
    from codeagent.nodes.sampling import sampling_coder
    from codeagent.nodes.test_writer import test_writer
    from codeagent.nodes.tester import example_tester, tester

    return {
        "planner": planner,
        "coder": coder,
        "tester": tester,
        "reviewer": reviewer,
        "test_writer": test_writer,
        "sampling_coder": sampling_coder,
        "example_tester": example_tester,
        "repo_baseline": repo_baseline,
        "repo_context": repo_context,
        "repo_coder": repo_coder,
        "repo_tester": repo_tester,
        "repo_tests_tester": repo_tests_tester,
    }


def node_kinds() -> list[str]:
    """Names of the node kinds a workflow may use by name (built-ins and plugins)."""
    return plugin_names(NODE_GROUP, _builtin())


def resolve_node(kind: str) -> NodeFn:
    """The node function for ``kind``: a built-in, an import path or a plugin.

    Raises:
        ConfigError: When the kind is unknown, cannot be imported or is not callable.
    """
    builtin = _builtin().get(kind)
    if builtin is not None:
        return builtin
    if ":" not in kind and kind not in plugin_names(NODE_GROUP):
        raise ConfigError(
            f"unknown node kind {kind!r}",
            hint=f"use one of: {', '.join(node_kinds())}, or an import path 'package.module:func'",
        )
    return load_object(kind, group=NODE_GROUP, what="node kind")


def describe_node(kind: str) -> NodeKind:
    """What ``kind`` is: its function, role, capabilities and options model.

    Raises:
        ConfigError: As :func:`resolve_node`.
    """
    return describe(resolve_node(kind))


def check_options(kind: str, fn: NodeFn, options: dict[str, Any]) -> None:
    """Validate a node's ``options`` against its kind's declared options model.

    Raises:
        ConfigError: Naming the bad option (``location`` is its key path under
        ``options``) and the options the kind takes.
    """
    model = describe(fn).options_model
    if model is None:
        if options:
            raise ConfigError(
                f"node kind {kind!r} takes no options, got: {', '.join(map(str, options))}",
                location=str(next(iter(options))),
                hint="remove 'options:' from this node",
            )
        return
    try:
        model.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        known = ", ".join(model.model_fields)
        what = "unknown option" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(
            f"option {'.'.join(map(str, error['loc']))}: {what}",
            location=".".join(map(str, error["loc"])),
            hint=f"node kind {kind!r} takes: {known}",
        ) from None


def get_node(kind: str) -> NodeFn:
    """The node function for ``kind`` (the workflow loader has validated it first).

    Raises:
        ConfigError: As :func:`resolve_node`.
    """
    return resolve_node(kind)


def load_object(ref: str, *, group: str, what: str) -> Any:
    """Load a callable by import path (``package.module:attr``) or entry-point name.

    Args:
        ref: ``package.module:attr`` (``attr`` may be dotted) or a plugin name.
        group: The entry-point group plugin names are looked up in.
        what: What is being loaded, for messages (``node kind``, ``route``).

    Raises:
        ConfigError: With a hint, when the import fails or the object is not callable.
    """
    obj = import_path(ref, what) if ":" in ref else load_entry_point(group, ref, what)
    if not callable(obj):
        raise ConfigError(
            f"{what} {ref!r} is {type(obj).__name__}, not a function",
            hint="point at a function taking (state, ctx) and returning a dict",
        )
    return obj
