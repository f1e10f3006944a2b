"""Draw a workflow: Mermaid text (always), PNG when an offline renderer is installed.

The Mermaid text pastes into GitHub markdown, https://mermaid.live or any Mermaid
viewer. A PNG needs one of two local programs: ``mmdc`` (mermaid-cli, from npm) or
``dot`` (Graphviz); nothing is sent to an online renderer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from codeagent.graphs.workflow.spec import END, EdgeSpec, WorkflowSpec
from codeagent.tools.errors import ConfigError

__all__ = ["png_renderer", "to_dot", "to_mermaid", "write_png"]

_START, _END = "__start__", "__end__"


def to_mermaid(spec: WorkflowSpec) -> str:
    """The workflow as a Mermaid flowchart; bounded branches show ``max N`` on their edge."""
    lines = ["flowchart TD", f"    {_START}([START])"]
    for node_id, node in spec.nodes.items():
        label = f"{_text(node_id)}<br/>({_text(node.kind)})"
        lines.append(f'    {_ident(node_id)}["{label}"]')
    lines.append(f"    {_END}([END])")
    lines.append(f"    {_START} --> {_ident(spec.entry_node)}")
    for edge in spec.edges:
        for label, target in _labelled(edge):
            arrow = f'-->|"{_text(label)}"|' if label else "-->"
            lines.append(f"    {_ident(edge.source)} {arrow} {_ident(target)}")
    return "\n".join(lines) + "\n"


def to_dot(spec: WorkflowSpec) -> str:
    """The workflow as a Graphviz DOT graph (same labels as :func:`to_mermaid`)."""
    lines = [f'digraph "{_quoted(spec.name)}" {{', "    rankdir=TB;", "    node [shape=box];"]
    lines.append(f'    {_START} [label="START", shape=oval];')
    for node_id, node in spec.nodes.items():
        label = f"{_quoted(node_id)}\\n({_quoted(node.kind)})"
        lines.append(f'    {_ident(node_id)} [label="{label}"];')
    lines.append(f'    {_END} [label="END", shape=oval];')
    lines.append(f"    {_START} -> {_ident(spec.entry_node)};")
    for edge in spec.edges:
        for label, target in _labelled(edge):
            attrs = f' [label="{_quoted(label)}"]' if label else ""
            lines.append(f"    {_ident(edge.source)} -> {_ident(target)}{attrs};")
    return "\n".join([*lines, "}"]) + "\n"


def png_renderer() -> str | None:
    """The offline PNG renderer found on PATH (``mmdc`` or ``dot``), or None."""
    for program in ("mmdc", "dot"):
        if shutil.which(program):
            return program
    return None


def write_png(spec: WorkflowSpec, out: Path, timeout_s: float = 60) -> str:
    """Render the workflow to a PNG file with a local renderer.

    Returns:
        The renderer used (``mmdc`` or ``dot``).

    Raises:
        ConfigError: When no renderer is installed or it fails.
    """
    program = png_renderer()
    if program is None:
        raise ConfigError(
            "cannot draw a PNG: no offline renderer found (neither 'mmdc' nor 'dot' is installed)",
            hint=(
                "install Graphviz (apt-get install graphviz) or mermaid-cli "
                "(npm install -g @mermaid-js/mermaid-cli), or paste the Mermaid text of "
                "'codeagent graph FILE' into a Mermaid viewer"
            ),
        )
    with tempfile.TemporaryDirectory() as tmp:
        if program == "mmdc":
            source = Path(tmp) / "graph.mmd"
            source.write_text(to_mermaid(spec), encoding="utf-8")
            cmd = ["mmdc", "-i", str(source), "-o", str(out)]
        else:
            source = Path(tmp) / "graph.dot"
            source.write_text(to_dot(spec), encoding="utf-8")
            cmd = ["dot", "-Tpng", str(source), "-o", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"{program} could not draw the PNG: {exc}") from None
    if proc.returncode != 0 or not out.is_file():
        raise ConfigError(
            f"{program} could not draw the PNG: {proc.stderr.strip()[-500:]}",
            hint="check the output path is writable",
        )
    return program


def _labelled(edge: EdgeSpec) -> list[tuple[str, str]]:
    if edge.to is not None:
        return [("", edge.to)]
    out = []
    for outcome, target in edge.branches.items():
        label = outcome if target.max is None else f"{outcome} (max {target.max})"
        out.append((label, target.to))
    return out


def _ident(node_id: str) -> str:
    if node_id == END:
        return _END
    safe = re.sub(r"\W", "_", node_id)
    return f"n_{safe}"


def _text(value: str) -> str:
    return value.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
