"""Node and route registries: built-ins, import paths and entry-point plugins."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import codeagent.graphs.routes as routes
import codeagent.nodes.registry as registry
import codeagent.tools.plugins as tool_plugins
from codeagent.configs.examples import lint as example
from codeagent.graphs.routes import Route, decide, get_route, route
from codeagent.graphs.workflow.loader import parse_workflow
from codeagent.nodes.kinds import UNDECLARED_CAPABILITIES, node_kind
from codeagent.nodes.sampling import SamplingOptions
from codeagent.tools.errors import ConfigError
from tests import custom_nodes

WORKFLOW = """\
name: custom
nodes:
  code: {kind: coder}
  lint: {kind: "KIND"}
  test: {kind: tester}
edges:
  - {from: code, to: lint}
  - from: lint
    route: "ROUTE"
    branches:
      clean: test
      issues: {to: code, max: 2}
  - {from: test, to: END}
"""


def _workflow(kind: str = "codeagent.configs.examples.lint:lint", name: str = "") -> str:
    chosen = name or "codeagent.configs.examples.lint:lint_outcome"
    return WORKFLOW.replace("KIND", kind).replace("ROUTE", chosen)


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_workflow(text, "wf.yaml")
    return info.value


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Entry points as if a plugin package were installed."""
    found: list[EntryPoint] = []

    def fake(group: str) -> list[EntryPoint]:
        return [ep for ep in found if ep.group == group]

    monkeypatch.setattr(tool_plugins, "entry_points", fake)
    get_route.cache_clear()
    yield found
    get_route.cache_clear()


def test_built_in_kinds_are_listed() -> None:
    assert {"planner", "coder", "tester", "reviewer", "test_writer"} <= set(registry.node_kinds())
    assert registry.get_node("coder").__name__ == "coder"


def test_a_node_kind_by_import_path() -> None:
    spec = parse_workflow(_workflow())
    assert registry.get_node(spec.nodes["lint"].kind) is example.lint
    assert get_route("codeagent.configs.examples.lint:lint_outcome") is example.lint_outcome


def test_an_unimportable_module_points_at_the_kind() -> None:
    err = _error(_workflow(kind="no_such_pkg.lint:lint"))
    assert (err.line, err.location) == (4, "nodes.lint.kind")
    assert "cannot import node kind 'no_such_pkg.lint:lint'" in str(err)
    assert err.hint is not None and "PYTHONPATH" in err.hint


def test_a_missing_function_is_named() -> None:
    err = _error(_workflow(kind="codeagent.configs.examples.lint:nope"))
    assert "has no attribute 'nope'" in str(err)


def test_a_kind_that_is_not_callable() -> None:
    err = _error(_workflow(kind="codeagent.configs.examples.lint:_BY"))
    assert "is str, not a function" in str(err)
    assert err.hint is not None and "(state, ctx)" in err.hint


def test_a_bad_import_path() -> None:
    err = _error(_workflow(kind=":lint"))
    assert "not a valid import path" in str(err)


def test_a_node_plugin_by_entry_point_name(plugins: list[EntryPoint]) -> None:
    plugins.append(EntryPoint("lint", "codeagent.configs.examples.lint:lint", "codeagent.nodes"))
    assert "lint" in registry.node_kinds()
    spec = parse_workflow(_workflow(kind="lint"))
    assert registry.get_node(spec.nodes["lint"].kind) is example.lint


def test_a_broken_plugin_gets_a_hint(plugins: list[EntryPoint]) -> None:
    plugins.append(EntryPoint("lint", "no_such_pkg:lint", "codeagent.nodes"))
    err = _error(_workflow(kind="lint"))
    assert "cannot load node kind plugin 'lint'" in str(err) and err.line == 4
    assert err.hint is not None


def test_a_route_plugin_by_entry_point_name(plugins: list[EntryPoint]) -> None:
    plugins.append(
        EntryPoint("lint", "codeagent.configs.examples.lint:lint_outcome", "codeagent.routes")
    )
    assert "lint" in routes.route_names()
    spec = parse_workflow(_workflow(name="lint"))
    assert get_route("lint").outcomes == ("clean", "issues")
    t = decide(spec, "lint", {"review": {"by": "lint", "comments": ["x.py:1: bare except"]}})
    assert (t.to, t.outcome) == ("code", "issues")


def test_a_route_must_declare_its_outcomes() -> None:
    err = _error(_workflow(name="codeagent.configs.examples.lint:lint_source"))
    assert "does not declare its outcomes" in str(err) and err.line == 9
    assert err.hint is not None and "@graphs.routes.route" in err.hint


