"""Workflow files: every mistake is a ConfigError naming file, line, location and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.configs import shipped_workflows, workflow_path
from codeagent.graphs.workflow.loader import load_workflow, parse_workflow
from codeagent.tools.errors import ConfigError

GOOD = """\
name: mine
nodes:
  code: {kind: coder}
  test: {kind: tester}
edges:
  - {from: code, to: test}
  - from: test
    route: tests
    branches:
      pass: END
      fail: {to: code, max: 2}
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_workflow(text, "wf.yaml")
    return info.value


@pytest.mark.parametrize("name", shipped_workflows())
def test_every_shipped_workflow_is_valid(name: str) -> None:
    path = workflow_path(name)
    assert path is not None
    spec, resolved = load_workflow(str(path))
    assert spec.name == name
    assert resolved == path


def test_a_shipped_workflow_loads_by_name() -> None:
    spec, path = load_workflow("default")
    assert path.name == "default.yaml"
    assert list(spec.nodes) == ["plan", "code", "test", "review"]


def test_a_good_file_parses() -> None:
    spec = parse_workflow(GOOD)
    assert spec.entry_node == "code"
    edge = spec.edges_from("test")
    assert edge is not None and edge.branches["fail"].max == 2


def test_invalid_yaml_points_at_the_line() -> None:
    err = _error("name: x\nnodes:\n  code: {kind: coder\n")
    assert err.file == "wf.yaml" and err.line == 4
    assert "invalid YAML" in str(err)
    assert err.hint


def test_unknown_key_points_at_its_line() -> None:
    err = _error(GOOD.replace("  test: {kind: tester}", "  test: {kind: tester, colour: red}"))
    assert err.line == 4
    assert err.location == "nodes.test.colour"
    assert "unknown key" in str(err)
    assert str(err).startswith("wf.yaml:4:")


def test_unknown_node_kind() -> None:
    err = _error(GOOD.replace("kind: tester", "kind: tessster"))
    assert err.line == 4 and err.location == "nodes.test.kind"
    assert "unknown node kind 'tessster'" in str(err)
    assert err.hint is not None and "tester" in err.hint


def test_edge_to_an_unknown_node() -> None:
    err = _error(GOOD.replace("pass: END", "pass: deploy"))
    assert err.line == 10
    assert "unknown node 'deploy'" in str(err)


def test_a_loop_without_a_retry_bound() -> None:
    err = _error(GOOD.replace("fail: {to: code, max: 2}", "fail: code"))
    assert "loop code -> test -> code has no retry bound" in str(err)
    assert err.hint is not None and "max" in err.hint


def test_a_route_outcome_without_a_target() -> None:
    err = _error(GOOD.replace("      pass: END\n", ""))
    assert "does not say where outcome(s) ['pass'] go" in str(err)


def test_an_unknown_route() -> None:
    err = _error(GOOD.replace("route: tests", "route: vibes"))
    assert err.line == 8 and "unknown route 'vibes'" in str(err)


def test_an_unreachable_node() -> None:
    text = GOOD.replace(
        "  test: {kind: tester}\n", "  test: {kind: tester}\n  lint: {kind: reviewer}\n"
    )
    text += "  - {from: lint, to: END}\n"
    err = _error(text)
    assert "node 'lint' can never run" in str(err)


def test_a_node_without_an_outgoing_edge() -> None:
    text = GOOD.replace("  - {from: code, to: test}\n", "")
    err = _error(text)
    assert "node 'code' has no outgoing edge" in str(err)


def test_an_unknown_model() -> None:
    err = _error(GOOD.replace("{kind: coder}", "{kind: coder, model: big}"))
    assert "model 'big'" in str(err) and err.line == 3


def test_an_api_key_in_place_of_its_env_var_name_is_refused() -> None:
    text = GOOD + "models:\n  default:\n    api_key_env: sk-abc123-secret\n"
    err = _error(text)
    assert "NAME of an environment variable" in str(err)
    assert err.line == 14
    assert "sk-abc123" not in str(err)  # a pasted key is not echoed back


def test_a_list_instead_of_a_mapping() -> None:
    err = _error("- just\n- a list\n")
    assert "must be a YAML mapping" in str(err)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_workflow(str(tmp_path / "nope.yaml"))
