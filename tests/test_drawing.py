"""Drawing a workflow: Mermaid text with retry bounds, DOT, PNG only with a local renderer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codeagent.graphs.workflow import drawing
from codeagent.graphs.workflow.drawing import to_dot, to_mermaid, write_png
from codeagent.graphs.workflow.loader import load_workflow
from codeagent.tools.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "configs" / "examples" / "lint.yaml"


def test_mermaid_of_the_default_workflow() -> None:
    text = to_mermaid(load_workflow("default")[0])
    assert text.startswith("flowchart TD\n")
    assert '    n_plan["plan<br/>(planner)"]' in text
    assert "    __start__ --> n_plan" in text
    assert "    n_plan --> n_code" in text
    assert '    n_test -->|"pass"| n_review' in text
    assert '    n_test -->|"fail (max 3)"| n_code' in text
    assert '    n_review -->|"approve"| __end__' in text
    assert '    n_review -->|"changes (max 2)"| n_code' in text


def test_a_custom_node_and_route_are_drawn() -> None:
    text = to_mermaid(load_workflow(str(EXAMPLE))[0])
    assert "(codeagent.configs.examples.lint:lint)" in text
    assert 'n_lint -->|"issues (max 2)"| n_code' in text


def test_dot_has_the_same_edges() -> None:
    text = to_dot(load_workflow("quick")[0])
    assert text.startswith('digraph "quick" {')
    assert '    n_test -> n_code [label="fail (max 3)"];' in text
    assert '    n_test -> __end__ [label="pass"];' in text


def test_png_without_a_renderer_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(drawing.shutil, "which", lambda _: None)
    with pytest.raises(ConfigError) as info:
        write_png(load_workflow("default")[0], tmp_path / "g.png")
    assert "no offline renderer" in str(info.value)
    assert info.value.hint is not None and "graphviz" in info.value.hint


def test_png_with_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A stand-in ``dot`` on PATH checks it gets DOT text and is asked for a PNG."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\ngrep -q "^digraph" "$2" && [ "$1" = -Tpng ] && cp "$2" "$4"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(drawing, "png_renderer", lambda: "dot")

    out = tmp_path / "g.png"
    assert write_png(load_workflow("default")[0], out) == "dot"
    assert out.read_text().startswith('digraph "default"')