def test_branches_are_checked_against_declared_outcomes() -> None:
    err = _error(_workflow().replace("issues:", "problems:"))
    assert "has no outcome 'problems'" in str(err)
    assert err.hint is not None and "clean, issues" in err.hint


def test_an_unknown_route_name_lists_the_known_ones() -> None:
    err = _error(_workflow(name="vibes"))
    assert "unknown route 'vibes'" in str(err)
    assert err.hint is not None and "tests" in err.hint and "package.module:name" in err.hint


def test_a_route_returning_an_undeclared_outcome_fails_clearly() -> None:
    @route("yes", "no", success={"yes"})
    def odd(state: Any) -> tuple[str, str]:
        return "maybe", "undecided"

    assert isinstance(odd, Route)
    with pytest.raises(ConfigError, match="returned outcome 'maybe'"):
        odd({})


def test_the_route_decorator_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="at least one outcome"):
        route()
    with pytest.raises(ValueError, match="not outcomes"):
        route("a", success={"b"})


def test_a_custom_route_decides_success_at_end() -> None:
    text = _workflow().replace("clean: test", "clean: END").replace("  test: {kind: tester}\n", "")
    text = text.replace("  - {from: test, to: END}\n", "")
    spec = parse_workflow(text)
    t = decide(spec, "lint", {"review": {"by": "lint", "verdict": "approve", "comments": []}})
    assert (t.to, t.outcome, t.status) == ("END", "clean", "success")


def test_built_in_kinds_declare_their_role_and_capabilities() -> None:
    declared = {k: registry.describe_node(k) for k in registry.node_kinds()}

    assert {k: d.role for k, d in declared.items()} == {
        "planner": "planner",
        "coder": "coder",
        "sampling_coder": "coder",
        "tester": "tester",
        "example_tester": "tester",
        "test_writer": "tester",
        "reviewer": "reviewer",
        "repo_baseline": "other",
        "repo_context": "other",
        "repo_coder": "coder",
        "repo_tester": "tester",
        "repo_tests_tester": "tester",
    }
    assert all(d.declared for d in declared.values())
    no_model = {k for k, d in declared.items() if not d.can("calls_model")}
    # they only run the repo's tests
    assert no_model == {"repo_baseline", "repo_tester", "repo_tests_tester"}
    assert {k for k, d in declared.items() if d.runs_job_code} == {
        "tester",
        "example_tester",
        "repo_baseline",
        "repo_tester",
        "repo_tests_tester",
    }
    writes = {k for k, d in declared.items() if d.can("writes_code")}
    assert writes == {"coder", "sampling_coder", "repo_coder"}
    assert declared["sampling_coder"].can("runs_code")
    assert declared["sampling_coder"].options_model is SamplingOptions


def test_a_custom_node_declares_itself_with_the_decorator() -> None:
    kind = registry.describe_node("tests.custom_nodes:import_check")

    assert (kind.role, kind.capabilities, kind.declared) == ("tester", {"runs_code"}, True)
    assert kind.fn is custom_nodes.import_check
    assert kind.options_model is custom_nodes.ImportCheckOptions
    spec = parse_workflow(_workflow(kind="tests.custom_nodes:import_check"))
    assert registry.describe_node(spec.nodes["lint"].kind).runs_job_code
    with_options = WORKFLOW.replace('{kind: "KIND"}', '{kind: "KIND", options: {modul: x}}')
    err = _error(with_options.replace("KIND", "tests.custom_nodes:import_check"))
    assert "option modul: unknown option" in str(err) and err.hint is not None
    assert "takes: module" in err.hint


def test_an_undeclared_plugin_may_call_a_model_and_run_code(plugins: list[EntryPoint]) -> None:
    plugins.append(EntryPoint("smoke", "tests.custom_nodes:smoke", "codeagent.nodes"))
    kind = registry.describe_node("smoke")

    assert (kind.role, kind.declared, kind.options_model) == ("other", False, None)
    assert kind.capabilities == UNDECLARED_CAPABILITIES == {"calls_model", "runs_code"}
    assert kind.runs_job_code  # so the guardrails check the job's code before it runs


def test_a_bare_options_model_attribute_still_declares_options() -> None:
    def legacy(state: Any, ctx: Any) -> dict[str, Any]:
        return {}

    legacy.options_model = custom_nodes.ImportCheckOptions  # type: ignore[attr-defined]
    registry.check_options("legacy", legacy, {"module": "other"})
    with pytest.raises(ConfigError, match="option strict: unknown option"):
        registry.check_options("legacy", legacy, {"strict": True})


def test_the_node_kind_decorator_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="unknown role 'linter'"):
        node_kind(role="linter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown capabilities \['network'\]"):
        node_kind(capabilities={"network"})  # type: ignore[arg-type]
